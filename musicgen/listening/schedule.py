"""Trial scheduling and blinded clip preparation: what a participant hears next, and nothing more.

`prepare_trial` is the one call the Listening test page makes to show a trial. It returns a
`BlindTrial`: an opaque token, the progress, the question and OGG bytes labelled only "A"/"B" (or one
clip in an identify study) — loudness-matched, cut to one length with a fade, encoded identically.
The systems, seeds and settings of the trial stay in the store until `submit_vote` has stored the vote.

Scheduling (all server side):
* pair studies take the pair of systems with the fewest votes so far across all participants (ties:
  fewest trials served, then random); identify studies alternate between real pieces and models the
  same way, so about half the clips are by a person;
* which system plays A is decided by HMAC(store secret, trial token): not guessable from the page;
* clip seeds are drawn server-side, and a participant never hears the same clip (system + seed) twice;
* a rerun of the page (or a second tab) gets the same open trial back instead of a new one.

Serving (bank.py): clips come from the study's clip bank when it has one the participant has not
heard (the least played), and every render, match and encode runs in the process's render pool. While
a participant listens to trial n, the pool already schedules and encodes trial n+1 (a look-ahead plan
kept in this process: the choice uses the counts of that moment, and the trial is stored, with its
served time, only when the participant asks for it); a plan that is missing, evicted or made stale
falls back to scheduling and rendering on demand.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from musicgen.audio import match_clips
from musicgen.listening import bank, catch, clips
from musicgen.listening.store import ANSWERS, TrialRecord, Vote, VoteStore
from musicgen.listening.study import REAL, StudySpec

SAMPLE_RATE = 22050
FADE_SECONDS = bank.FADE_SECONDS
_AUDIO_CACHE: OrderedDict[str, tuple[bytes, ...]] = OrderedDict()  # token -> encoded clips (this process)
_AUDIO_CACHE_SIZE = 128  # ~0.6 MB a trial: the open and the planned trial of 64 participants

_PLANS: OrderedDict[tuple[str, str, int], TrialRecord] = OrderedDict()  # (study, participant, number) -> plan
_PLANS_SIZE = 1024
_AUDIO_LOCK = threading.Lock()  # Streamlit serves sessions from threads of one process


class StudyExhausted(RuntimeError):
    """No trial can be made without repeating a clip for this participant (too few real pieces)."""


@dataclass(frozen=True)
class BlindTrial:
    """Everything the page may show before the vote — and nothing that identifies a system.

    `audio[i]` is the OGG Vorbis clip for `labels[i]` ("A"/"B", or "clip" in an identify study).
    Pass `token` back to `submit_vote`; `answers` lists what may be submitted.
    """

    token: str
    study_id: str
    kind: str
    number: int  # 1-based: "trial {number} of {total}"
    total: int
    question: str
    labels: tuple[str, ...]
    answers: tuple[str, ...]
    audio: tuple[bytes, ...]
    mime: str = "audio/mpeg"


@dataclass(frozen=True)
class Progress:
    answered: int
    total: int

    @property
    def done(self) -> bool:
        return self.answered >= self.total


def new_participant_id() -> str:
    """An anonymous participant id (random; keep it in the browser session)."""
    return secrets.token_urlsafe(12)


class StudyClosed(Exception):
    """The organiser closed the study: no new trials (the page thanks the participant)."""


def progress(store: VoteStore, study_id: str, participant_id: str) -> Progress:
    spec = store.get_study(study_id)
    answered = sum(voted for _, voted in store.participant_trials(study_id, participant_id))
    return Progress(answered=answered, total=spec.trials_per_participant)


def prepare_trial(store: VoteStore, study_id: str, participant_id: str, *, soundfont: str | None = None
                  ) -> BlindTrial | None:
    """The participant's current trial (made if needed) with its blinded audio; None once all are answered.

    Calling it again before the vote returns the same trial (same token, same bytes).
    """
    record = next_trial(store, study_id, participant_id, soundfont=soundfont)
    if record is None:
        return None
    spec = store.get_study(study_id)
    audio = trial_audio(record, soundfont=soundfont, store=store)
    if bank.bank_size() > 0:
        bank.top_up(store, spec, sample_rate=record.sample_rate, soundfont=soundfont)
        if record.number < spec.trials_per_participant:
            _plan_ahead(store, spec, record, soundfont)
    return BlindTrial(token=record.token, study_id=study_id, kind=record.kind, number=record.number,
                      total=spec.trials_per_participant, question=spec.question,
                      labels=trial_labels(record), answers=ANSWERS[record.kind],
                      audio=audio)


def trial_labels(record: TrialRecord) -> tuple[str, ...]:
    """What the page calls the clips: A and B (pair), 1..K (mushra), or "clip"."""
    if record.kind == "pair":
        return ("A", "B")
    if record.kind == "mushra":
        return tuple(str(i + 1) for i in range(len(record.clips)))
    return ("clip",)


def submit_vote(store: VoteStore, token: str, answer: str | None = None, *, comment: str | None = None,
                response_seconds: float | None = None, listen_seconds: list[float] | None = None,
                **ratings_or_answers) -> Vote:
    """Store the vote (once: a repeat returns the stored vote with duplicate=True), with the seconds each
    clip was played (as the page measured them). The returned Vote reveals the trial (systems, seeds,
    sides) and may be shown once it is stored. `ratings=` (mos, mushra) and `answers=` (a pair study with
    several criteria) are passed to `VoteStore.record_vote`."""
    return store.record_vote(token, answer, comment=comment, response_seconds=response_seconds,
                             listen_seconds=listen_seconds, **ratings_or_answers)


def reveal(store: VoteStore, token: str) -> Vote:
    """What was played in a trial, only after its vote is stored (PermissionError before)."""
    vote = store.get_vote(token)
    if vote is None:
        raise PermissionError("this trial has no vote yet: nothing is revealed before the vote")
    return vote


def next_trial(store: VoteStore, study_id: str, participant_id: str, *, soundfont: str | None = None
               ) -> TrialRecord | None:
    """The participant's open trial, else a newly scheduled one stored in `store`; None when done."""
    spec = store.get_study(study_id)
    history = store.participant_trials(study_id, participant_id)
    for record, voted in history:
        if not voted:
            return record
    if len(history) >= spec.trials_per_participant:
        return None
    if store.is_closed(study_id):
        raise StudyClosed(f"study {study_id} is closed")
    earlier = [r for r, _ in history]
    number = len(history) + 1
    with _AUDIO_LOCK:
        plan = _PLANS.pop((study_id, participant_id, number), None)
    if plan is not None and not (_heard([plan]) & _heard(earlier)):
        return store.insert_trial(replace(plan, served_at=datetime.now(UTC)))
    # a concurrent rerun that stored this slot first wins
    return store.insert_trial(_schedule_slot(store, spec, participant_id, number, earlier, soundfont))


