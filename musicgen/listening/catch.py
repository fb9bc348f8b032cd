"""Catch trials (attention checks): a pair whose right answer is known, to find participants who do not listen.

A study with ``catch_rate = 0.1`` makes that share of each participant's trials (rounded, at least one when
the rate is above 0; never the first trial) a pair of one held-out piece against the same piece with its
pitches scrambled (`clips.scramble_pitches`: same rhythm, every pitch drawn at random within the piece's
range). In a continuation study both clips keep the shared opening and only the continuation is scrambled.
The right answer to "which is more musical?" is the unscrambled clip; it is stored with the trial
(`catch_answer`, "A" or "B"), and the vote's `correct` says whether it was chosen. Nothing on the page tells
a catch trial from another pair: the same labels, the same question, clips made and encoded the same way.

Which trials are catch trials is drawn per participant from the store's secret (`catch_numbers`), so a
reload or a second process agrees and nobody can predict them. Catch trials are screening, not comparisons:
the statistics leave them out (`is_catch`), and `catch_scores` gives each participant's score for the
study's exclusion rule (``max_catch_fail_share``: a participant who fails a larger share is left out).
"""

from __future__ import annotations

import hashlib
import hmac
import random

from sqlalchemy import case, func, select

from musicgen.listening.schema import TrialRecord, votes
from musicgen.listening.store import VoteStore
from musicgen.listening.study import StudySpec

BROKEN = "scrambled pitches"  # what a catch trial's wrong clip is, as its settings say (`broken`)


def catch_count(spec: StudySpec) -> int:
    """How many of a participant's trials are catch trials: catch_rate x trials, rounded half up, at least one
    when the rate is above 0, and never every trial (the first is always a real one)."""
    if spec.kind != "pair" or not spec.catch_rate or spec.trials_per_participant < 2:
        return 0
    n = int(spec.catch_rate * spec.trials_per_participant + 0.5)
    return min(spec.trials_per_participant - 1, max(1, n))


def catch_numbers(secret: bytes, spec: StudySpec, participant_id: str) -> frozenset[int]:
    """The trial numbers (1-based) that are this participant's catch trials: drawn among 2..trials from an HMAC
    of the store's secret, so every process agrees and the page cannot know."""
    k = catch_count(spec)
    if k == 0:
        return frozenset()
    digest = hmac.new(secret, f"catch:{spec.id}:{participant_id}".encode(), hashlib.sha256).digest()
    rng = random.Random(int.from_bytes(digest, "big"))
    return frozenset(rng.sample(range(2, spec.trials_per_participant + 1), k))


def is_catch(record: TrialRecord) -> bool:
    """A catch trial (or its vote): screening, never counted in the systems' statistics."""
    return getattr(record, "catch_answer", None) is not None


def without_catch(records: list) -> list:
    """The trials or votes that compare systems (catch trials left out)."""
    return [r for r in records if not is_catch(r)]


def catch_scores(store: VoteStore, study_id: str) -> list[tuple[str, int, int]]:
    """(participant_id, catch trials answered, answered right) for every participant of a study who answered at
    least one catch trial, by participant id."""
    q = (select(votes.c.participant_id, func.count(), func.sum(case((votes.c.correct.is_(True), 1), else_=0)))
         .where(votes.c.study_id == study_id, votes.c.catch_answer.is_not(None))
         .group_by(votes.c.participant_id).order_by(votes.c.participant_id))
    with store.engine.connect() as conn:
        return [(pid, int(n), int(right or 0)) for pid, n, right in conn.execute(q)]


def failed(spec: StudySpec, n_catch: int, n_correct: int) -> bool:
    """Whether a participant's catch score leaves them out by the study's rule: a failed share above
    `max_catch_fail_share` (no catch trials: never)."""
    return n_catch > 0 and (n_catch - n_correct) / n_catch > spec.max_catch_fail_share
