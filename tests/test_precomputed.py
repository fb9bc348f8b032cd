"""Clips computed ahead: looked up only for exactly the request they were made for, and equal to fresh ones."""

import gzip
import logging

import pytest

from musicgen import precomputed, systems
from musicgen.checkpoints import checkpoint_folder, load_checkpoint
from musicgen.cli import main
from musicgen.midi import to_midi_bytes
from musicgen.sequence import Note, NoteSequence
from musicgen.systems import Request, make_clip

SETTINGS = precomputed.settings_of(temperature=1.0, top_k=None, top_p=None, length="30s")


@pytest.fixture
def toy_home(toy_checkpoints, monkeypatch, copy_checkpoint):
    folder = copy_checkpoint(toy_checkpoints["lstm"])  # a copy: the session's toy checkpoint stays clean
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(folder.parent))
    systems.clear_model_cache()
    yield folder
    systems.clear_model_cache()


def test_json_round_trip_keeps_every_float_exactly(tmp_path):
    seq = NoteSequence(notes=(Note(pitch=60, velocity=33, start=0.1 + 0.2, end=1 / 3),
                              Note(pitch=127, velocity=1, start=2.0000000000000004, end=2.5)),
                       qpm=97.3, program=5, name="x → y").with_meta(a="1", b="é")
    precomputed.write(tmp_path, weights_sha256="w", settings=SETTINGS, clips={7: seq})
    back = precomputed.lookup(tmp_path, weights_sha256="w", seed=7, settings=SETTINGS)
    assert back == seq and back.meta == seq.meta and back.name == seq.name
    assert [(n.start, n.end) for n in back.notes] == [(n.start, n.end) for n in seq.notes]


def test_only_the_exact_request_is_looked_up(tmp_path):
    seq = NoteSequence(notes=(Note(pitch=60, start=0.0, end=1.0),))
    precomputed.write(tmp_path, weights_sha256="w", settings=SETTINGS, clips={0: seq})
    assert precomputed.lookup(tmp_path, weights_sha256="w", seed=0, settings=SETTINGS) == seq
    assert precomputed.lookup(tmp_path, weights_sha256="w", seed=1, settings=SETTINGS) is None
    assert precomputed.lookup(tmp_path, weights_sha256="other", seed=0, settings=SETTINGS) is None
    for changed in ({"temperature": 0.9}, {"top_k": 5}, {"top_p": 0.9}, {"length": "20s"}):
        assert precomputed.lookup(tmp_path, weights_sha256="w", seed=0, settings={**SETTINGS, **changed}) is None


def test_a_damaged_file_is_ignored_with_a_warning(tmp_path, caplog):
    (tmp_path / precomputed.FILE).write_bytes(b"not gzip at all")
    with caplog.at_level(logging.WARNING, logger="musicgen.precomputed"):
        assert precomputed.lookup(tmp_path, weights_sha256="w", seed=0, settings=SETTINGS) is None
    assert "ignoring precomputed clips" in caplog.text
    (tmp_path / precomputed.FILE).write_bytes(gzip.compress(b'{"format_version": 99, "clips": {}}'))
    assert precomputed.lookup(tmp_path, weights_sha256="w", seed=0, settings=SETTINGS) is None


def test_precompute_command_stores_clips_that_make_clip_returns_unchanged(toy_home, capsys):
    assert main(["precompute", "toy-lstm", "--seeds", "2:4", "--length", "6s"]) == 0
    assert "2 clips" in capsys.readouterr().out
    card = load_checkpoint("toy-lstm").card
    settings, count = precomputed.stored_seeds(toy_home)
    assert count == 2 and settings["length"] == "6s"
    request = Request(model="toy-lstm", seed=3, length="6s", temperature=settings["temperature"])
    stored = precomputed.lookup(toy_home, weights_sha256=card.weights_sha256, seed=3, settings=settings)
    assert stored is not None
    fresh = make_clip(request, use_precomputed=False)
    assert to_midi_bytes(make_clip(request)) == to_midi_bytes(fresh) == to_midi_bytes(stored)
    assert make_clip(request).meta == fresh.meta
    # a primer, another seed or another setting is made as usual
    assert make_clip(Request(model="toy-lstm", seed=4, length="6s")) == make_clip(
        Request(model="toy-lstm", seed=4, length="6s"), use_precomputed=False)


def test_precompute_refuses_bad_seeds_and_non_models(toy_home, capsys):
    assert main(["precompute", "toy-lstm", "--seeds", "x"]) == 2
    assert "--seeds must be" in capsys.readouterr().err
    assert main(["precompute", "real:bach-chorales", "--seeds", "2"]) == 2
    assert "not a checkpoint" in capsys.readouterr().err


SHIPPED_WITH_CLIPS = ("D-classifier-ascent", "transformer", "transformer-large", "A-lstm", "B-lstm", "D-lstm-vae")


@pytest.mark.parametrize("checkpoint_id", SHIPPED_WITH_CLIPS)
def test_shipped_precomputed_clips_equal_fresh_ones(checkpoint_id):
    """The shipped file is only a shortcut: two of its seeds, made again now, give the same notes and bytes."""
    folder = checkpoint_folder(checkpoint_id)
    settings, count = precomputed.stored_seeds(folder)
    assert count >= 32, f"checkpoints/{checkpoint_id}/clips.json.gz is missing: run `musicgen precompute`"
    card = load_checkpoint(checkpoint_id).card
    defaults = systems.default_request(systems.get_system(checkpoint_id), length=settings["length"])
    assert settings == precomputed.settings_of(temperature=defaults.temperature, top_k=defaults.top_k,
                                               top_p=defaults.top_p, length="30s")  # what Generate asks first
    for seed in (0, count - 1):
        request = Request(model=checkpoint_id, seed=seed, temperature=settings["temperature"],
                          top_k=settings["top_k"], top_p=settings["top_p"], length=settings["length"])
        stored = precomputed.lookup(folder, weights_sha256=card.weights_sha256, seed=seed, settings=settings)
        assert stored is not None, "the shipped clips were made from other weights: run `musicgen precompute` again"
        fresh = make_clip(request, use_precomputed=False)
        assert stored == fresh and stored.meta == fresh.meta
        assert to_midi_bytes(make_clip(request)) == to_midi_bytes(fresh)