def _schedule_slot(store: VoteStore, spec: StudySpec, participant_id: str, number: int,
                   earlier: list[TrialRecord], soundfont: str | None) -> TrialRecord:
    """Trial `number` of a participant: a catch trial where catch.py's draw says so, else a comparison."""
    if number in catch.catch_numbers(store.side_secret(), spec, participant_id):
        return catch_trial(store, spec, participant_id, number, earlier, soundfont)
    return schedule_trial(store, spec, participant_id, number, earlier, soundfont)


def catch_trial(store: VoteStore, spec: StudySpec, participant_id: str, number: int, earlier: list[TrialRecord],
                soundfont: str | None) -> TrialRecord:
    """A catch trial (catch.py): an unheard held-out piece against its pitch-scrambled copy (in a continuation
    study, both continue the same opening and only the continuation is scrambled), sides from the secret; the
    unscrambled side is stored as `catch_answer`."""
    heard = _heard(earlier) | practice_heard(store, spec.id, participant_id)
    piece = _draw_seed(spec, REAL, heard)
    base = clips.clip_settings(spec, REAL, piece, primer=piece if spec.clip.primer != "none" else None)
    good = {**base, "catch": True}
    bad = {**base, "catch": True, "broken": catch.BROKEN, "scramble_seed": piece}
    token = secrets.token_urlsafe(16)
    flipped = _flip(store.side_secret(), token)
    (sa, sb) = (bad, good) if flipped else (good, bad)
    return TrialRecord(token=token, study_id=spec.id, participant_id=participant_id, number=number, kind=spec.kind,
                       system_a=REAL, seed_a=piece, settings_a=sa, system_b=REAL, seed_b=piece, settings_b=sb,
                       soundfont=_soundfont_name(soundfont), sample_rate=SAMPLE_RATE, served_at=datetime.now(UTC),
                       catch_answer="B" if flipped else "A")


