"""Scheduling and blinding: what the page gets, balance of pairs, no repeated clips, reveal after the vote."""

import dataclasses
import io
from collections import Counter

import pytest
import soundfile

from musicgen import listening as L
from musicgen.listening import schedule
from musicgen.listening.schedule import next_trial

PAGE_FIELDS = {"token", "study_id", "kind", "number", "total", "question", "labels", "answers", "audio", "mime"}


@pytest.fixture
def sqlite_store(tmp_path):
    store = L.VoteStore(f"sqlite:///{tmp_path / 'votes.sqlite'}")
    yield store
    store.close()


def study(store, **fields):
    spec = L.StudySpec.from_dict({"id": "s", "systems": ["toy-markov", "real"], "trials_per_participant": 1,
                                  "clip": {"seconds": 3}, **fields})
    return store.save_study(spec)


def test_page_gets_two_blind_identical_format_clips(checkpoints_env, sqlite_store):
    study(sqlite_store)
    trial = L.prepare_trial(sqlite_store, "s", "p1")
    assert {f.name for f in dataclasses.fields(trial)} == PAGE_FIELDS  # a new field must pass this review
    assert (trial.kind, trial.number, trial.total, trial.labels, trial.answers) == ("pair", 1, 1, ("A", "B"),
                                                                                   ("A", "B", "none"))
    record = sqlite_store.get_trial(trial.token)
    model_seed = record.seed_a if record.system_a != L.REAL else record.seed_b  # 0..2**31: long enough to search
    secrets_ = {record.system_a, record.system_b, str(model_seed), record.soundfont, "toy",
                record.settings_a.get("piece") or record.settings_b.get("piece")}
    page_text = repr(dataclasses.replace(trial, audio=()))
    for s in secrets_:
        assert s not in page_text
        assert all(s.encode() not in clip for clip in trial.audio)
    decoded = [soundfile.info(io.BytesIO(clip)) for clip in trial.audio]
    assert decoded[0].frames == decoded[1].frames > 0 and decoded[0].samplerate == decoded[1].samplerate
    assert decoded[0].duration <= 3.0 + 0.1  # + the MP3 lead-in and last frame (no Info tag)
    # constant-bitrate MP3: equal length → equal byte count, so file size says nothing about the system
    assert len(trial.audio[0]) == len(trial.audio[1])
    assert trial.mime == "audio/mpeg" and not any(clip.startswith(b"ID3") for clip in trial.audio)
    assert L.prepare_trial(sqlite_store, "s", "p1") == trial  # a rerun shows the same trial, same bytes
    with pytest.raises(PermissionError):
        L.reveal(sqlite_store, trial.token)
    vote = L.submit_vote(sqlite_store, trial.token, "A")
    assert L.reveal(sqlite_store, trial.token) == vote
    assert vote.winner == record.system_a and L.prepare_trial(sqlite_store, "s", "p1") is None
    notes = L.clip_notes(vote.system_b, vote.seed_b, vote.settings_b)
    assert len(notes) > 0 and L.describe_system(L.REAL)["title"]


def test_identify_trial_is_one_clip_and_keeps_a_score(checkpoints_env, sqlite_store):
    study(sqlite_store, kind="identify", trials_per_participant=2)
    score = 0
    for n in (1, 2):
        trial = L.prepare_trial(sqlite_store, "s", "p1")
        assert (trial.labels, trial.answers, len(trial.audio), trial.number) == (("clip",), ("person", "machine"),
                                                                                 1, n)
        vote = L.submit_vote(sqlite_store, trial.token, "person")
        score += vote.correct
    summary = L.participant_summary(sqlite_store, "s", "p1")
    assert summary.answered == 2 and summary.correct == score == 1  # one real piece, one model clip
    assert L.progress(sqlite_store, "s", "p1").done


def test_sides_come_from_the_secret_and_the_token():
    flips = [schedule._flip(b"k" * 32, f"token{i}") for i in range(400)]
    assert 150 < sum(flips) < 250
    assert flips != [schedule._flip(b"j" * 32, f"token{i}") for i in range(400)]


