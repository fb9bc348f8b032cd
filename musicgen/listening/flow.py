"""A participant's path through a study, kept in the store so a reload (or another replica) resumes it.

    consent -> headphone check (optional) -> questionnaire (optional) -> practice trials (optional,
    not counted) -> trials -> completion code (optional)

`step(store, spec, pid)` says where a participant is: "consent", "headphones", "screened_out" (failed a
required headphone check: the study ends there, politely), "questionnaire", "practice" or "trials" (the
schedule's `prepare_trial` then serves the next trial, or None when all are answered). A participant who
already has trials is at "trials" whatever else is stored (stores made before these steps existed).

Practice trials are scheduled like real ones but never stored as trials or votes: their answers (and their
clips, which the real trials then avoid) are kept in the participant's row (`practice`), apart from every
statistic.

The completion code (`completion_code` in the study): a fixed code shown to everyone who finishes, or
"auto": one per participant, `HMAC(store secret, study, participant)`, so a crowd platform can check a
code against the participant id it passed in the link (`completion_code_ok`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from musicgen.listening import headphones
from musicgen.listening.schedule import BlindTrial, schedule_trial, trial_audio, trial_labels
from musicgen.listening.schema import ANSWERS, MOS_RANGE, MUSHRA_RANGE, RATED
from musicgen.listening.store import TrialRecord, VoteStore
from musicgen.listening.study import AUTO_CODE, RATING_KINDS, REAL, StudySpec

STEPS = ("consent", "headphones", "questionnaire", "practice", "trials")
SCREENED_OUT = "screened_out"
MAX_TEXT_ANSWER = 500
# this process's practice trials: (study, participant, number) -> (the trial as scheduled, what the page gets)
_PRACTICE: OrderedDict[tuple[str, str, int], tuple[TrialRecord, BlindTrial]] = OrderedDict()
_PRACTICE_SIZE = 256
_LOCK = threading.Lock()


@dataclass(frozen=True)
class HeadphoneResult:
    correct: int
    trials: int
    passed: bool


def step(store: VoteStore, spec: StudySpec, participant_id: str) -> str:
    """The participant's current step (see the module docstring)."""
    if store.participant_trials(spec.id, participant_id):
        return "trials"
    row = store.participant(spec.id, participant_id) or {}
    if row.get("consented_at") is None:
        return "consent"
    if spec.headphone_check != "off":
        if row.get("headphones_passed") is None:
            return "headphones"
        if not row["headphones_passed"] and spec.headphone_check == "required":
            return SCREENED_OUT
    if spec.questionnaire and row.get("questionnaire") is None:
        return "questionnaire"
    if len(row.get("practice") or []) < spec.practice_trials:
        return "practice"
    return "trials"


def give_consent(store: VoteStore, spec: StudySpec, participant_id: str) -> None:
    store.update_participant(spec.id, participant_id, only_if_unset="consented_at", consented_at=_now())


# ---- headphone check ----------------------------------------------------------------------------
def headphone_audio(store: VoteStore, spec: StudySpec, participant_id: str) -> list[bytes]:
    """The check's trials as stereo WAVs, in order (the same after a reload)."""
    secret = store.side_secret()
    return [headphones.trial_audio(secret, spec.id, participant_id, i) for i in range(headphones.TRIALS)]


def record_headphones(store: VoteStore, spec: StudySpec, participant_id: str, answers: list[int]) -> HeadphoneResult:
    """Score and store the check, once (a second submit keeps the first result, which is returned)."""
    if len(answers) != headphones.TRIALS or any(a not in (1, 2, 3) for a in answers):
        raise ValueError(f"the headphone check takes {headphones.TRIALS} answers, each 1, 2 or 3")
    correct = headphones.score(store.side_secret(), spec.id, participant_id, answers)
    store.update_participant(spec.id, participant_id, only_if_unset="headphones_passed",
                             headphones={"answers": [int(a) for a in answers], "correct": correct,
                                         "trials": headphones.TRIALS},
                             headphones_passed=headphones.passed(correct))
    row = store.participant(spec.id, participant_id)
    return HeadphoneResult(row["headphones"]["correct"], row["headphones"]["trials"], bool(row["headphones_passed"]))


# ---- questionnaire --------------------------------------------------------------------------------
def check_answers(spec: StudySpec, given: dict) -> tuple[dict, list[str]]:
    """(the answers cleaned, one message per problem) for the study's questionnaire."""
    out, problems = {}, []
    for q in spec.questionnaire:
        value = given.get(q.id)
        if isinstance(value, str):
            value = value.strip()[:MAX_TEXT_ANSWER] or None
        if value is None:
            if q.required:
                problems.append(f"{q.text}: please answer")
            out[q.id] = None
            continue
        if q.type == "number":
            try:
                value = float(value)
            except (TypeError, ValueError):
                problems.append(f"{q.text}: a number, please")
                continue
            if (q.min is not None and value < q.min) or (q.max is not None and value > q.max):
                low = "" if q.min is None else f"{q.min:g}"
                high = "" if q.max is None else f"{q.max:g}"
                problems.append(f"{q.text}: a number from {low or '…'} to {high or '…'}, please")
                continue
            value = int(value) if value.is_integer() else value
        elif q.type == "choice" and value not in q.options:
            problems.append(f"{q.text}: choose one of the options")
            continue
        out[q.id] = value
    return out, problems