def _heard(records) -> set:
    """(system, seed) of every clip in `records`; a continuation clip also marks its opening's piece as heard
    (as `real`), so a participant never hears the same opening twice."""
    out = set()
    for r in records:
        for system, seed, settings in r.clips:
            out.add((system, seed))
            if isinstance(settings, dict) and settings.get("primer_seed") is not None:
                out.add((REAL, int(settings["primer_seed"])))
    return out


def practice_heard(store: VoteStore, study_id: str, participant_id: str) -> set:
    """The clips of the participant's practice trials (flow.py keeps them with the participant, not as trials):
    heard already, so no real trial repeats them."""
    row = store.participant(study_id, participant_id) or {}
    return {(system, int(seed)) for p in row.get("practice") or [] for system, seed in p.get("clips") or []}


def _systems_key(record: TrialRecord) -> tuple[str, ...]:
    return tuple(sorted(s for s, _, _ in record.clips))


def schedule_trial(store: VoteStore, spec: StudySpec, participant_id: str, number: int, earlier: list[TrialRecord],
              soundfont: str | None) -> TrialRecord:
    """A new trial (not stored yet) after the participant's `earlier` ones: the pair (or system) this
    participant has met least, then the study's balance; seeds from the bank where it has unheard clips."""
    study_id = spec.id
    heard = _heard(earlier) | practice_heard(store, study_id, participant_id)
    own = Counter(_systems_key(r) for r in earlier)
    counts = store.system_counts(study_id)
    with _AUDIO_LOCK:  # planned trials count as served, so plans made together still spread over the pairs
        for (sid, _, _), plan in _PLANS.items():
            if sid == study_id:
                key = _systems_key(plan)
                votes_, served = counts.get(key, (0, 0))
                counts[key] = (votes_, served + 1)
    systems = _choose_systems(spec, counts, heard, own)
    token = secrets.token_urlsafe(16)
    # a continuation study: one unheard held-out opening for the whole trial (the real clip is that piece)
    primer = _pick_primer(store, spec, systems, heard, soundfont) if spec.clip.primer != "none" else None
    sides = [(s, primer if primer is not None and s == REAL else _pick_seed(store, spec, s, heard, soundfont, primer))
             for s in systems]
    if spec.kind == "mushra":  # BS.2132: a fresh order per trial, decided here and kept in the store
        secrets.SystemRandom().shuffle(sides)
    elif len(sides) == 2 and _flip(store.side_secret(), token):
        sides.reverse()
    settings = [clips.clip_settings(spec, s, seed, primer=primer) for s, seed in sides]
    (sa, seed_a), (sb, seed_b) = sides[0], (sides[1] if len(sides) >= 2 else (None, None))
    return TrialRecord(token=token, study_id=study_id, participant_id=participant_id, number=number,
                         kind=spec.kind, system_a=sa, seed_a=seed_a, settings_a=settings[0], system_b=sb,
                         seed_b=seed_b, settings_b=settings[1] if len(settings) >= 2 else None,
                         more_clips=[[s, seed, st] for (s, seed), st in zip(sides[2:], settings[2:])] or None,
                         soundfont=_soundfont_name(soundfont), sample_rate=SAMPLE_RATE,
                       served_at=datetime.now(UTC))


