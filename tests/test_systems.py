"""Systems and their clips: one function makes every clip, one cache holds every model."""

import dataclasses
import shlex

import pytest

from musicgen import systems
from musicgen.checkpoints import CheckpointError, load_checkpoint
from musicgen.cli import main
from musicgen.midi import to_midi_bytes
from musicgen.sampling import SamplingError
from musicgen.sequence import Note, NoteSequence, opening
from musicgen.systems import Request, make_clip


@pytest.fixture
def toy_home(toy_checkpoints, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(toy_checkpoints["lstm"].parent))
    systems.clear_model_cache()
    yield toy_checkpoints["lstm"].parent
    systems.clear_model_cache()


def test_command_reproduces_the_notes(toy_home, tmp_path):
    req = Request(model="toy-lstm", seed=42, temperature=0.8, length="8s", top_k=20, top_p=0.9)
    seq = make_clip(req)
    out = tmp_path / "again.mid"
    argv = shlex.split(req.command(out=str(out)))
    assert argv[:4] == ["python", "-m", "musicgen", "generate"]
    assert main(argv[3:]) == 0
    assert out.read_bytes() == to_midi_bytes(seq)


def test_make_clip_is_the_loaded_models_sample(toy_home):
    req = Request(model="toy-lstm", seed=3, length="6s")
    direct = systems.sample_checkpoint(load_checkpoint("toy-lstm"), req)
    assert to_midi_bytes(make_clip(req)) == to_midi_bytes(direct)


def test_one_model_in_memory_per_checkpoint(toy_home):
    first = systems.load_system_model("toy-lstm")
    assert systems.load_system_model("toy-lstm") is first
    make_clip(Request(model="toy-lstm", seed=1, length="4s"))
    assert systems.load_system_model("toy-lstm") is first  # make_clip used the same cached model


def test_a_retrained_checkpoint_is_loaded_again(toy_home):
    first = systems.load_system_model("toy-lstm")
    card = toy_home / "toy-lstm" / "card.json"
    card.write_text(card.read_text() + "\n")  # same content, new size and time: a new version on disk
    second = systems.load_system_model("toy-lstm")
    assert second is not first
    assert sum(1 for key in systems._cache if key[0].endswith("toy-lstm")) == 1  # the old one is dropped


def test_a_stored_trial_refuses_changed_weights(toy_home):
    with pytest.raises(CheckpointError, match="changed since"):
        make_clip(Request(model="toy-lstm", seed=1, length="4s"), expect_weights="0" * 64)


def test_unknown_system_lists_the_known_ones(toy_home):
    with pytest.raises(systems.UnknownSystemError, match="toy-lstm"):
        make_clip(Request(model="nope"))


def test_default_request_uses_the_cards_defaults(toy_home):
    system = systems.get_system("toy-lstm")
    d = system.card.sampling.defaults
    req = systems.default_request(system, seed=5)
    assert (req.temperature, req.top_k, req.top_p, req.length, req.seed) == (d.temperature, d.top_k, d.top_p,
                                                                             d.length, 5)


def test_real_system_clip_is_a_held_out_opening(toy_home):
    corpus = "toy"
    ids = systems.heldout_ids(corpus)
    system = systems.get_system(systems.real_system_id(corpus))
    assert system.is_real and system.corpus == corpus
    for seed in range(len(ids) + 1):
        clip = make_clip(Request(model="real:toy", seed=seed, length="3s"))
        piece = systems.heldout_piece(corpus, ids[seed % len(ids)])
        assert clip.notes == opening(piece, 3.0).notes
        assert clip.meta_dict()["piece"] == piece.name


def test_real_system_continues_only_a_held_out_primer(toy_home):
    piece = systems.heldout_ids("toy")[0]
    clip = make_clip(Request(model="real:toy", seed=99, length="5s", primer=f"test:{piece}"))
    assert clip.meta_dict()["piece"] == piece
    with pytest.raises(ValueError, match="upload"):
        make_clip(Request(model="real:toy", primer="file:x.mid"), upload=clip)


def test_primer_from_a_held_out_piece(toy_home):
    piece = systems.heldout_ids("toy")[0]
    req = Request(model="toy-lstm", seed=2, length="6s", primer=f"test:{piece}", primer_seconds=2.0)
    primer = systems.resolve_primer(req, "toy")
    clip = make_clip(req)
    assert clip.notes[:len(primer)] == primer.notes
    with pytest.raises(ValueError, match="held-out"):
        make_clip(dataclasses.replace(req, primer="test:not-a-piece"))


def test_request_validation():
    with pytest.raises(SamplingError):
        Request(model="x", temperature=50).validate()
    with pytest.raises(SamplingError):
        Request(model="x", length="forever").validate()


def test_opening_starts_at_first_note():
    seq = NoteSequence(notes=tuple(Note(start=2.0 + i, end=2.5 + i, pitch=60 + i) for i in range(10)))
    head = opening(seq, 3.0)
    assert [n.start for n in head.notes] == [0.0, 1.0, 2.0]
