"""musicgen.listening.live: rounds a presenter plays, phones voting in a countdown, each vote counted once."""

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from musicgen import listening as L
from musicgen.listening import live


def live_study(store, systems=("toy-markov", "toy-markov1"), kind="pair"):
    return store.save_study(L.StudySpec.from_dict({"id": "room", "systems": list(systems), "kind": kind,
                                                   "clip": {"seconds": 3}}))


def test_a_round_from_listening_to_reveal(checkpoints_env, store):
    live_study(store)
    code = live.join_code(store, "room")
    assert len(code) == 6 and set(code) <= set(live.CODE_ALPHABET) and code == live.join_code(store, "room")
    assert live.study_for_code(store, f" {code[:3].lower()} {code[3:]}").id == "room"
    assert live.study_for_code(store, "ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY") is None
    assert live.round_state(store, "room") is None

    first = live.start_round(store, "room")
    state = live.round_state(store, "room")
    assert (state.number, state.phase, state.counts, state.systems) == (1, live.LISTENING, {"A": 0, "B": 0, "none": 0},
                                                                        ())
    with pytest.raises(live.LiveVoteError, match="not opened"):
        live.cast_vote(store, "room", "phone-1", 1, "A")
    live.open_voting(store, "room", 1, seconds=60)
    answers = ["A", "A", "B", "none", "A"]
    for i, answer in enumerate(answers):
        assert not live.cast_vote(store, "room", f"phone-{i}", 1, answer).duplicate
    again = live.cast_vote(store, "room", "phone-0", 1, "B")  # a second tap counts once, as first given
    assert again.duplicate and again.answer == "A" and live.phone_vote(store, "room", "phone-0", 1) == "A"
    state = live.round_state(store, "room")
    assert state.phase == live.VOTING and 55 < state.seconds_left <= 60 and state.systems == ()
    assert state.counts == {"A": 3, "B": 1, "none": 1} and state.total == 5

    live.reveal_round(store, "room", 1)
    state = live.round_state(store, "room")
    played = store.get_trial(first.token)
    assert state.phase == live.REVEALED and state.systems == (played.system_a, played.system_b)
    with pytest.raises(live.LiveVoteError, match="revealed"):
        live.cast_vote(store, "room", "phone-9", 1, "A")
    votes = store.votes("room")  # the room's votes are ordinary votes on the round's clips
    assert len(votes) == 5 and {(v.system_a, v.seed_a, v.system_b, v.seed_b) for v in votes} == {
        (played.system_a, played.seed_a, played.system_b, played.seed_b)}
    assert sum(p.n for p in L.study_results(store, "room").pairs) == 5


def test_votes_close_with_the_countdown_and_a_new_round_closes_the_last(checkpoints_env, store):
    live_study(store)
    live.start_round(store, "room")
    opened = live.open_voting(store, "room", 1, seconds=10)
    assert live.phase(opened, now=opened.closes_at - timedelta(seconds=1)) == live.VOTING
    assert live.phase(opened, now=opened.closes_at) == live.CLOSED
    store.update_round("room", 1, closes_at=opened.voting_from)  # the countdown ran out
    with pytest.raises(live.LiveVoteError, match="closed"):
        live.cast_vote(store, "room", "phone-1", 1, "A")
    with pytest.raises(live.LiveVoteError, match="seconds"):
        live.open_voting(store, "room", 1, seconds=1)
    second = live.start_round(store, "room")
    assert second.number == 2 and live.round_state(store, "room").phase == live.LISTENING
    with pytest.raises(live.LiveVoteError, match="no round 7"):
        live.cast_vote(store, "room", "phone-1", 7, "A")


def test_twenty_phones_voting_at_once_are_each_counted_once(checkpoints_env, store):
    live_study(store)
    live.start_round(store, "room")
    live.open_voting(store, "room", 1, seconds=120)
    phones = [f"phone-{i}" for i in range(20)]
    chosen = {p: ("A", "B", "none")[i % 3] for i, p in enumerate(phones)}
    errors, start = [], threading.Barrier(40)

    def vote(phone):
        start.wait()
        try:
            live.cast_vote(store, "room", phone, 1, chosen[phone])
        except Exception as e:  # noqa: BLE001 — collected and reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=vote, args=(p,)) for p in phones * 2]  # every phone taps twice
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.vote_count("room") == 20
    expected = {a: sum(1 for v in chosen.values() if v == a) for a in ("A", "B", "none")}
    assert live.round_state(store, "room").counts == expected


def test_rounds_cover_every_pair_and_identify_rounds_work(checkpoints_env, store):
    live_study(store, systems=("toy-markov", "toy-markov1", "toy-copy"))
    pairs = set()
    for number in (1, 2, 3):
        played = store.get_trial(live.start_round(store, "room").token)
        pairs.add(tuple(sorted((played.system_a, played.system_b))))
    assert len(pairs) == 3  # the presenter's rounds, like a participant's trials, meet each pair once

    store.save_study(replace(L.StudySpec.from_dict({"id": "game", "kind": "identify",
                                                     "systems": ["toy-markov", "real"]})))
    live.start_round(store, "game")
    live.open_voting(store, "game", 1, seconds=30)
    vote = live.cast_vote(store, "game", "phone-1", 1, "machine")
    assert vote.correct == (vote.system_a != L.REAL)
    assert live.round_state(store, "game").counts == {"person": 0, "machine": 1}
    with pytest.raises(ValueError, match="answer must be"):
        live.cast_vote(store, "game", "phone-2", 1, "A")