def record_questionnaire(store: VoteStore, spec: StudySpec, participant_id: str, given: dict) -> list[str]:
    """Store the answers once; returns the problems instead (nothing stored) when there are any."""
    answers, problems = check_answers(spec, given)
    if not problems:
        store.update_participant(spec.id, participant_id, only_if_unset="questionnaire", questionnaire=answers)
    return problems


# ---- practice trials ----------------------------------------------------------------------------------
def practice_done(store: VoteStore, spec: StudySpec, participant_id: str) -> int:
    return len((store.participant(spec.id, participant_id) or {}).get("practice") or [])


def practice_trial(store: VoteStore, spec: StudySpec, participant_id: str, *, soundfont: str | None = None
                   ) -> BlindTrial | None:
    """The participant's next practice trial (the same one on a rerun in this process), or None when done.
    Scheduled like a real trial, but not stored as one (its token is unknown to `submit_vote`); its clips are
    kept with its answer (`record_practice`), so no real trial repeats them."""
    number = practice_done(store, spec, participant_id) + 1
    if number > spec.practice_trials:
        return None
    key = (spec.id, participant_id, number)
    with _LOCK:
        if key in _PRACTICE:
            return _PRACTICE[key][1]
    earlier = [_PRACTICE[(spec.id, participant_id, i)][0] for i in range(1, number)
               if (spec.id, participant_id, i) in _PRACTICE]  # (earlier practice clips in the store count too)
    record = schedule_trial(store, spec, participant_id, number, earlier, soundfont)
    audio = trial_audio(record, soundfont=soundfont, store=store)
    trial = BlindTrial(token=record.token, study_id=spec.id, kind=record.kind, number=number,
                       total=spec.practice_trials, question=spec.question, labels=trial_labels(record),
                       answers=ANSWERS[record.kind], audio=audio)
    with _LOCK:
        record, trial = _PRACTICE.setdefault(key, (record, trial))
        while len(_PRACTICE) > _PRACTICE_SIZE:
            _PRACTICE.popitem(last=False)
    return trial


def record_practice(store: VoteStore, spec: StudySpec, participant_id: str, trial: BlindTrial, *,
                    answer: str | None = None, answers: dict | None = None, ratings: dict | None = None) -> None:
    """Keep a practice trial's answer with the participant (never as a vote); a second submit is a no-op."""
    row = store.participant(spec.id, participant_id) or {}
    done = list(row.get("practice") or [])
    if any(p.get("token") == trial.token for p in done) or len(done) >= spec.practice_trials:
        return
    if trial.kind in RATING_KINDS:
        low, high = MOS_RANGE if trial.kind == "mos" else MUSHRA_RANGE
        if not ratings or any(not low <= v <= high for vs in ratings.values() for v in vs):
            raise ValueError("practice ratings out of range")
        answer = RATED
    elif answers:
        answer = next(iter(answers.values()))
    if answer not in ANSWERS[trial.kind]:
        raise ValueError(f"answer must be one of {', '.join(ANSWERS[trial.kind])}")
    with _LOCK:
        scheduled = _PRACTICE.get((spec.id, participant_id, trial.number), (None, None))[0]
    clips = [] if scheduled is None or scheduled.token != trial.token else [
        [system, seed] for system, seed, _ in scheduled.clips]
    if clips:  # a continuation trial's opening is a held-out piece heard too: no real trial may reuse it
        clips += [[REAL, int(settings["primer_seed"])] for _, _, settings in scheduled.clips
                  if isinstance(settings, dict) and settings.get("primer_seed") is not None][:1]
    done.append({"number": trial.number, "token": trial.token, "answer": answer, "answers": answers,
                 "ratings": ratings, "clips": clips, "at": _now().isoformat()})
    store.update_participant(spec.id, participant_id, practice=done)


# ---- the end ----------------------------------------------------------------------------------------
def completion_code(store: VoteStore, spec: StudySpec, participant_id: str) -> str | None:
    """The code to show once every trial is answered (None when the study gives none); notes the time."""
    store.update_participant(spec.id, participant_id, only_if_unset="completed_at", completed_at=_now())
    if not spec.completion_code:
        return None
    if spec.completion_code == AUTO_CODE:
        return participant_code(store, spec.id, participant_id)
    return spec.completion_code


def participant_code(store: VoteStore, study_id: str, participant_id: str) -> str:
    """The "auto" completion code of one participant: 10 characters from an HMAC of the store's secret."""
    digest = hmac.new(store.side_secret(), f"completion:{study_id}:{participant_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()[:10]).decode("ascii")[:10]


def completion_code_ok(store: VoteStore, study_id: str, participant_id: str, code: str) -> bool:
    """Whether `code` is the "auto" completion code of this participant (for checking a crowd platform's list)."""
    return hmac.compare_digest(participant_code(store, study_id, participant_id), str(code).strip().upper())


def _now() -> datetime:
    return datetime.now(UTC)
