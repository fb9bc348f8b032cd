"""A live audience vote: a presenter plays a blind pair (or one clip, "person or machine?") to a room, and
the room votes on its phones within a countdown.

A live session is an ordinary study (kind pair or identify) run in rounds, so Results has its statistics:

* `start_round` schedules the round's trial for the presenter (balanced over the study's pairs like any
  participant's trial) and stores a `LiveRound`; the presenter plays its blinded audio (`trial_audio`).
* `open_voting` starts the countdown; `reveal_round` ends voting at once and allows the reveal.
* `cast_vote` stores a phone's vote as that phone's own copy of the round's trial (same systems, seeds
  and sides) plus its vote: one slot per phone and round in the trials table, one vote per trial token,
  so a phone that taps twice, or two taps racing, count once.
* `round_state` is what a screen polls: the phase, seconds left, the tally, and (only once revealed) what
  was played. Nothing in it names a system before the reveal.

Phones find the study by a short join code (`join_code`): derived from the store's secret, so it cannot
be guessed from the study id, and stable, so a printed QR code keeps working.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from musicgen.listening.schedule import new_participant_id, schedule_trial
from musicgen.listening.schema import utc
from musicgen.listening.store import ANSWERS, LiveRound, Vote, VoteStore
from musicgen.listening.study import StudySpec

PRESENTER = "presenter"  # the participant id of the rounds' own trials (never votes)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud and typed on a phone
CODE_LENGTH = 6
VOTE_SECONDS = (5, 300)  # the countdown's allowed range
LISTENING, VOTING, CLOSED, REVEALED = "listening", "voting", "closed", "revealed"


class LiveVoteError(ValueError):
    """A vote or a presenter step that cannot happen now; the message says why in words for the page."""


@dataclass(frozen=True)
class RoundState:
    """What the big screen and the phones show. `systems` is empty until the presenter reveals."""

    number: int
    kind: str
    phase: str  # listening | voting | closed | revealed
    seconds_left: float
    counts: dict[str, int]  # answer -> votes, every answer of the kind present
    systems: tuple[str, ...] = ()  # A's system (and B's), after the reveal only

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def join_code(store: VoteStore, study_id: str) -> str:
    """The short code phones type (or the QR code carries) to join a study's live vote."""
    digest = hmac.new(store.side_secret(), f"live:{study_id}".encode(), hashlib.sha256).digest()
    return "".join(CODE_ALPHABET[b % len(CODE_ALPHABET)] for b in digest[:CODE_LENGTH])


def study_for_code(store: VoteStore, code: str) -> StudySpec | None:
    """The study a join code belongs to (case and spaces forgiven); None for a wrong code."""
    wanted = "".join(str(code or "").split()).upper()
    if len(wanted) != CODE_LENGTH:
        return None
    for study_id in store.study_ids():
        if hmac.compare_digest(join_code(store, study_id), wanted):
            return store.get_study(study_id)
    return None


def start_round(store: VoteStore, study_id: str, *, soundfont: str | None = None) -> LiveRound:
    """A new round after the latest one (which stops taking votes); listening until `open_voting`."""
    spec = store.get_study(study_id)
    if spec.kind not in ANSWERS:
        raise LiveVoteError(f"a live vote needs a pair or identify study, not {spec.kind!r}")
    latest = store.get_round(study_id)
    now = datetime.now(UTC)
    if latest is not None and (latest.closes_at is None or utc(latest.closes_at) > now):
        store.update_round(study_id, latest.number, closes_at=now)
    number = 1 if latest is None else latest.number + 1
    earlier = [r for r, _ in store.participant_trials(study_id, PRESENTER)]
    record = store.insert_trial(schedule_trial(store, spec, PRESENTER, number, earlier, soundfont))
    live_round = LiveRound(study_id=study_id, number=number, token=record.token, opened_at=now)
    if not store.insert_round(live_round):  # a second presenter click raced this one: theirs stands
        return store.get_round(study_id, number)
    return live_round


