"""The vote store: studies, served trials (the server-side blinding map) and votes, through SQLAlchemy 2.

SQLite by default, a file under the data directory ($MUSICGEN_DATA, default ~/.local/share/musicgen,
outside git) in WAL mode with a busy timeout and synchronous=FULL; PostgreSQL when $MUSICGEN_DB_URL
says so (`postgresql://user:pass@host/db`; the psycopg 3 driver is used), for studies served by
several app processes. Every call is its own transaction, committed before it returns: a crash loses
at most the trial on screen. Writes on SQLite take the write lock up front (BEGIN IMMEDIATE), so
concurrent processes queue on the busy timeout instead of failing.

A vote copies its trial's provenance (systems, seeds, settings, soundfont, sides, times), so the votes
table alone is the full record. The trial token is unique in `votes`: a double click or a rerun that
submits again gets the first vote back (`Vote.duplicate` is True) and nothing is recorded twice.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, func, insert, inspect, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from musicgen.listening.schema import (
    ANSWERS,
    MAX_COMMENT,
    MOS_RANGE,
    MUSHRA_RANGE,
    RATED,
    TIE,
    LiveRound,
    TrialRecord,
    Vote,
    blind_encodings,
    clip_bank,
    closed_studies,
    live_rounds,
    meta,
    metadata,
    participants,
    studies,
    to_record,
    trials,
    utc,
    votes,
)
from musicgen.listening.schema import ratings as ratings_table  # `ratings` is also a method and an argument
from musicgen.listening.study import RATING_KINDS, REAL, StudySpec
from musicgen.paths import data_dir

__all__ = ["ANSWERS", "TIE", "TrialRecord", "Vote", "VoteStore", "default_db_url", "open_store"]

DB_URL_ENV = "MUSICGEN_DB_URL"
SQLITE_FILE = "listening.sqlite"
BUSY_TIMEOUT_MS = 30_000


def default_db_url() -> str:
    """$MUSICGEN_DB_URL, else the SQLite file under $MUSICGEN_DATA (default ~/.local/share/musicgen)."""
    url = os.environ.get(DB_URL_ENV, "").strip()
    if url:
        return url
    return f"sqlite:///{data_dir() / SQLITE_FILE}"


def _normalise_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class VoteStore:
    """Studies, trials and votes in one database. Safe to share between threads and processes."""

    def __init__(self, url: str | None = None, *, echo: bool = False):
        self.engine: Engine = self._make_engine(_normalise_url(url or default_db_url()), echo)
        self._secret: bytes | None = None
        self._create_schema()

    @staticmethod
    def _make_engine(url: str, echo: bool) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(url, echo=echo, pool_pre_ping=True)
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_begin)
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=WAL", f"busy_timeout={BUSY_TIMEOUT_MS}", "synchronous=FULL",
                           "foreign_keys=ON"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("write") else "BEGIN")

        return engine

    def _create_schema(self) -> None:
        for attempt in range(5):  # several processes may create the tables at the same moment
            try:
                with self._write() as conn:
                    metadata.create_all(conn)
                    _add_missing_columns(conn)
                    if conn.execute(select(meta.c.key).where(meta.c.key == "side_secret")).first() is None:
                        conn.execute(insert(meta).values(key="side_secret", value=secrets.token_hex(32)))
                return
            except (IntegrityError, DBAPIError):
                if attempt == 4:
                    raise
                time.sleep(0.1 * (attempt + 1))

    def _write(self) -> _WriteTx:
        """A write transaction: `with self._write() as conn:` commits on success, rolls back on error."""
        return _WriteTx(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL with any password hidden (safe to show to organisers)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()

    # ---- studies ------------------------------------------------------------------------------
    def save_study(self, spec: StudySpec, *, replace: bool = False) -> StudySpec:
        """Store a study. Saving the same spec again is a no-op; a different spec under an existing id
        raises ValueError unless `replace` is True and the study has no votes yet. A continuation study with a
        system that cannot continue an opening is refused (StudyError naming it)."""
        spec.check_continuation()
        with self._write() as conn:
            row = conn.execute(select(studies.c.spec).where(studies.c.id == spec.id)).first()
            if row is None:
                conn.execute(insert(studies).values(id=spec.id, spec=spec.to_dict(), created_at=_now()))
            elif StudySpec.from_dict(row.spec) != spec:
                n = conn.execute(select(func.count()).select_from(votes).where(votes.c.study_id == spec.id)).scalar()
                if not replace or n:
                    raise ValueError(f"study {spec.id!r} already exists with other settings"
                                     + (f" and {n} votes; use a new id" if n else "; pass replace=True"))
                conn.execute(studies.update().where(studies.c.id == spec.id).values(spec=spec.to_dict()))
        return spec

    def get_study(self, study_id: str) -> StudySpec:
        with self.engine.connect() as conn:
            row = conn.execute(select(studies.c.spec).where(studies.c.id == study_id)).first()
        if row is None:
            raise KeyError(f"no study {study_id!r} (known: {', '.join(self.study_ids()) or 'none'})")
        return StudySpec.from_dict(row.spec)

    def studies(self) -> list[StudySpec]:
        """Every stored study, by id."""
        with self.engine.connect() as conn:
            return [StudySpec.from_dict(spec) for spec in conn.execute(select(studies.c.spec).order_by(studies.c.id))
                    .scalars()]

    def study_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(studies.c.id).order_by(studies.c.id)).scalars())

    def close_study(self, study_id: str) -> None:
        """Close a study: no new trials are served (votes on trials already served still count)."""
        self.get_study(study_id)  # KeyError for an unknown study
        try:
            with self._write() as conn:
                conn.execute(insert(closed_studies).values(study_id=study_id, closed_at=_now()))
        except IntegrityError:
            pass  # closed already

    def is_closed(self, study_id: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(closed_studies.c.study_id)
                                .where(closed_studies.c.study_id == study_id)).first() is not None

    def side_secret(self) -> bytes:
        """The store's secret (made with the store, never changed): read once, then kept. Every trial's side,
        every study link key and live-vote code is derived from it, some on every poll."""
        if self._secret is None:
            with self.engine.connect() as conn:
                value = conn.execute(select(meta.c.value).where(meta.c.key == "side_secret")).scalar_one()
            self._secret = bytes.fromhex(value)
        return self._secret

    # ---- trials -------------------------------------------------------------------------------
    def insert_trial(self, record: TrialRecord) -> TrialRecord:
        """Store a served trial; if its (study, participant, number) slot is taken, the stored one wins."""
        values = {f.name: getattr(record, f.name) for f in fields(TrialRecord)}
        try:
            with self._write() as conn:
                conn.execute(insert(trials).values(**values))
            return record
        except IntegrityError:
            with self.engine.connect() as conn:
                row = conn.execute(select(trials).where(trials.c.study_id == record.study_id,
                                                        trials.c.participant_id == record.participant_id,
                                                        trials.c.number == record.number)).first()
            if row is None:
                raise
            return to_record(TrialRecord, row)

    def get_trial(self, token: str) -> TrialRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(trials).where(trials.c.token == token)).first()
        return None if row is None else to_record(TrialRecord, row)

    def participant_trials(self, study_id: str, participant_id: str) -> list[tuple[TrialRecord, bool]]:
        """(trial, voted) for every trial served to a participant, in order."""
        q = (select(trials, votes.c.id.is_not(None).label("voted"))
             .join(votes, votes.c.trial_token == trials.c.token, isouter=True)
             .where(trials.c.study_id == study_id, trials.c.participant_id == participant_id)
             .order_by(trials.c.number))
        with self.engine.connect() as conn:
            return [(to_record(TrialRecord, row), bool(row.voted)) for row in conn.execute(q)]

    def system_counts(self, study_id: str) -> dict[tuple[str, ...], tuple[int, int]]:
        """(votes, trials served) per sorted system tuple: a pair, or a 1-tuple in identify studies."""
        counts: dict[tuple[str, ...], list[int]] = {}
        q = (select(trials.c.system_a, trials.c.system_b, votes.c.id.is_not(None).label("voted"), func.count())
             .join(votes, votes.c.trial_token == trials.c.token, isouter=True)
             .where(trials.c.study_id == study_id).group_by(trials.c.system_a, trials.c.system_b, "voted"))
        with self.engine.connect() as conn:
            for a, b, voted, n in conn.execute(q):
                key = tuple(sorted(s for s in (a, b) if s is not None))
                c = counts.setdefault(key, [0, 0])
                c[0] += n if voted else 0
                c[1] += n
        return {k: (v[0], v[1]) for k, v in counts.items()}

    # ---- votes --------------------------------------------------------------------------------
    def record_vote(self, token: str, answer: str | None = None, *, comment: str | None = None,
                    response_seconds: float | None = None, listen_seconds: list[float] | None = None,
                    answers: dict[str, str] | None = None, ratings: dict[str, list[float]] | None = None) -> Vote:
        """Store the vote for a served trial, once. `answer`: A, B or none (pair); person or machine
        (identify). A pair study with several criteria takes `answers` ({criterion: A|B|none}, every criterion;
        `answer` is then the first criterion's). A mos or mushra trial takes `ratings` ({criterion: one value per
        clip, in screen order}: 1-5 whole numbers for mos, 0-100 for mushra): they go to the `ratings` table with
        each clip's system, in the same transaction as the vote. A second submit for the same token returns the
        stored vote with duplicate=True."""
        existing = self.get_vote(token)
        if existing is not None:
            return replace(existing, duplicate=True)
        trial = self.get_trial(token)
        if trial is None:
            raise KeyError("unknown trial token")
        criteria = [c.name for c in self.get_study(trial.study_id).rating_criteria]
        rating_rows = []
        if trial.kind in RATING_KINDS:
            rating_rows = _rating_rows(trial, criteria, ratings, listen_seconds)
            answer = RATED
        elif ratings is not None:
            raise ValueError(f"a {trial.kind} trial takes an answer, not ratings")
        if answers is not None:
            if trial.kind != "pair" or set(answers) != set(criteria):
                raise ValueError(f"answers: one per criterion ({', '.join(criteria)}) in a pair study")
            bad = [a for a in answers.values() if a not in ANSWERS["pair"]]
            if bad:
                raise ValueError(f"answers must be among {', '.join(ANSWERS['pair'])}, not {bad[0]!r}")
            answers = {c: answers[c] for c in criteria}
            answer = answers[criteria[0]]
        if answer not in ANSWERS[trial.kind]:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS[trial.kind])}, not {answer!r}")
        voted_at = _now()
        if response_seconds is None:
            response_seconds = max(0.0, (voted_at - utc(trial.served_at)).total_seconds())
        comment = (comment or "").strip()[:MAX_COMMENT] or None
        if trial.kind == "pair":
            winner, correct = {"A": trial.system_a, "B": trial.system_b, "none": TIE}[answer], None
            if trial.catch_answer is not None:  # a catch trial: right or wrong is known
                correct = answer == trial.catch_answer
        elif trial.kind == "identify":
            winner, correct = None, (answer == "person") == (trial.system_a == REAL)
        else:
            winner, correct = None, None
        values = {f.name: getattr(trial, f.name) for f in fields(TrialRecord) if f.name != "token"}
        values.update(trial_token=token, answer=answer, winner=winner, correct=correct, comment=comment,
                      response_seconds=float(response_seconds), voted_at=voted_at, answers=answers,
                      listen_seconds=None if listen_seconds is None else [round(float(s), 2) for s in listen_seconds])
        try:
            with self._write() as conn:  # the vote and its ratings together, or neither
                conn.execute(insert(votes).values(**values))
                if rating_rows:
                    conn.execute(insert(ratings_table), [dict(r, voted_at=voted_at) for r in rating_rows])
        except IntegrityError:
            return replace(self.get_vote(token), duplicate=True)  # a concurrent submit got there first
        return self.get_vote(token)

    def get_vote(self, token: str) -> Vote | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(votes).where(votes.c.trial_token == token)).first()
        return None if row is None else to_record(Vote, row, token=token)

    def votes(self, study_id: str | None = None) -> list[Vote]:
        """Every vote (of one study, or all), in the order stored."""
        q = select(votes).order_by(votes.c.id)
        if study_id is not None:
            q = q.where(votes.c.study_id == study_id)
        with self.engine.connect() as conn:
            return [to_record(Vote, row, token=row.trial_token) for row in conn.execute(q)]

    def vote_count(self, study_id: str | None = None) -> int:
        q = select(func.count()).select_from(votes)
        if study_id is not None:
            q = q.where(votes.c.study_id == study_id)
        with self.engine.connect() as conn:
            return int(conn.execute(q).scalar())

    def ratings(self, study_id: str) -> list[dict]:
        """Every rating of a mos/mushra study, one dict per clip and criterion of each vote, in the order
        stored: study, participant, trial (the trial's number for its participant), token, position (0-based
        place on the screen), system, seed, criterion, value, listen_seconds (that clip's), created (the vote's
        time, UTC). One trial of one participant (its token) is one MUSHRA block."""
        q = select(ratings_table).where(ratings_table.c.study_id == study_id).order_by(ratings_table.c.id)
        with self.engine.connect() as conn:
            return [{"study": r.study_id, "participant": r.participant_id, "trial": r.number, "token": r.trial_token,
                     "position": r.position, "system": r.system, "seed": r.seed, "criterion": r.criterion,
                     "value": r.value, "listen_seconds": r.listen_seconds, "created": utc(r.voted_at)}
                    for r in conn.execute(q)]

    # ---- participants (flow.py) ------------------------------------------------------------------
    def participant(self, study_id: str, participant_id: str) -> dict | None:
        """A participant's path through a study (consented_at, headphones, headphones_passed, questionnaire,
        practice, completed_at, created_at), or None before their first step."""
        q = select(participants).where(participants.c.study_id == study_id,
                                       participants.c.participant_id == participant_id)
        with self.engine.connect() as conn:
            row = conn.execute(q).first()
        return None if row is None else {k: utc(v) for k, v in row._mapping.items()}

    def participants(self, study_id: str) -> list[dict]:
        """Every participant row of a study (see `participant`), by participant id."""
        q = select(participants).where(participants.c.study_id == study_id).order_by(participants.c.participant_id)
        with self.engine.connect() as conn:
            return [{k: utc(v) for k, v in row._mapping.items()} for row in conn.execute(q)]

    def update_participant(self, study_id: str, participant_id: str, *, only_if_unset: str | None = None,
                           **values) -> bool:
        """Set some of a participant's fields (the row is made on first use). With `only_if_unset`, only when
        that field is still empty (a step done once: a second submit changes nothing); True if written."""
        key = (participants.c.study_id == study_id, participants.c.participant_id == participant_id)
        for attempt in range(2):
            try:
                with self._write() as conn:
                    row = conn.execute(select(participants).where(*key)).first()
                    if row is None:
                        conn.execute(insert(participants).values(study_id=study_id, participant_id=participant_id,
                                                                 created_at=_now(), **values))
                        return True
                    if only_if_unset is not None and getattr(row, only_if_unset) is not None:
                        return False
                    conn.execute(update(participants).where(*key).values(**values))
                    return True
            except IntegrityError:  # another process made the row first: update it
                if attempt:
                    raise
        return False


    # ---- live rounds (live.py) ------------------------------------------------------------------
    def insert_round(self, live_round: LiveRound) -> bool:
        """Store a new round; False when its number is taken (another presenter click got there first)."""
        try:
            with self._write() as conn:
                conn.execute(insert(live_rounds).values(**{f.name: getattr(live_round, f.name)
                                                           for f in fields(LiveRound)}))
        except IntegrityError:
            return False
        return True

    def get_round(self, study_id: str, number: int | None = None) -> LiveRound | None:
        """One round of a live study, or its latest when `number` is None; None if there is none."""
        q = select(live_rounds).where(live_rounds.c.study_id == study_id)
        q = q.where(live_rounds.c.number == number) if number is not None else q
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(live_rounds.c.number.desc()).limit(1)).first()
        return None if row is None else to_record(LiveRound, row)

    def update_round(self, study_id: str, number: int, **times: datetime) -> None:
        """Set a round's voting_from / closes_at / revealed_at."""
        with self._write() as conn:
            conn.execute(update(live_rounds).where(live_rounds.c.study_id == study_id,
                                                   live_rounds.c.number == number).values(**times))

    def answer_counts(self, study_id: str, number: int) -> dict[str, int]:
        """How many votes gave each answer in trial slot `number` of a study (a live round's tally)."""
        q = (select(votes.c.answer, func.count()).where(votes.c.study_id == study_id, votes.c.number == number)
             .group_by(votes.c.answer))
        with self.engine.connect() as conn:
            return {answer: int(n) for answer, n in conn.execute(q)}

    # ---- the clip bank (bank.py) -----------------------------------------------------------------
    def put_clip(self, *, key: str, study_id: str, system: str, seed: int, settings: dict, soundfont: str,
                 sample_rate: int, seconds: float, render_seconds: float, audio: bytes) -> None:
        """Bank a rendered clip for a study (a second put of the same key and study is a no-op)."""
        try:
            with self._write() as conn:
                if conn.execute(select(clip_bank.c.key).where(clip_bank.c.key == key,
                                                              clip_bank.c.study_id == study_id)).first() is None:
                    conn.execute(insert(clip_bank).values(
                        key=key, study_id=study_id, system=system, seed=int(seed), settings=settings,
                        soundfont=soundfont, sample_rate=int(sample_rate), seconds=float(seconds),
                        render_seconds=float(render_seconds), audio=audio, created_at=_now()))
        except IntegrityError:
            pass  # another process banked it first

    def put_blind(self, key: str, samples_hash: str, mp3: bytes) -> None:
        """Keep a banked clip's blind MP3 (matched on its own; see schema.blind_encodings); first one wins."""
        try:
            with self._write() as conn:
                if conn.execute(select(blind_encodings.c.key).where(blind_encodings.c.key == key)).first() is None:
                    conn.execute(insert(blind_encodings).values(key=key, samples_hash=samples_hash, mp3=mp3))
        except IntegrityError:
            pass  # another process stored it first

    def get_blind(self, key: str) -> tuple[str, bytes] | None:
        """(samples hash, MP3) of a banked clip's blind encoding, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(blind_encodings.c.samples_hash, blind_encodings.c.mp3)
                               .where(blind_encodings.c.key == key)).first()
        return None if row is None else (row.samples_hash, row.mp3)

    def get_clip(self, key: str) -> bytes | None:
        """A banked clip's audio (FLAC) by its provenance key, from any study; None when not banked."""
        with self.engine.connect() as conn:
            return conn.execute(select(clip_bank.c.audio).where(clip_bank.c.key == key).limit(1)).scalar()

    def banked_clips(self, study_id: str, system: str | None = None) -> list[dict]:
        """Banked clips of a study (one system, or all): key, system, seed, settings, soundfont, sample_rate,
        seconds, render_seconds (not the audio)."""
        cols = [clip_bank.c.key, clip_bank.c.system, clip_bank.c.seed, clip_bank.c.settings, clip_bank.c.soundfont,
                clip_bank.c.sample_rate, clip_bank.c.seconds, clip_bank.c.render_seconds]
        q = select(*cols).where(clip_bank.c.study_id == study_id).order_by(clip_bank.c.created_at)
        if system is not None:
            q = q.where(clip_bank.c.system == system)
        with self.engine.connect() as conn:
            return [dict(row._mapping) for row in conn.execute(q)]

    def clip_uses(self, study_id: str, system: str) -> dict[int, int]:
        """How many trials of a study have played each seed of a system (either side)."""
        uses: dict[int, int] = {}
        with self.engine.connect() as conn:
            for sys_col, seed_col in ((trials.c.system_a, trials.c.seed_a), (trials.c.system_b, trials.c.seed_b)):
                q = (select(seed_col, func.count()).where(trials.c.study_id == study_id, sys_col == system)
                     .group_by(seed_col))
                for seed, n in conn.execute(q):
                    uses[int(seed)] = uses.get(int(seed), 0) + int(n)
        return uses


