"""The vote store, on SQLite and on a real PostgreSQL: round trip, idempotent votes, provenance."""

import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from musicgen.listening import REAL, TIE, StudySpec, TrialRecord, VoteStore, default_db_url, votes_csv

PAIR = StudySpec.from_dict({"id": "pairs", "systems": ["m1", "m2", "real"], "trials_per_participant": 3})
GAME = StudySpec.from_dict({"id": "game", "kind": "identify", "systems": ["m1", "real"]})


def make_trial(study="pairs", participant="p1", number=1, kind="pair", a=("m1", 11), b=("m2", 22)):
    return TrialRecord(token=secrets.token_urlsafe(16), study_id=study, participant_id=participant, number=number,
                       kind=kind, system_a=a[0], seed_a=a[1], settings_a={"temperature": 0.9, "seconds": 5.0},
                       system_b=b[0] if b else None, seed_b=b[1] if b else None,
                       settings_b={"piece": "bwv1", "seconds": 5.0} if b else None, soundfont="Test.sf2",
                       sample_rate=22050, served_at=datetime.now(UTC))


def test_studies_round_trip_and_conflicts(store):
    store.save_study(PAIR)
    store.save_study(PAIR)  # same spec again: no-op
    store.save_study(GAME)
    assert store.get_study("pairs") == PAIR and store.get_study("game") == GAME
    assert store.study_ids() == ["game", "pairs"] and store.studies() == [GAME, PAIR]
    changed = StudySpec.from_dict({**PAIR.to_dict(), "question": "Which is nicer?"})
    with pytest.raises(ValueError, match="already exists"):
        store.save_study(changed)
    store.save_study(changed, replace=True)
    assert store.get_study("pairs").question == "Which is nicer?"
    with pytest.raises(KeyError, match="no study 'nope'"):
        store.get_study("nope")


def test_vote_round_trip_keeps_full_provenance(store):
    store.save_study(PAIR)
    trial = store.insert_trial(make_trial())
    assert store.get_trial(trial.token) == trial
    vote = store.record_vote(trial.token, "B", comment="  lovely  ", response_seconds=4.5)
    assert not vote.duplicate
    assert (vote.system_a, vote.seed_a, vote.system_b, vote.seed_b) == ("m1", 11, "m2", 22)
    assert vote.settings_a == trial.settings_a and vote.settings_b == trial.settings_b
    assert (vote.answer, vote.winner, vote.comment, vote.response_seconds) == ("B", "m2", "lovely", 4.5)
    assert vote.soundfont == "Test.sf2" and vote.participant_id == "p1" and vote.study_id == "pairs"
    assert vote.served_at == trial.served_at and vote.voted_at >= trial.served_at
    assert vote.voted_at.tzinfo is not None
    [stored] = store.votes("pairs")
    assert stored == vote
    tie = store.record_vote(store.insert_trial(make_trial(number=2)).token, "none")
    assert tie.winner == TIE and tie.response_seconds >= 0  # measured server-side when not given
    assert store.vote_count("pairs") == 2 and store.vote_count() == 2
    csv = votes_csv(store.votes("pairs"))
    header, first = csv.splitlines()[:2]
    assert "system_a" in header and "seed_b" in header and "soundfont" in header and "voted_at" in header
    assert "m1" in first and "11" in first and "lovely" in first and '""piece"": ""bwv1""' in first


def test_double_submit_records_once(store):
    store.save_study(PAIR)
    trial = store.insert_trial(make_trial())
    first = store.record_vote(trial.token, "A")
    again = store.record_vote(trial.token, "A")
    changed_mind = store.record_vote(trial.token, "B", comment="oops")
    assert again.duplicate and changed_mind.duplicate and not first.duplicate
    assert again.id == first.id == changed_mind.id and changed_mind.answer == "A"
    assert store.vote_count() == 1


def test_bad_votes_are_refused(store):
    store.save_study(PAIR)
    store.save_study(GAME)
    trial = store.insert_trial(make_trial())
    with pytest.raises(ValueError, match="answer must be one of A, B, none"):
        store.record_vote(trial.token, "person")
    with pytest.raises(KeyError, match="unknown trial token"):
        store.record_vote("no-such-token", "A")
    single = store.insert_trial(make_trial(study="game", kind="identify", b=None))
    with pytest.raises(ValueError, match="person, machine"):
        store.record_vote(single.token, "A")
    assert store.vote_count() == 0