def _plan_ahead(store: VoteStore, spec: StudySpec, current: TrialRecord, soundfont: str | None) -> None:
    """Queue the participant's next trial in the pool: scheduled as if `current` were answered now, its
    audio encoded, kept in this process until the participant asks for it."""
    number, pid = current.number + 1, current.participant_id

    def job():
        history = store.participant_trials(spec.id, pid)
        if len(history) >= number:
            return  # the participant got there first
        plan = _schedule_slot(store, spec, pid, number, [r for r, _ in history] + [current], soundfont)
        with _AUDIO_LOCK:
            _PLANS[(spec.id, pid, number)] = plan
            while len(_PLANS) > _PLANS_SIZE:
                _PLANS.popitem(last=False)
        bank.pool().submit(f"trial:{plan.token}", lambda: _make_audio(plan, soundfont, store), bank.LOOKAHEAD)

    bank.pool().submit(f"plan:{spec.id}:{pid}:{number}", job, bank.LOOKAHEAD)


def trial_audio(record: TrialRecord, *, soundfont: str | None = None, store: VoteStore | None = None
                ) -> tuple[bytes, ...]:
    """The trial's clips matched (loudness, length, fade) and encoded, A first (cached per token): clips
    from the store's bank when there, the work in the render pool."""
    with _AUDIO_LOCK:
        if record.token in _AUDIO_CACHE:
            _AUDIO_CACHE.move_to_end(record.token)
            return _AUDIO_CACHE[record.token]
    return bank.pool().run(f"trial:{record.token}", lambda: _make_audio(record, soundfont, store), bank.URGENT)


def _make_audio(record: TrialRecord, soundfont: str | None, store: VoteStore | None) -> tuple[bytes, ...]:
    with _AUDIO_LOCK:
        if record.token in _AUDIO_CACHE:
            return _AUDIO_CACHE[record.token]
    rendered = [bank.get_clip(store, record.study_id, system, seed, settings, sample_rate=record.sample_rate,
                              soundfont=soundfont) for system, seed, settings in record.clips]
    length = min(float(record.settings_a["seconds"]), *(c.duration for c in rendered))
    # a continuation trial: one gain for every clip, measured on the shared opening, so it sounds the same in each
    shared = record.settings_a.get("primer_seconds") if record.settings_a.get("primer_seed") is not None else None
    keys = [bank.clip_key(system, seed, settings, bank.soundfont_name(soundfont), record.sample_rate)
            for system, seed, settings in record.clips]
    matched = match_clips(rendered, length=length, fade=FADE_SECONDS, gain_from_seconds=shared)
    audio = tuple(bank.encode_blind_once(c, store=store, key=k) for c, k in zip(matched, keys))
    with _AUDIO_LOCK:
        _AUDIO_CACHE[record.token] = audio
        while len(_AUDIO_CACHE) > _AUDIO_CACHE_SIZE:
            _AUDIO_CACHE.popitem(last=False)
    return audio


# ---- choices ------------------------------------------------------------------------------------
def _choose_systems(spec: StudySpec, counts: dict, heard: set, own: Counter) -> tuple[str, ...]:
    """Least met by this participant first (each pair once before any twice), then least voted and
    least served in the whole study: balance across participants never repeats a pair for one."""
    rng = secrets.SystemRandom()
    real_left = REAL not in spec.systems or _unheard_real(spec, heard) > 0
    if spec.kind == "pair":
        options = [p for p in spec.pairs if real_left or REAL not in p]
        if not options:
            raise StudyExhausted(f"study {spec.id}: this participant has heard every held-out piece")
        return min(options, key=lambda p: (own[p], *counts.get(p, (0, 0)), rng.random()))
    if spec.kind == "mushra":  # K systems: those this participant has rated least, then at random
        options = [s for s in spec.systems if real_left or s != REAL]
        if len(options) < spec.clips_per_trial:
            raise StudyExhausted(f"study {spec.id}: this participant has heard every held-out piece")
        met = Counter(s for key, n in own.items() for s in key for _ in range(n))
        return tuple(sorted(options, key=lambda s: (met[s], rng.random()))[:spec.clips_per_trial])
    if spec.kind == "mos":  # every system alike (real included): least met, then least voted and served
        options = [s for s in spec.systems if real_left or s != REAL]
        return (min(options, key=lambda s: (own[(s,)], *counts.get((s,), (0, 0)), rng.random())),)
    groups = {"real": [REAL] if real_left else [], "model": list(spec.models)}
    totals = {}
    for g, members in groups.items():
        if members:
            per_system = [counts.get((s,), (0, 0)) for s in members]
            totals[g] = (sum(v for v, _ in per_system), sum(n for _, n in per_system))
    group = min(totals, key=lambda g: (*totals[g], rng.random()))
    return (min(groups[group], key=lambda s: (own[(s,)], *counts.get((s,), (0, 0)), rng.random())),)


