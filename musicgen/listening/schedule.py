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
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from musicgen.audio import encode_blind, match_clips
from musicgen.listening import clips
from musicgen.listening.store import ANSWERS, TrialRecord, Vote, VoteStore
from musicgen.listening.study import REAL, StudySpec
from musicgen.synth import render_audio, resolve_soundfont

SAMPLE_RATE = 22050
FADE_SECONDS = 0.5
_AUDIO_CACHE: OrderedDict[str, tuple[bytes, ...]] = OrderedDict()  # token -> encoded clips (this process)
_AUDIO_CACHE_SIZE = 32
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
    return BlindTrial(token=record.token, study_id=study_id, kind=record.kind, number=record.number,
                      total=spec.trials_per_participant, question=spec.question,
                      labels=("A", "B") if record.kind == "pair" else ("clip",), answers=ANSWERS[record.kind],
                      audio=trial_audio(record, soundfont=soundfont))


def submit_vote(store: VoteStore, token: str, answer: str, *, comment: str | None = None,
                response_seconds: float | None = None) -> Vote:
    """Store the vote (once: a repeat returns the stored vote with duplicate=True). The returned Vote
    reveals the trial (systems, seeds, sides) and may be shown once it is stored."""
    return store.record_vote(token, answer, comment=comment, response_seconds=response_seconds)


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
    heard = {(r.system_a, r.seed_a) for r, _ in history} | {(r.system_b, r.seed_b) for r, _ in history}
    counts = store.system_counts(study_id)
    systems = _choose_systems(spec, counts, heard)
    token = secrets.token_urlsafe(16)
    sides = [(s, _draw_seed(spec, s, heard)) for s in systems]
    if len(sides) == 2 and _flip(store.side_secret(), token):
        sides.reverse()
    settings = [clips.clip_settings(spec, s, seed) for s, seed in sides]
    (sa, seed_a), (sb, seed_b) = sides[0], (sides[1] if len(sides) == 2 else (None, None))
    record = TrialRecord(token=token, study_id=study_id, participant_id=participant_id, number=len(history) + 1,
                         kind=spec.kind, system_a=sa, seed_a=seed_a, settings_a=settings[0], system_b=sb,
                         seed_b=seed_b, settings_b=settings[1] if len(settings) == 2 else None,
                         soundfont=_soundfont_name(soundfont), sample_rate=SAMPLE_RATE,
                         served_at=datetime.now(UTC))
    return store.insert_trial(record)  # a concurrent rerun that stored this slot first wins


def trial_audio(record: TrialRecord, *, soundfont: str | None = None) -> tuple[bytes, ...]:
    """Render, match (loudness, length, fade) and encode the trial's clips, A first (cached per token)."""
    with _AUDIO_LOCK:
        if record.token in _AUDIO_CACHE:
            _AUDIO_CACHE.move_to_end(record.token)
            return _AUDIO_CACHE[record.token]
    rendered = [render_audio(clips.clip_notes(system, seed, settings), sample_rate=record.sample_rate,
                             soundfont=soundfont) for system, seed, settings in record.clips]
    length = min(float(record.settings_a["seconds"]), *(c.duration for c in rendered))
    audio = tuple(encode_blind(c) for c in match_clips(rendered, length=length, fade=FADE_SECONDS))
    with _AUDIO_LOCK:
        _AUDIO_CACHE[record.token] = audio
        while len(_AUDIO_CACHE) > _AUDIO_CACHE_SIZE:
            _AUDIO_CACHE.popitem(last=False)
    return audio


# ---- choices ------------------------------------------------------------------------------------
def _choose_systems(spec: StudySpec, counts: dict, heard: set) -> tuple[str, ...]:
    rng = secrets.SystemRandom()
    real_left = REAL not in spec.systems or _unheard_real(spec, heard) > 0
    if spec.kind == "pair":
        options = [p for p in spec.pairs if real_left or REAL not in p]
        if not options:
            raise StudyExhausted(f"study {spec.id}: this participant has heard every held-out piece")
        return min(options, key=lambda p: (*counts.get(p, (0, 0)), rng.random()))
    groups = {"real": [REAL] if real_left else [], "model": list(spec.models)}
    totals = {}
    for g, members in groups.items():
        if members:
            per_system = [counts.get((s,), (0, 0)) for s in members]
            totals[g] = (sum(v for v, _ in per_system), sum(n for _, n in per_system))
    group = min(totals, key=lambda g: (*totals[g], rng.random()))
    return (min(groups[group], key=lambda s: (*counts.get((s,), (0, 0)), rng.random())),)


def _unheard_real(spec: StudySpec, heard: set) -> int:
    return clips.seed_space(spec, REAL) - sum(1 for s, _ in heard if s == REAL)


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


def _flip(secret: bytes, token: str) -> bool:
    """Whether the scheduled order is swapped: one unguessable bit per trial."""
    return hmac.new(secret, token.encode(), hashlib.sha256).digest()[0] & 1 == 1


def _soundfont_name(soundfont: str | None) -> str:
    return Path(soundfont).name if soundfont else resolve_soundfont().name