def test_identify_votes_know_if_they_were_right(store):
    store.save_study(GAME)
    real = store.insert_trial(make_trial(study="game", kind="identify", a=(REAL, 3), b=None))
    model = store.insert_trial(make_trial(study="game", number=2, kind="identify", b=None))
    assert store.record_vote(real.token, "person").correct is True
    v = store.record_vote(model.token, "person")
    assert v.correct is False and v.winner is None and v.system_b is None


def test_a_taken_trial_slot_returns_the_stored_trial(store):
    store.save_study(PAIR)
    first = store.insert_trial(make_trial())
    second = store.insert_trial(make_trial())  # same study, participant and number: a concurrent rerun
    assert second == first
    assert [t.token for t, voted in store.participant_trials("pairs", "p1")] == [first.token]


def test_counts_by_pair(store):
    store.save_study(PAIR)
    for n, (a, b) in enumerate([("m1", "m2"), ("m2", "m1"), ("m1", REAL)], start=1):
        t = store.insert_trial(make_trial(number=n, a=(a, n), b=(b, n)))
        if n < 3:
            store.record_vote(t.token, "A")
    assert store.system_counts("pairs") == {("m1", "m2"): (2, 2), ("m1", REAL): (0, 1)}


def test_side_secret_is_stable_and_shared(db_url):
    one, two = VoteStore(db_url), VoteStore(db_url)
    try:
        assert one.side_secret() == two.side_secret() and len(one.side_secret()) == 32
    finally:
        one.close()
        two.close()


def test_default_store_is_a_wal_sqlite_file_under_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "somewhere"))
    assert default_db_url() == f"sqlite:///{tmp_path / 'somewhere' / 'listening.sqlite'}"
    store = VoteStore()
    try:
        assert (tmp_path / "somewhere" / "listening.sqlite").exists()
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    finally:
        store.close()
    monkeypatch.setenv("MUSICGEN_DB_URL", "postgresql://u:secret@db.example/votes")
    assert default_db_url() == "postgresql://u:secret@db.example/votes"


def test_postgres_urls_use_psycopg3_and_hide_passwords():
    from musicgen.listening.store import _normalise_url

    assert _normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert _normalise_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert _normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_a_racing_duplicate_hits_the_unique_constraint_and_gets_the_first_vote(store, monkeypatch):
    store.save_study(PAIR)
    trial = store.insert_trial(make_trial())
    first = store.record_vote(trial.token, "A")
    real_get_vote = store.get_vote
    calls = []

    def stale_get_vote(token):  # the second submit checked before the first one was committed
        calls.append(token)
        return None if len(calls) == 1 else real_get_vote(token)

    monkeypatch.setattr(store, "get_vote", stale_get_vote)
    again = store.record_vote(trial.token, "B")
    assert again.duplicate and again.id == first.id and again.answer == "A"
    assert store.vote_count() == 1


def test_a_vote_survives_its_process_dying_right_after(store, db_url):
    import multiprocessing as mp
    import os

    store.save_study(PAIR)
    token = store.insert_trial(make_trial()).token

    def vote_and_die():
        VoteStore(db_url).record_vote(token, "B")
        os._exit(9)  # no close, no clean-up: as if the app server were killed

    child = mp.get_context("fork").Process(target=vote_and_die)
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 9
    assert store.get_vote(token).answer == "B"


def test_a_store_from_before_listen_seconds_gains_the_column_and_keeps_its_votes(db_url):
    old = VoteStore(db_url)
    old.save_study(PAIR)
    first = old.insert_trial(make_trial())
    old.record_vote(first.token, "A")
    with old.engine.begin() as conn:  # as a store made before the column existed
        conn.execute(text("ALTER TABLE votes DROP COLUMN listen_seconds"))
    old.close()
    store = VoteStore(db_url)  # opening it adds the column in place
    assert store.get_vote(first.token).listen_seconds is None and store.vote_count() == 1
    second = store.insert_trial(make_trial(participant="p2"))
    assert store.record_vote(second.token, "B", listen_seconds=[5.04, 7.5]).listen_seconds == [5.04, 7.5]
    assert '"[5.04, 7.5]"' in votes_csv(store.votes("pairs"))
    store.close()
