"""Continuation trials (clip.primer = "heldout"): every clip of a trial continues one held-out opening."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from musicgen import listening as L
from musicgen.audio import Clip, match_clips
from musicgen.listening import bank, clips
from musicgen.listening.schedule import next_trial
from musicgen.listening.study import StudyError, load_study
from musicgen.systems import heldout_piece
from tests.listening.pieces import pieces_corpus  # noqa: F401 (a fixture)


@pytest.fixture
def store(tmp_path):
    s = L.VoteStore(f"sqlite:///{tmp_path / 'votes.sqlite'}")
    yield s
    s.close()


def continuation(store, corpus, **fields):
    spec = L.StudySpec.from_dict({"id": "cont", "systems": ["toy-markov", "toy-markov1", "real"], "corpus": corpus,
                                  "trials_per_participant": 3,
                                  "clip": {"seconds": 6, "primer": "heldout", "primer_seconds": 2.1}, **fields})
    return store.save_study(spec)


def _split(seq):
    cut = float(seq.meta_dict()["primer_end"])
    return cut, [n for n in seq.notes if n.start < cut], [n for n in seq.notes if n.start >= cut]


def test_every_clip_of_a_trial_begins_with_the_same_opening(checkpoints_env, pieces_corpus, store):
    continuation(store, pieces_corpus)
    seen = set()
    for _ in range(3):
        record = next_trial(store, "cont", "p1")
        notes = [clips.clip_notes(s, seed, settings) for s, seed, settings in record.clips]
        (cut_a, head_a, rest_a), (cut_b, head_b, rest_b) = map(_split, notes)
        assert cut_a == cut_b >= 2.1 and head_a == head_b and len(head_a) > 0  # the first seconds: note for note
        assert rest_a and rest_b and min(n.start for n in rest_a + rest_b) >= cut_a
        piece_id = record.settings_a["primer"].removeprefix("test:")
        assert record.settings_b["primer"] == record.settings_a["primer"]
        piece = heldout_piece(pieces_corpus, piece_id)
        assert tuple(head_a) == clips.primer_notes(piece, cut_a).notes  # the piece's own opening
        seen.add(piece_id)
        store.record_vote(record.token, "A")
    assert len(seen) == 3  # a participant never hears the same opening twice


def test_the_real_clip_is_the_pieces_true_continuation(checkpoints_env, pieces_corpus, store):
    spec = continuation(store, pieces_corpus)
    settings = clips.clip_settings(spec, L.REAL, 1, primer=1)
    seq = clips.clip_notes(L.REAL, 1, settings)
    cut, head, rest = _split(seq)
    piece = heldout_piece(pieces_corpus, settings["piece"])
    first = piece.notes[0].start
    truth = [n for n in piece.slice_time(first, first + 6).notes if n.start >= cut]
    assert rest == truth and settings["piece"] == settings["primer"].removeprefix("test:")
    with pytest.raises(ValueError, match="primer piece"):
        clips.clip_settings(spec, "toy-markov", 5)  # a continuation clip always names its opening


def test_the_bank_keys_a_continuation_by_its_opening(checkpoints_env, pieces_corpus, store):
    spec = continuation(store, pieces_corpus)
    one, two = (clips.clip_settings(spec, "toy-markov", 7, primer=p) for p in (0, 1))
    assert one["primer"] != two["primer"]
    assert bank.clip_key("toy-markov", 7, one, "sf", 22050) != bank.clip_key("toy-markov", 7, two, "sf", 22050)


def test_a_continuation_trial_plays_one_length_and_the_opening_at_one_level(checkpoints_env, pieces_corpus, store):
    continuation(store, pieces_corpus, trials_per_participant=1)
    trial = L.prepare_trial(store, "cont", "p1")
    assert len(trial.audio) == 2 and len(trial.audio[0]) == len(trial.audio[1])
    a, b = (soundfile.read(io.BytesIO(x), dtype="float32")[0] for x in trial.audio)
    assert len(a) == len(b)
    head = int(1.5 * 22050)  # well inside the shared opening
    assert np.sqrt(np.mean((a[:head] - b[:head]) ** 2)) < 0.05 * np.sqrt(np.mean(a[:head] ** 2))


def test_one_gain_keeps_a_shared_opening_identical():
    rng = np.random.default_rng(0)
    opening = (0.1 * rng.standard_normal(22050)).astype(np.float32)
    quiet = np.concatenate([opening, 0.01 * rng.standard_normal(22050).astype(np.float32)])
    loud = np.concatenate([opening, 0.3 * rng.standard_normal(22050).astype(np.float32)])
    x, y = match_clips([Clip(quiet, 22050, "t"), Clip(loud, 22050, "t")], fade=0.1, gain_from_seconds=1.0)
    assert np.array_equal(x.samples[:22050], y.samples[:22050]) and np.max(np.abs(y.samples)) <= 0.98 + 1e-6


def test_systems_that_cannot_continue_are_refused_by_name(tmp_path, store):
    """Shipped checkpoints: GANs make each piece from noise; classifier ascent rewrites its primer."""
    data = {"id": "bad", "systems": ["A-gan", "D-classifier-ascent", "A-lstm", "real"],
            "clip": {"primer": "heldout"}}
    spec = L.StudySpec.from_dict(data)
    with pytest.raises(StudyError, match=r"A-gan \(a gan-lstm makes each piece from noise alone\).*"
                                         r"D-classifier-ascent \(a classifier-ascent rewrites"):
        store.save_study(spec)
    path = tmp_path / "bad.toml"
    path.write_text('id = "bad"\nsystems = ["A-gan", "A-lstm", "real"]\n[clip]\nprimer = "heldout"\n')
    with pytest.raises(StudyError, match=r"bad.toml: clip.primer = \"heldout\": A-gan .* remove them"):
        load_study(path)
    ok = L.StudySpec.from_dict({**data, "systems": ["A-lstm", "markov", "real"]})
    assert ok.cannot_continue() == [] and store.save_study(ok) == ok
    assert L.StudySpec.from_dict({**data, "clip": {"primer": "none"}}).cannot_continue() == []


def test_primer_options_are_checked():
    base = {"id": "x", "systems": ["a", "real"]}
    with pytest.raises(StudyError, match="clip.primer"):
        L.StudySpec.from_dict({**base, "clip": {"primer": "upload"}})
    with pytest.raises(StudyError, match="clip.primer_seconds"):
        L.StudySpec.from_dict({**base, "clip": {"seconds": 10, "primer": "heldout", "primer_seconds": 10}})
    spec = L.StudySpec.from_dict({**base, "clip": {"seconds": 10, "primer": "heldout", "primer_seconds": 4}})
    assert (spec.clip.primer, spec.clip.primer_seconds) == ("heldout", 4.0)
    assert L.StudySpec.from_dict(spec.to_dict()) == spec


def test_every_shipped_study_file_loads_and_the_continuation_one_continues():
    from pathlib import Path

    studies = {p.stem: load_study(p) for p in sorted((Path(__file__).parents[2] / "studies").glob("*.toml"))}
    assert {"example", "continuation"} <= set(studies)
    cont = studies["continuation"]
    assert cont.clip.primer == "heldout" and cont.catch_rate > 0 and cont.cannot_continue() == []


def test_a_banked_continuation_study_serves_whole_openings_from_the_bank(checkpoints_env, pieces_corpus, store,
                                                                           monkeypatch):
    from musicgen.listening import schedule

    monkeypatch.setenv("MUSICGEN_CLIP_BANK", "2")
    pool = bank.reset_pool(1)
    spec = continuation(store, pieces_corpus, trials_per_participant=2, catch_rate=0.5)
    for f in bank.top_up(store, spec, sample_rate=schedule.SAMPLE_RATE):
        f.result(timeout=120)
    by_system = {s: {c["settings"]["primer_seed"] for c in store.banked_clips("cont", s)} for s in spec.systems}
    assert len(set(map(frozenset, by_system.values()))) == 1  # the same openings for every system
    served = []
    while (trial := L.prepare_trial(store, "cont", "p1")) is not None:
        record = store.get_trial(trial.token)
        assert len({settings["primer"] for _, _, settings in record.clips}) == 1
        served.append(record)
        assert pool.wait_idle(120)
        L.submit_vote(store, trial.token, "A")
    assert [r.catch_answer is not None for r in served] == [False, True]  # the second is the catch trial
    first = served[0]
    assert first.settings_a["primer_seed"] in by_system[L.REAL]  # a banked opening was preferred
    assert len({r.settings_a["primer_seed"] for r in served}) == 2  # never the same opening twice


def test_a_practice_trials_opening_is_not_heard_again(checkpoints_env, pieces_corpus, store):
    from musicgen.listening import flow, schedule

    spec = continuation(store, pieces_corpus, practice_trials=1)
    practice = flow.practice_trial(store, spec, "p1")
    flow.record_practice(store, spec, "p1", practice, answer="A")
    heard = schedule.practice_heard(store, "cont", "p1")
    opening = {seed for system, seed in heard if system == L.REAL}
    assert len(opening) == 1
    for _ in range(3):  # the toy corpus holds four openings: the three trials use the other three
        record = next_trial(store, "cont", "p1")
        assert record.settings_a["primer_seed"] not in opening
        store.record_vote(record.token, "A")
