"""The store's tables and the records read from them (SQLAlchemy Core; see store.py for the engine).

`trials` is the server-side blinding map (token -> system, seed and settings per side); `votes` copies its
trial's provenance, so the votes table alone is the full record of a study.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    LargeBinary,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

RATED = "rated"  # the answer of a mos/mushra vote: its values are in `ratings`, one row per clip and criterion
ANSWERS = {"pair": ("A", "B", "none"), "identify": ("person", "machine"), "mos": (RATED,), "mushra": (RATED,)}
ACR_LABELS = {5: "Excellent", 4: "Good", 3: "Fair", 2: "Poor", 1: "Bad"}  # ITU-T P.808 absolute category rating
MOS_RANGE = (1, 5)  # whole numbers
MUSHRA_RANGE = (0.0, 100.0)
TIE = "tie"
MAX_COMMENT = 2000

metadata = MetaData()
studies = Table("studies", metadata,
                Column("id", String(64), primary_key=True),
                Column("spec", JSON, nullable=False),
                Column("created_at", DateTime(timezone=True), nullable=False))
closed_studies = Table("closed_studies", metadata,  # the organiser closed it: no new trials, results final
                       Column("study_id", String(64), ForeignKey("studies.id"), primary_key=True),
                       Column("closed_at", DateTime(timezone=True), nullable=False))
meta = Table("meta", metadata, Column("key", String(64), primary_key=True), Column("value", Text, nullable=False))


def _sides() -> list[Column]:
    """The provenance columns shared by trials and votes (new Column objects for each table)."""
    return [Column("system_a", String(128), nullable=False), Column("seed_a", Integer, nullable=False),
            Column("settings_a", JSON, nullable=False), Column("system_b", String(128)), Column("seed_b", Integer),
            Column("settings_b", JSON), Column("soundfont", String(256), nullable=False),
            Column("sample_rate", Integer, nullable=False),
            Column("more_clips", JSON),  # mushra: the clips after A and B, [system, seed, settings] each
            Column("catch_answer", String(16))]  # a catch trial: the right answer (never sent to the page); else NULL


trials = Table("trials", metadata,
               Column("token", String(64), primary_key=True),
               Column("study_id", String(64), ForeignKey("studies.id"), nullable=False, index=True),
               Column("participant_id", String(64), nullable=False),
               Column("number", Integer, nullable=False),
               Column("kind", String(16), nullable=False),
               *_sides(),
               Column("served_at", DateTime(timezone=True), nullable=False),
               UniqueConstraint("study_id", "participant_id", "number", name="one_trial_per_slot"))
votes = Table("votes", metadata,
              Column("id", Integer, primary_key=True, autoincrement=True),
              Column("trial_token", String(64), ForeignKey("trials.token"), nullable=False, unique=True),
              Column("study_id", String(64), nullable=False, index=True),
              Column("participant_id", String(64), nullable=False),
              Column("number", Integer, nullable=False),
              Column("kind", String(16), nullable=False),
              *_sides(),
              Column("answer", String(16), nullable=False),
              Column("winner", String(128)),  # pair: the chosen system, or "tie"
              Column("correct", Boolean),  # identify: whether person/machine was right
              Column("comment", Text),
              Column("response_seconds", Float),
              Column("listen_seconds", JSON),  # seconds each clip was actually played before the vote (A first)
              Column("answers", JSON),  # pair with several criteria: {criterion: A|B|none}; `answer` is the first's
              Column("served_at", DateTime(timezone=True), nullable=False),
              Column("voted_at", DateTime(timezone=True), nullable=False))


# Ratings (mos, mushra): one row per clip position and criterion of a vote, stored with the vote in one transaction.
# `system` and `seed` are resolved from the trial server side; `position` is the clip's place on the screen (0: A/1).
ratings = Table("ratings", metadata,
                Column("id", Integer, primary_key=True, autoincrement=True),
                Column("trial_token", String(64), ForeignKey("trials.token"), nullable=False),
                Column("study_id", String(64), nullable=False, index=True),
                Column("participant_id", String(64), nullable=False),
                Column("number", Integer, nullable=False),
                Column("position", Integer, nullable=False),
                Column("system", String(128), nullable=False),
                Column("seed", Integer, nullable=False),
                Column("criterion", String(64), nullable=False),
                Column("value", Float, nullable=False),
                Column("listen_seconds", Float),
                Column("voted_at", DateTime(timezone=True), nullable=False),
                UniqueConstraint("trial_token", "position", "criterion", name="one_rating_per_clip"))

# A participant's path through a study (flow.py), so a reload or another replica resumes at the right step.
participants = Table("participants", metadata,
                     Column("study_id", String(64), ForeignKey("studies.id"), primary_key=True),
                     Column("participant_id", String(64), primary_key=True),
                     Column("consented_at", DateTime(timezone=True)),
                     Column("headphones", JSON),  # {"answers": [...], "correct": n, "trials": 6}
                     Column("headphones_passed", Boolean),
                     Column("questionnaire", JSON),  # {question id: answer}
                     Column("practice", JSON),  # the practice trials' answers, in order (never counted)
                     Column("completed_at", DateTime(timezone=True)),
                     Column("created_at", DateTime(timezone=True), nullable=False))


# The clip bank (bank.py): one rendered clip per row, keyed by a hash of its provenance (system, seed, settings,
# soundfont, sample rate); `audio` is the synthesised clip as 16-bit FLAC, before any matching or encoding.
clip_bank = Table("clip_bank", metadata,
                  Column("key", String(64), primary_key=True),
                  Column("study_id", String(64), primary_key=True),
                  Column("system", String(128), nullable=False),
                  Column("seed", Integer, nullable=False),
                  Column("settings", JSON, nullable=False),
                  Column("soundfont", String(256), nullable=False),
                  Column("sample_rate", Integer, nullable=False),
                  Column("seconds", Float, nullable=False),
                  Column("render_seconds", Float, nullable=False),
                  Column("audio", LargeBinary, nullable=False),
                  Column("created_at", DateTime(timezone=True), nullable=False),
                  Index("clip_bank_by_system", "study_id", "system"))

# A banked clip's blind MP3 when matched on its own, which is what a trial serves whenever both its clips reach
# the target loudness: made in the background when the clip is banked, so any serving process (a replica, a
# restarted server) looks it up instead of spending ~0.2 s encoding while a participant waits. `samples_hash`
# is of the matched samples: a trial that matched the clip differently (a quieter partner, a shared gain)
# computes another hash and encodes its own (bank.encode_blind_once).
blind_encodings = Table("blind_encodings", metadata,
                        Column("key", String(64), primary_key=True),  # the clip_bank key
                        Column("samples_hash", String(32), nullable=False),
                        Column("mp3", LargeBinary, nullable=False))


# Live audience votes (live.py): one row per round a presenter plays to a room. `token` is the presenter's
# trial (what the room hears); each phone's vote is its own trial + vote, a copy of it, so the statistics
# treat a room like any other participants. Voting is open from `voting_from` until `closes_at`.
live_rounds = Table("live_rounds", metadata,
                    Column("study_id", String(64), ForeignKey("studies.id"), primary_key=True),
                    Column("number", Integer, primary_key=True),
                    Column("token", String(64), ForeignKey("trials.token"), nullable=False),
                    Column("opened_at", DateTime(timezone=True), nullable=False),
                    Column("voting_from", DateTime(timezone=True)),
                    Column("closes_at", DateTime(timezone=True)),
                    Column("revealed_at", DateTime(timezone=True)))

@dataclass(frozen=True)
class TrialRecord:
    """A served trial as the server knows it (never handed to the page before the vote)."""

    token: str
    study_id: str
    participant_id: str
    number: int
    kind: str
    system_a: str
    seed_a: int
    settings_a: dict
    system_b: str | None
    seed_b: int | None
    settings_b: dict | None
    soundfont: str
    sample_rate: int
    served_at: datetime
    more_clips: list | None = None  # mushra: [system, seed, settings] of the clips after A and B
    catch_answer: str | None = None  # a catch trial (catch.py): the answer known to be right; None otherwise

    @property
    def clips(self) -> list[tuple[str, int, dict]]:
        """(system, seed, settings) per side, A first (then a mushra trial's further clips)."""
        sides = [(self.system_a, self.seed_a, self.settings_a)]
        sides += [(self.system_b, self.seed_b, self.settings_b)] if self.system_b is not None else []
        return sides + [(s, int(seed), settings) for s, seed, settings in (self.more_clips or [])]


@dataclass(frozen=True)
class Vote(TrialRecord):
    """A stored vote with its full provenance. `duplicate`: this submit found the vote already stored."""

    id: int = 0
    answer: str = ""
    winner: str | None = None
    correct: bool | None = None
    comment: str | None = None
    response_seconds: float | None = None
    listen_seconds: list | None = None
    answers: dict | None = None
    voted_at: datetime | None = None
    duplicate: bool = False



@dataclass(frozen=True)
class LiveRound:
    """One round of a live vote, as stored (times in UTC; None until that step happens)."""

    study_id: str
    number: int
    token: str
    opened_at: datetime
    voting_from: datetime | None = None
    closes_at: datetime | None = None
    revealed_at: datetime | None = None

def utc(value):
    """SQLite hands back naive datetimes: they were stored as UTC."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def to_record(cls, row, **extra):
    """A TrialRecord or Vote from a result row (only the dataclass's own fields are read)."""
    names = {f.name for f in fields(cls)}
    return cls(**{k: utc(v) for k, v in row._mapping.items() if k in names}, **extra)
