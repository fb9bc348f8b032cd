"""Study kinds with ratings (mos, mushra), criteria and the participant flow in the store, on SQLite and PostgreSQL:
ratings stored once with the vote, read back for the statistics, old stores migrated in place."""

import secrets
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from musicgen.listening import REAL, StudyError, StudySpec, TrialRecord, VoteStore
from musicgen.listening import flow, headphones
from musicgen.listening.schedule import practice_heard
from musicgen.listening.study import load_study

MOS = StudySpec.from_dict({"id": "mos", "kind": "mos", "systems": ["m1", "real"],
                           "criteria": ["musical", {"name": "coherent", "question": "Does it hang together?"}]})
MUSHRA = StudySpec.from_dict({"id": "mu", "kind": "mushra", "systems": ["m1", "m2", "real"]})
PAIRS = StudySpec.from_dict({"id": "pc", "systems": ["m1", "m2"], "criteria": ["musical", "human-like"]})


def trial(spec, clips, participant="p1", number=1):
    (sa, seed_a), rest = clips[0], clips[1:]
    settings = {"seconds": 5.0}
    return TrialRecord(token=secrets.token_urlsafe(16), study_id=spec.id, participant_id=participant, number=number,
                       kind=spec.kind, system_a=sa, seed_a=seed_a, settings_a=settings,
                       system_b=rest[0][0] if rest else None, seed_b=rest[0][1] if rest else None,
                       settings_b=settings if rest else None, soundfont="Test.sf2", sample_rate=22050,
                       served_at=datetime.now(UTC),
                       more_clips=[[s, seed, settings] for s, seed in rest[1:]] or None)


def test_study_files_for_each_kind_are_valid():
    for name, kind in (("example", "pair"), ("identify", "identify"), ("mos", "mos"), ("mushra", "mushra")):
        spec = load_study(Path(__file__).resolve().parents[2] / "studies" / f"{name}.toml")
        assert spec.kind == kind and StudySpec.from_dict(spec.to_dict()) == spec


def test_criteria_and_flow_options_are_validated():
    assert [c.name for c in MOS.rating_criteria] == ["musical", "coherent"]
    assert MOS.rating_criteria[0].question == "How musical is this clip?"
    assert MOS.rating_criteria[1].question == "Does it hang together?"
    assert [c.name for c in MUSHRA.rating_criteria] == ["overall"] and MUSHRA.clips_per_trial == 3
    base = {"id": "x", "kind": "mushra", "systems": ["a", "b", "c"]}
    assert StudySpec.from_dict({**base, "mushra_clips": 2}).clips_per_trial == 2
    for bad, message in (({"mushra_clips": 4}, "mushra_clips"), ({"criteria": ["a", "a"]}, "listed twice"),
                         ({"criteria": ["Bad Name"]}, r"criteria\[0\].name"),
                         ({"headphone_check": "maybe"}, "headphone_check"),
                         ({"practice_trials": 11}, "practice_trials"),
                         ({"completion_code": "no spaces"}, "completion_code"),
                         ({"questionnaire": [{"id": "q", "text": "Q", "type": "choice", "options": ["x"]}]},
                          "options"),
                         ({"questionnaire": [{"id": "q", "text": "Q", "type": "date"}]}, "type"),
                         ({"systems": ["a"]}, "at least two")):
        with pytest.raises(StudyError, match=message):
            StudySpec.from_dict({**base, **bad})
    with pytest.raises(StudyError, match="identify study asks one question"):
        StudySpec.from_dict({"id": "g", "kind": "identify", "systems": ["m", REAL], "criteria": ["x"]})


def test_mos_ratings_are_stored_once_with_their_systems(store):
    store.save_study(MOS)
    t = store.insert_trial(trial(MOS, [("m1", 7)]))
    with pytest.raises(ValueError, match="one list per criterion"):
        store.record_vote(t.token, ratings={"musical": [4]})
    with pytest.raises(ValueError, match="whole number from 1 to 5"):
        store.record_vote(t.token, ratings={"musical": [4.5], "coherent": [3]})
    with pytest.raises(ValueError, match="1 clips"):
        store.record_vote(t.token, ratings={"musical": [4, 5], "coherent": [3]})
    assert store.ratings("mos") == [] and store.vote_count("mos") == 0  # nothing half-stored
    vote = store.record_vote(t.token, ratings={"musical": [4], "coherent": [2]}, listen_seconds=[6.04])
    assert vote.answer == "rated" and not vote.duplicate and vote.winner is None and vote.correct is None
    again = store.record_vote(t.token, ratings={"musical": [1], "coherent": [1]})
    assert again.duplicate
    rows = store.ratings("mos")
    assert [(r["participant"], r["trial"], r["position"], r["system"], r["seed"], r["criterion"], r["value"],
             r["listen_seconds"]) for r in rows] == [("p1", 1, 0, "m1", 7, "musical", 4.0, 6.04),
                                                     ("p1", 1, 0, "m1", 7, "coherent", 2.0, 6.04)]
    assert {r["study"] for r in rows} == {"mos"} and all(r["created"].tzinfo is not None for r in rows)