def _unheard_real(spec: StudySpec, heard: set) -> int:
    return clips.seed_space(spec, REAL) - sum(1 for s, _ in heard if s == REAL)


def _pick_primer(store: VoteStore, spec: StudySpec, systems: tuple[str, ...], heard: set, soundfont: str | None
                 ) -> int:
    """A continuation trial's opening: a held-out piece (its `real` seed) whose opening the participant has not
    heard, preferring one the clip bank holds a clip of for every system of the trial."""
    left = [i for i in range(clips.seed_space(spec, REAL)) if (REAL, i) not in heard]
    if not left:
        raise StudyExhausted(f"study {spec.id}: this participant has heard every held-out opening")
    rng = secrets.SystemRandom()
    if bank.bank_size() > 0:
        name = _soundfont_name(soundfont)
        ready = set(left)
        for s in systems:
            have = {c["settings"].get("primer_seed") for c in bank.usable_clips(store, spec, s, soundfont=name,
                                                                                  sample_rate=SAMPLE_RATE)}
            ready &= have
        if ready:
            return rng.choice(sorted(ready))
    return rng.choice(left)


def _pick_seed(store: VoteStore, spec: StudySpec, system: str, heard: set, soundfont: str | None,
               primer: int | None = None) -> int:
    """The least played banked clip of `system` the participant has not heard (continuing `primer`'s opening
    in a continuation study); else a fresh seed."""
    if bank.bank_size() > 0:
        banked = [c["seed"] for c in bank.usable_clips(store, spec, system, soundfont=_soundfont_name(soundfont),
                                                        sample_rate=SAMPLE_RATE) if (system, c["seed"]) not in heard
                  and c["settings"].get("primer_seed") == primer]
        if banked:
            uses, rng = store.clip_uses(spec.id, system), secrets.SystemRandom()
            return min(banked, key=lambda seed: (uses.get(seed, 0), rng.random()))
    return _draw_seed(spec, system, heard)


def _draw_seed(spec: StudySpec, system: str, heard: set) -> int:
    space = clips.seed_space(spec, system)
    rng = secrets.SystemRandom()
    if system == REAL:
        left = [i for i in range(space) if (REAL, i) not in heard]
        if not left:
            raise StudyExhausted(f"study {spec.id}: this participant has heard every held-out piece")
        return rng.choice(left)
    while True:
        seed = rng.randrange(space)
        if (system, seed) not in heard:
            return seed


def study_key(store: VoteStore, study_id: str) -> str:
    """The key a study's participant link carries (`&key=`): from the store's secret, so links cannot be
    made up from a (guessable) study id, and stable, so a link already sent keeps working."""
    digest = hmac.new(store.side_secret(), f"study-link:{study_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode("ascii")


def study_key_ok(store: VoteStore, study_id: str, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(study_key(store, study_id), str(key))


def _flip(secret: bytes, token: str) -> bool:
    """Whether the scheduled order is swapped: one unguessable bit per trial."""
    return hmac.new(secret, token.encode(), hashlib.sha256).digest()[0] & 1 == 1


def _soundfont_name(soundfont: str | None) -> str:
    return bank.soundfont_name(soundfont)