class _WriteTx:
    """`with _WriteTx(engine) as conn:` one committed write transaction (BEGIN IMMEDIATE on SQLite)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def __enter__(self):
        self.conn = self.engine.connect().execution_options(write=True)
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is None:
                self.tx.commit()
            else:
                self.tx.rollback()
        finally:
            self.conn.close()


# Columns added after a table was first created (create_all makes missing tables, never missing columns).
_LATER_COLUMNS = {"votes": {"listen_seconds": "JSON", "answers": "JSON", "more_clips": "JSON",
                            "catch_answer": "VARCHAR(16)"},
                  "trials": {"more_clips": "JSON", "catch_answer": "VARCHAR(16)"}}


def _add_missing_columns(conn) -> None:
    """Bring a store made by an older version up to date, in place (votes it holds keep NULL there)."""
    inspector = inspect(conn)
    for table, columns in _LATER_COLUMNS.items():
        have = {c["name"] for c in inspector.get_columns(table)}
        for name, sql_type in columns.items():
            if name not in have:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")


def _now() -> datetime:
    return datetime.now(UTC)


def _rating_rows(trial: TrialRecord, criteria: list[str], given: dict | None, listen_seconds) -> list[dict]:
    """The ratings table's rows of one vote, checked: one value per clip for every criterion, in range."""
    clips = trial.clips
    if not isinstance(given, dict) or set(given) != set(criteria):
        raise ValueError(f"ratings: one list per criterion ({', '.join(criteria)})")
    low, high = MOS_RANGE if trial.kind == "mos" else MUSHRA_RANGE
    rows = []
    for criterion in criteria:
        values = list(given[criterion])
        if len(values) != len(clips):
            raise ValueError(f"ratings[{criterion}]: {len(values)} values for {len(clips)} clips")
        for position, ((system, seed, _), value) in enumerate(zip(clips, values)):
            ok = (not isinstance(value, bool) and isinstance(value, (int, float)) and low <= value <= high
                  and (trial.kind != "mos" or float(value).is_integer()))
            if not ok:
                raise ValueError(f"ratings[{criterion}]: {value!r} must be a {'whole ' if trial.kind == 'mos' else ''}"
                                 f"number from {low:g} to {high:g}")
            heard = None if listen_seconds is None or position >= len(listen_seconds) else listen_seconds[position]
            rows.append({"trial_token": trial.token, "study_id": trial.study_id,
                         "participant_id": trial.participant_id, "number": trial.number, "position": position,
                         "system": system, "seed": int(seed), "criterion": criterion, "value": float(value),
                         "listen_seconds": None if heard is None else round(float(heard), 2)})
    return rows


def open_store(url: str | None = None) -> VoteStore:
    """The store the app uses: `url`, else $MUSICGEN_DB_URL, else the SQLite file under $MUSICGEN_DATA."""
    return VoteStore(url)