def open_voting(store: VoteStore, study_id: str, number: int, seconds: float) -> LiveRound:
    """Start the countdown of a round: phones may vote for `seconds` from now."""
    if not VOTE_SECONDS[0] <= seconds <= VOTE_SECONDS[1]:
        raise LiveVoteError(f"the countdown must be {VOTE_SECONDS[0]}-{VOTE_SECONDS[1]} seconds, not {seconds:g}")
    live_round = _round(store, study_id, number)
    if live_round.revealed_at is not None:
        raise LiveVoteError(f"round {number} is already revealed; start the next round")
    now = datetime.now(UTC)
    store.update_round(study_id, number, voting_from=now, closes_at=now + timedelta(seconds=seconds))
    return store.get_round(study_id, number)


def reveal_round(store: VoteStore, study_id: str, number: int) -> LiveRound:
    """End a round's voting now (if still open) and allow its systems to be shown."""
    live_round = _round(store, study_id, number)
    now = datetime.now(UTC)
    closes = now if live_round.closes_at is None else min(utc(live_round.closes_at), now)
    store.update_round(study_id, number, closes_at=closes, revealed_at=live_round.revealed_at or now)
    return store.get_round(study_id, number)


def cast_vote(store: VoteStore, study_id: str, phone_id: str, number: int, answer: str) -> Vote:
    """Store one phone's vote in a round (once: a repeat returns the stored vote with duplicate=True).
    Raises LiveVoteError when the round is not taking votes."""
    live_round = _round(store, study_id, number)
    if phase(live_round) != VOTING:
        raise LiveVoteError({LISTENING: "Voting has not opened yet: listen first.",
                             CLOSED: "Voting for this round has closed.",
                             REVEALED: "This round has been revealed; wait for the next one."}[phase(live_round)])
    if phone_id == PRESENTER:
        raise LiveVoteError("the presenter's own trials never vote")
    played = store.get_trial(live_round.token)
    mine = store.insert_trial(replace(played, token=secrets.token_urlsafe(16), participant_id=phone_id,
                                      served_at=utc(live_round.voting_from)))
    return store.record_vote(mine.token, answer)


def phone_vote(store: VoteStore, study_id: str, phone_id: str, number: int) -> str | None:
    """The answer this phone gave in a round, or None."""
    for record, voted in store.participant_trials(study_id, phone_id):
        if record.number == number and voted:
            return store.get_vote(record.token).answer
    return None


def round_state(store: VoteStore, study_id: str, number: int | None = None) -> RoundState | None:
    """The latest round (or round `number`) as the screens show it; None before the first round."""
    live_round = store.get_round(study_id, number)
    if live_round is None:
        return None
    spec = store.get_study(study_id)
    counts = {a: 0 for a in ANSWERS[spec.kind]} | store.answer_counts(study_id, live_round.number)
    now_phase = phase(live_round)
    left = 0.0
    if now_phase == VOTING:
        left = max(0.0, (utc(live_round.closes_at) - datetime.now(UTC)).total_seconds())
    systems: tuple[str, ...] = ()
    if now_phase == REVEALED:
        played = store.get_trial(live_round.token)
        systems = tuple(s for s, _, _ in played.clips)
    return RoundState(number=live_round.number, kind=spec.kind, phase=now_phase, seconds_left=left, counts=counts,
                      systems=systems)


def phase(live_round: LiveRound, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    if live_round.revealed_at is not None:
        return REVEALED
    if live_round.voting_from is None:
        return LISTENING
    return VOTING if now < utc(live_round.closes_at) else CLOSED


def new_phone_id() -> str:
    return "phone-" + new_participant_id()


def _round(store: VoteStore, study_id: str, number: int) -> LiveRound:
    live_round = store.get_round(study_id, number)
    if live_round is None:
        raise LiveVoteError(f"there is no round {number} in this live vote")
    return live_round