def test_mushra_ratings_follow_the_screen_order(store):
    store.save_study(MUSHRA)
    t = store.insert_trial(trial(MUSHRA, [("real", 3), ("m2", 11), ("m1", 5)]))
    assert store.get_trial(t.token).clips == [("real", 3, {"seconds": 5.0}), ("m2", 11, {"seconds": 5.0}),
                                              ("m1", 5, {"seconds": 5.0})]
    with pytest.raises(ValueError, match="from 0 to 100"):
        store.record_vote(t.token, ratings={"overall": [10, 101, 50]})
    store.record_vote(t.token, ratings={"overall": [90, 20.5, 55]}, listen_seconds=[5, 6, 7])
    rows = store.ratings("mu")
    assert [(r["position"], r["system"], r["value"], r["listen_seconds"]) for r in rows] == [
        (0, "real", 90.0, 5.0), (1, "m2", 20.5, 6.0), (2, "m1", 55.0, 7.0)]
    assert store.votes("mu")[0].more_clips == [["m1", 5, {"seconds": 5.0}]]


def test_pair_with_several_criteria_takes_one_answer_each(store):
    store.save_study(PAIRS)
    t = store.insert_trial(trial(PAIRS, [("m2", 2), ("m1", 1)]))
    with pytest.raises(ValueError, match="one per criterion"):
        store.record_vote(t.token, answers={"musical": "A"})
    with pytest.raises(ValueError, match="takes an answer, not ratings"):
        store.record_vote(t.token, "A", ratings={"musical": [1, 2], "human-like": [1, 2]})
    vote = store.record_vote(t.token, answers={"human-like": "none", "musical": "B"})
    assert vote.answer == "B" and vote.winner == "m1" and vote.answers == {"musical": "B", "human-like": "none"}


def test_participant_steps_are_stored_and_resume(store):
    spec = StudySpec.from_dict({"id": "flow", "kind": "mos", "systems": ["m1"], "headphone_check": "required",
                                "questionnaire": [{"id": "years", "text": "Years of training", "type": "number",
                                                   "min": 0, "max": 80},
                                                  {"id": "hand", "text": "Hand", "type": "choice",
                                                   "options": ["left", "right"], "required": False}],
                                "practice_trials": 1, "completion_code": "auto"})
    store.save_study(spec)
    assert flow.step(store, spec, "p") == "consent"
    flow.give_consent(store, spec, "p")
    assert flow.step(store, spec, "p") == "headphones"
    key = headphones.answer_key(store.side_secret(), "flow", "p")
    assert key == headphones.answer_key(store.side_secret(), "flow", "p") and set(key) <= {1, 2, 3}
    result = flow.record_headphones(store, spec, "p", key[:5] + [key[5] % 3 + 1])  # five of six right: a pass
    assert result == flow.HeadphoneResult(5, 6, True)
    assert flow.record_headphones(store, spec, "p", [1] * 6) == result  # once only
    assert flow.step(store, spec, "p") == "questionnaire"
    assert flow.record_questionnaire(store, spec, "p", {"years": 99}) == ["Years of training: a number from 0 to 80, "
                                                                          "please"]
    assert flow.record_questionnaire(store, spec, "p", {"years": 12, "hand": None}) == []
    assert store.participant("flow", "p")["questionnaire"] == {"years": 12, "hand": None}
    assert flow.step(store, spec, "p") == "practice"
    store.update_participant("flow", "p", practice=[{"token": "t", "answer": "rated", "clips": [["m1", 42]]}])
    assert flow.step(store, spec, "p") == "trials" and store.vote_count("flow") == 0
    assert practice_heard(store, "flow", "p") == {("m1", 42)}  # no real trial plays a practice clip again
    code = flow.completion_code(store, spec, "p")
    assert len(code) == 10 and flow.completion_code_ok(store, "flow", "p", code.lower())
    assert not flow.completion_code_ok(store, "flow", "q", code)
    assert store.participant("flow", "p")["completed_at"] is not None

    flow.give_consent(store, spec, "loud")
    key = headphones.answer_key(store.side_secret(), "flow", "loud")
    assert not flow.record_headphones(store, spec, "loud", [k % 3 + 1 for k in key]).passed
    assert flow.step(store, spec, "loud") == flow.SCREENED_OUT
    flagged = StudySpec.from_dict({**spec.to_dict(), "headphone_check": "flag"})
    assert flow.step(store, flagged, "loud") == "questionnaire"  # flagged, and on they go


