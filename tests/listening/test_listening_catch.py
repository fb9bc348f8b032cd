"""Catch trials: a held-out piece against its pitch-scrambled copy, at the study's rate, answer known and kept
on the server."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from musicgen import listening as L
from musicgen.listening import catch, clips
from musicgen.listening.schedule import next_trial
from musicgen.listening.study import StudyError
from tests.listening.pieces import pieces_corpus  # noqa: F401 (a fixture)

PAGE_FIELDS = {"token", "study_id", "kind", "number", "total", "question", "labels", "answers", "audio", "mime"}


@pytest.fixture
def sqlite_store(tmp_path):
    s = L.VoteStore(f"sqlite:///{tmp_path / 'votes.sqlite'}")
    yield s
    s.close()


def catch_study(store, corpus, **fields):
    spec = L.StudySpec.from_dict({"id": "c", "systems": ["toy-markov", "toy-markov1"], "corpus": corpus,
                                  "trials_per_participant": 4, "catch_rate": 0.25, "clip": {"seconds": 3},
                                  **fields})
    return store.save_study(spec)


def test_catch_trials_come_at_the_rate_and_never_first(checkpoints_env, pieces_corpus, sqlite_store):
    spec = catch_study(sqlite_store, pieces_corpus)
    assert catch.catch_count(spec) == 1
    where = []
    for p in range(6):
        records = []
        while (record := next_trial(sqlite_store, "c", f"p{p}")) is not None:
            records.append(record)
            sqlite_store.record_vote(record.token, "A")
        caught = [r.number for r in records if catch.is_catch(r)]
        assert len(records) == 4 and len(caught) == 1 and caught[0] != 1
        assert set(caught) == set(catch.catch_numbers(sqlite_store.side_secret(), spec, f"p{p}"))
        where += caught
    assert len(set(where)) > 1  # drawn per participant, not always the same slot
    none = catch_study(sqlite_store, pieces_corpus, id="c0", catch_rate=0)
    assert catch.catch_count(none) == 0 and catch.catch_numbers(b"k", none, "p") == frozenset()
    assert catch.catch_count(dataclasses.replace(spec, catch_rate=0.1, trials_per_participant=10)) == 1
    assert catch.catch_count(dataclasses.replace(spec, catch_rate=0.5, trials_per_participant=2)) == 1


def test_the_answer_is_known_stored_and_scored(checkpoints_env, pieces_corpus, sqlite_store):
    spec = catch_study(sqlite_store, pieces_corpus, catch_rate=0.5)  # 2 of 4
    record = None
    while (r := next_trial(sqlite_store, "c", "p1")) is not None:
        if catch.is_catch(r):
            record = r
            break
        sqlite_store.record_vote(r.token, "A")
    assert record is not None and record.catch_answer in ("A", "B")
    assert sqlite_store.get_trial(record.token).catch_answer == record.catch_answer  # kept in the trials table
    right, wrong = (record.settings_a, record.settings_b) if record.catch_answer == "A" else \
        (record.settings_b, record.settings_a)
    assert not right.get("broken") and wrong["broken"] == catch.BROKEN and right["piece"] == wrong["piece"]
    good, bad = clips.clip_notes(L.REAL, record.seed_a, right), clips.clip_notes(L.REAL, record.seed_a, wrong)
    assert [n.start for n in good.notes] == [n.start for n in bad.notes] and good.pitches != bad.pitches
    vote = sqlite_store.record_vote(record.token, record.catch_answer)
    assert vote.correct is True and vote.catch_answer == record.catch_answer
    while (r := next_trial(sqlite_store, "c", "p1")) is not None:  # the other catch trial: answered wrong
        sqlite_store.record_vote(r.token, ("B" if r.catch_answer == "A" else "A") if catch.is_catch(r) else "A")
    assert catch.catch_scores(sqlite_store, "c") == [("p1", 2, 1)]
    assert catch.failed(spec, 2, 1) and not catch.failed(spec, 4, 3) and not catch.failed(spec, 0, 0)
    votes = sqlite_store.votes("c")
    assert len(catch.without_catch(votes)) == 2  # what the systems' statistics count
    results = L.study_results(sqlite_store, "c")
    assert sum(r.n for r in results.pairs) == 2 and all(r.a != r.b for r in results.pairs)
    assert all(t.vote.catch_answer is None for t in L.participant_summary(sqlite_store, "c", "p1").trials)


def test_a_catch_trial_looks_like_any_other_pair_on_the_page(checkpoints_env, pieces_corpus, sqlite_store):
    catch_study(sqlite_store, pieces_corpus, catch_rate=0.5, trials_per_participant=2)
    L.submit_vote(sqlite_store, L.prepare_trial(sqlite_store, "c", "p1").token, "A")
    trial = L.prepare_trial(sqlite_store, "c", "p1")
    record = sqlite_store.get_trial(trial.token)
    assert catch.is_catch(record)
    assert {f.name for f in dataclasses.fields(trial)} == PAGE_FIELDS
    page = repr(dataclasses.replace(trial, audio=()))
    for secret in ("catch", "broken", "scrambled", record.settings_a["piece"]):
        assert secret not in page
    assert trial.labels == ("A", "B") and trial.answers == ("A", "B", "none")
    assert len(trial.audio) == 2 and len(trial.audio[0]) == len(trial.audio[1])
    assert not any(b"catch" in clip or b"scrambl" in clip for clip in trial.audio)


def test_catch_options_are_checked():
    base = {"id": "x", "systems": ["a", "real"]}
    assert L.StudySpec.from_dict(base).catch_rate == 0
    with pytest.raises(StudyError, match="catch_rate"):
        L.StudySpec.from_dict({**base, "catch_rate": 0.9})
    with pytest.raises(StudyError, match="catch_rate: catch trials .* pair studies, not identify"):
        L.StudySpec.from_dict({**base, "kind": "identify", "catch_rate": 0.1})
    with pytest.raises(StudyError, match="max_catch_fail_share"):
        L.StudySpec.from_dict({**base, "max_catch_fail_share": 2})
    spec = L.StudySpec.from_dict({**base, "catch_rate": 0.1, "max_catch_fail_share": 0.5})
    assert L.StudySpec.from_dict(spec.to_dict()) == spec


def test_an_older_store_gains_the_catch_column_in_place(db_url):
    spec = L.StudySpec.from_dict({"id": "old", "systems": ["a", "b"]})
    old = L.VoteStore(db_url)
    old.save_study(spec)
    trial = L.TrialRecord(token="t1", study_id="old", participant_id="p", number=1, kind="pair", system_a="a",
                          seed_a=1, settings_a={}, system_b="b", seed_b=2, settings_b={}, soundfont="sf",
                          sample_rate=22050, served_at=datetime.now(UTC))
    old.insert_trial(trial)
    old.record_vote("t1", "A")
    with old.engine.begin() as conn:  # as a store made before catch trials existed
        conn.execute(text("ALTER TABLE votes DROP COLUMN catch_answer"))
        conn.execute(text("ALTER TABLE trials DROP COLUMN catch_answer"))
    old.close()
    store = L.VoteStore(db_url)  # opening it adds the columns back, empty
    assert store.get_trial("t1").catch_answer is None and store.get_vote("t1").catch_answer is None
    store.insert_trial(dataclasses.replace(trial, token="t2", number=2, catch_answer="B"))
    assert store.record_vote("t2", "B").correct is True
    assert catch.catch_scores(store, "old") == [("p", 1, 1)]
    store.close()