def test_pairs_stay_balanced_and_both_orders_are_used(checkpoints_env, sqlite_store):
    study(sqlite_store, systems=["toy-markov", "toy-markov1", "toy-copy"], trials_per_participant=5)
    orders = Counter()
    for p in range(6):
        while (record := next_trial(sqlite_store, "s", f"p{p}")) is not None:
            orders[record.system_a < record.system_b] += 1
            sqlite_store.record_vote(record.token, "A")
    counts = sqlite_store.system_counts("s")
    assert sorted(counts) == [("toy-copy", "toy-markov"), ("toy-copy", "toy-markov1"), ("toy-markov", "toy-markov1")]
    assert {v for v, _ in counts.values()} == {10}  # 30 votes, 3 pairs, fewest-first: exactly 10 each
    assert min(orders.values()) >= 5  # A/B order is randomised, not always sorted


def test_each_participant_meets_every_pair_once_whatever_the_others_did(checkpoints_env, sqlite_store):
    # Participants who leave after one trial skew the study's counts; balancing on those alone gave the
    # next participant a pair twice and another never (a CI run of the browser test caught it).
    study(sqlite_store, systems=["toy-markov", "toy-markov1", "toy-copy"], trials_per_participant=3)
    for round_ in range(6):
        left_early = next_trial(sqlite_store, "s", f"left{round_}")
        sqlite_store.record_vote(left_early.token, "A")
        pairs = []
        while (record := next_trial(sqlite_store, "s", f"full{round_}")) is not None:
            pairs.append(tuple(sorted((record.system_a, record.system_b))))
            sqlite_store.record_vote(record.token, "B")
        assert len(pairs) == len(set(pairs)) == 3, pairs


def test_a_participant_never_hears_a_clip_twice(checkpoints_env, sqlite_store, monkeypatch):
    monkeypatch.setattr("musicgen.listening.clips._MODEL_SEEDS", 4)  # 4 clips per model: all must be used
    study(sqlite_store, systems=["toy-markov", "toy-markov1"], trials_per_participant=4)
    heard = []
    while (record := next_trial(sqlite_store, "s", "p1")) is not None:
        heard += [(record.system_a, record.seed_a), (record.system_b, record.seed_b)]
        sqlite_store.record_vote(record.token, "none")
    assert len(heard) == 8 and len(set(heard)) == 8


def test_running_out_of_real_pieces_is_an_error_not_a_repeat(checkpoints_env, sqlite_store):
    study(sqlite_store, trials_per_participant=2)  # the toy corpus holds out one piece
    L.submit_vote(sqlite_store, next_trial(sqlite_store, "s", "p1").token, "A")
    with pytest.raises(L.StudyExhausted):
        next_trial(sqlite_store, "s", "p1")


def test_identify_studies_alternate_person_and_machine(checkpoints_env, sqlite_store):
    study(sqlite_store, kind="identify", systems=["toy-markov", "toy-markov1", "real"], trials_per_participant=2)
    kinds = Counter()
    for p in range(8):
        mine = []
        while (record := next_trial(sqlite_store, "s", f"p{p}")) is not None:
            mine.append(record.system_a == L.REAL)
            sqlite_store.record_vote(record.token, "machine")
        assert sorted(mine) == [False, True]
        kinds.update(mine)
    assert kinds[True] == kinds[False] == 8


def test_a_closed_study_refuses_new_trials_but_keeps_served_ones(checkpoints_env, sqlite_store):
    study(sqlite_store, trials_per_participant=1)
    served = next_trial(sqlite_store, "s", "on-screen")
    sqlite_store.close_study("s")
    sqlite_store.close_study("s")  # closing twice is harmless
    assert sqlite_store.is_closed("s")
    with pytest.raises(L.StudyClosed):
        next_trial(sqlite_store, "s", "newcomer")
    assert next_trial(sqlite_store, "s", "on-screen").token == served.token  # the trial on screen still counts
    assert L.submit_vote(sqlite_store, served.token, "A").answer == "A"
    with pytest.raises(KeyError):
        sqlite_store.close_study("no-such-study")