def test_headphone_tones_are_what_woods_et_al_describe():
    ref, anti, quiet = (headphones.tone(k) for k in headphones.TONES)
    rms = lambda x: float((x ** 2).mean() ** 0.5)  # noqa: E731
    assert rms(ref[:, 0]) == pytest.approx(rms(anti[:, 0])) and (anti[:, 1] == -anti[:, 0]).all()
    assert 20 * __import__("math").log10(rms(quiet) / rms(ref)) == pytest.approx(-6.0, abs=0.01)
    assert abs(ref.sum(axis=1)).max() > 0.5 and abs(anti.sum(axis=1)).max() < 1e-12  # cancels on speakers
    wav = headphones.trial_audio(b"k" * 32, "s", "p", 0)
    assert wav[:4] == b"RIFF" and int.from_bytes(wav[22:24], "little") == 2  # stereo


def test_an_old_sqlite_store_is_migrated_in_place(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE studies (id VARCHAR(64) PRIMARY KEY, spec JSON NOT NULL, created_at DATETIME NOT NULL);
        CREATE TABLE trials (token VARCHAR(64) PRIMARY KEY, study_id VARCHAR(64) NOT NULL, participant_id VARCHAR(64)
            NOT NULL, number INTEGER NOT NULL, kind VARCHAR(16) NOT NULL, system_a VARCHAR(128) NOT NULL, seed_a INTEGER
            NOT NULL, settings_a JSON NOT NULL, system_b VARCHAR(128), seed_b INTEGER, settings_b JSON, soundfont
            VARCHAR(256) NOT NULL, sample_rate INTEGER NOT NULL, served_at DATETIME NOT NULL);
        CREATE TABLE votes (id INTEGER PRIMARY KEY, trial_token VARCHAR(64) NOT NULL UNIQUE, study_id VARCHAR(64)
            NOT NULL, participant_id VARCHAR(64) NOT NULL, number INTEGER NOT NULL, kind VARCHAR(16) NOT NULL,
            system_a VARCHAR(128) NOT NULL, seed_a INTEGER NOT NULL, settings_a JSON NOT NULL, system_b VARCHAR(128),
            seed_b INTEGER, settings_b JSON, soundfont VARCHAR(256) NOT NULL, sample_rate INTEGER NOT NULL,
            answer VARCHAR(16) NOT NULL, winner VARCHAR(128), correct BOOLEAN, comment TEXT, response_seconds FLOAT,
            served_at DATETIME NOT NULL, voted_at DATETIME NOT NULL);
        INSERT INTO studies VALUES ('old', '{"id": "old", "systems": ["m1", "m2"]}', '2026-01-01 00:00:00');
        INSERT INTO trials VALUES ('tok', 'old', 'p', 1, 'pair', 'm1', 1, '{}', 'm2', 2, '{}', 'sf', 22050,
            '2026-01-01 00:00:00');
        INSERT INTO votes (trial_token, study_id, participant_id, number, kind, system_a, seed_a, settings_a, system_b,
            seed_b, settings_b, soundfont, sample_rate, answer, winner, served_at, voted_at) VALUES ('tok', 'old', 'p',
            1, 'pair', 'm1', 1, '{}', 'm2', 2, '{}', 'sf', 22050, 'A', 'm1', '2026-01-01 00:00:00',
            '2026-01-01 00:01:00');
    """)
    db.commit()
    db.close()
    store = VoteStore(f"sqlite:///{path}")
    try:
        [old] = store.votes("old")
        assert old.answer == "A" and old.answers is None and old.more_clips is None and old.listen_seconds is None
        assert store.ratings("old") == [] and store.participant("old", "p") is None
        assert flow.step(store, store.get_study("old"), "p") == "trials"  # had trials: resumes there
        store.save_study(MUSHRA)
        t = store.insert_trial(trial(MUSHRA, [("m1", 1), ("m2", 2), ("real", 0)]))
        store.record_vote(t.token, ratings={"overall": [1, 2, 3]})
        assert len(store.ratings("mu")) == 3
    finally:
        store.close()
