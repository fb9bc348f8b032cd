"""Training jobs: runs that outlive the page (or terminal) that asked for them.

A job is a folder `data_dir()/jobs/<job id>/` holding `job.json` (what to train, status, progress) and
`progress.json` (the history records so far, for the live loss curve), both written atomically
(temp file + rename) under a short lock, so a reader never sees half a file and a cancel never loses
a progress update. `submit(spec)` queues a job and starts a *runner* (`python -m musicgen jobs run`, its
own session: it survives the app's reloads and restarts) unless a live one holds `jobs/runner.lock`;
the lock is an `fcntl.flock`, so the kernel drops it with a dead runner and never blocks the next one.
The runner trains queued jobs oldest first, one at a time (one run per machine), evaluates each
finished checkpoint (`evaluation.evaluate_model`, written into its card), and exits when the queue is
empty. Statuses: queued → running → done | failed (a one-line reason) | cancelled. Cancel sets the job's
`cancel_requested` flag: a queued job never starts; a running one stops at its next history record
(`train(on_progress=...)` raises TrainingCancelled and saves nothing). A job still "running" after its
runner died shows as failed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from musicgen.checkpoints import checkpoints_dir, load_checkpoint, update_card_evaluation
from musicgen.corpora import CORPORA, CorpusError
from musicgen.corpora.archive import unpack_zip
from musicgen.paths import data_dir
from musicgen.presets import PRESETS
from musicgen.presets.base import PresetError, customise, default_run_id, split_setting

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
JOB, PROGRESS = "job.json", "progress.json"
EVAL_SAMPLES = 16
WRITE_EVERY = 0.5  # seconds between progress writes (a tiny model logs hundreds of records a second)
DIED = "the training process stopped unexpectedly (see jobs/runner.log in the data folder)"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent


class JobError(ValueError):
    """A job cannot be queued or changed; one line that says why and what is allowed."""


@dataclass(frozen=True)
class JobSpec:
    """What to train: a preset's family, on a corpus (None: the preset's own), with settings (key → text)."""
    preset: str
    corpus: str | None = None  # a corpus name or folder:PATH
    settings: dict = field(default_factory=dict)
    name: str | None = None  # the checkpoint id; None: `default_run_id` of the preset and corpus_label
    max_minutes: float | None = None  # wall-clock budget (None: the preset's)
    max_steps: int | None = None  # None: the preset's
    corpus_label: str | None = None  # what the user chose (an upload's file name): names the run and the page
    eval_samples: int = EVAL_SAMPLES


@dataclass(frozen=True)
class Job:
    id: str
    spec: JobSpec
    checkpoint_id: str
    status: str = QUEUED
    created: float = 0.0
    started: float | None = None
    finished: float | None = None
    phase: str = ""  # what a running job is doing: loading the music, training, evaluating
    step: int = 0
    max_steps: int | None = None
    seconds: float = 0.0  # training time so far
    max_seconds: float | None = None
    cancel_requested: bool = False
    error: str = ""  # a failed job's reason, one line
    note: str = ""  # a finished job's remark (e.g. why it has no evaluation)
    runner_pid: int | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def corpus_label(self) -> str:
        s = self.spec
        label = s.corpus_label or s.corpus or (PRESETS[s.preset].corpus if s.preset in PRESETS else "")
        return label.removeprefix("folder:")

    @property
    def fraction(self) -> float | None:
        """How far training is (0..1) by whichever budget ends it first; None when neither is known."""
        parts = [self.step / self.max_steps if self.max_steps else None,
                 self.seconds / self.max_seconds if self.max_seconds else None]
        known = [p for p in parts if p is not None]
        return min(1.0, max(known)) if known else None

    @property
    def eta_seconds(self) -> float | None:
        """Training time left (steps at the pace so far, or the time budget, whichever ends first)."""
        if self.status != RUNNING or self.step <= 0:
            return None
        left = []
        if self.max_steps:
            left.append((self.max_steps - self.step) * self.seconds / self.step)
        if self.max_seconds:
            left.append(self.max_seconds - self.seconds)
        return max(0.0, min(left)) if left else None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> Job:
        known = {f.name for f in fields(cls)}
        spec_known = {f.name for f in fields(JobSpec)}
        spec = JobSpec(**{k: v for k, v in doc["spec"].items() if k in spec_known})
        return cls(**{**{k: v for k, v in doc.items() if k in known}, "spec": spec})


# ---- files ------------------------------------------------------------------------------------------------
def jobs_dir() -> Path:
    return data_dir() / "jobs"


def _write_json(path: Path, doc) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(doc, allow_nan=False) + "\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def _state_lock():
    """Held for each read-modify-write of a job file (milliseconds), by every process."""
    jobs_dir().mkdir(parents=True, exist_ok=True)
    with open(jobs_dir() / "state.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _load(job_id: str) -> Job:
    path = jobs_dir() / job_id / JOB
    try:
        return Job.from_dict(json.loads(path.read_text()))
    except FileNotFoundError:
        raise JobError(f"no job {job_id!r}; `python -m musicgen jobs list` shows them") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise JobError(f"job {job_id!r} cannot be read ({type(e).__name__}: {e})") from None


def _save(job: Job) -> Job:
    _write_json(jobs_dir() / job.id / JOB, job.to_dict())
    return job


def _update(job_id: str, **changes) -> Job:
    with _state_lock():
        return _save(replace(_load(job_id), **changes))


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (dead, not yet reaped) or a pid reused by another program is no runner
        stat = Path(f"/proc/{pid}/stat").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc: trust kill()
    return stat.rsplit(")", 1)[-1].split()[0] != "Z" and b"musicgen" in cmdline


def _as_seen(job: Job) -> Job:
    """A running job whose runner is gone is shown (not stored) as failed."""
    if job.status == RUNNING and not _pid_alive(job.runner_pid):
        return replace(job, status=FAILED, error=DIED, phase="")
    return job


def read(job_id: str) -> Job:
    return _as_seen(_load(job_id))


def _stored() -> list[Job]:
    """Every job as stored, oldest first (the queue's order); unreadable job folders are left out."""
    root = jobs_dir()
    found = []
    for folder in root.iterdir() if root.is_dir() else ():
        if (folder / JOB).exists():
            with contextlib.suppress(JobError):
                found.append(_load(folder.name))
    return sorted(found, key=lambda j: (j.created, j.id))


def list_jobs() -> list[Job]:
    """Every job, oldest first (the queue's order), as the page shows it (a dead runner's job: failed)."""
    return [_as_seen(j) for j in _stored()]


def progress(job_id: str) -> list[dict]:
    """The history records of a job so far (empty before the first)."""
    try:
        doc = json.loads((jobs_dir() / job_id / PROGRESS).read_text())
    except (OSError, ValueError):
        return []
    return doc.get("records", []) if isinstance(doc, dict) else []


# ---- asking ----------------------------------------------------------------------------------------------
def parse_settings(text: str) -> dict[str, str]:
    """`key=value` lines (blank lines and `#` comments skipped) → {key: value text}."""
    out = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        setting = split_setting(line)
        if setting is None:
            raise JobError(f"settings line {number}: write key=value, not {line!r}")
        out[setting[0]] = setting[1]
    return out


def corpus_from_upload(filename: str, data: bytes) -> str:
    """An uploaded zip of music files → `folder:PATH` (kept under the data folder; raises CorpusError)."""
    uploads = data_dir() / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(filename).stem)[:64] or "upload"
    path = uploads / f"{stem}.zip"
    tmp = uploads / f".{stem}.{os.getpid()}.{threading.get_ident()}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return f"folder:{unpack_zip(path)}"


def check(spec: JobSpec):
    """The customised preset the job will train (raises JobError with a one-line reason)."""
    if spec.preset not in PRESETS:
        raise JobError(f"unknown preset {spec.preset!r}; choose one of {', '.join(PRESETS)}")
    if spec.corpus is not None and spec.corpus not in CORPORA and not spec.corpus.startswith("folder:"):
        raise JobError(f"corpus {spec.corpus!r} is neither one of {', '.join(CORPORA)} nor folder:PATH")
    if spec.max_minutes is not None and not spec.max_minutes > 0:
        raise JobError("the time budget must be more than 0 minutes")
    if spec.max_steps is not None and spec.max_steps < 1:
        raise JobError("max steps must be at least 1")
    preset = PRESETS[spec.preset]
    try:
        name = spec.name or default_run_id(preset, spec.corpus_label or spec.corpus)
        custom = customise(preset, corpus=spec.corpus, settings=spec.settings, name=name)
    except PresetError as e:
        raise JobError(str(e)) from None
    if (checkpoints_dir() / custom.id).exists():
        raise JobError(f"{custom.id!r} is a shipped checkpoint; choose another name")
    return custom


def submit(spec: JobSpec) -> Job:
    """Queue a job (checked first: JobError) and make sure a runner is at work; returns the job."""
    custom = check(spec)
    with _state_lock():
        if any(j.active and j.checkpoint_id == custom.id for j in list_jobs()):
            raise JobError(f"a run named {custom.id!r} is already queued or running; choose another name")
        job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{custom.id}-{secrets.token_hex(2)}"
        (jobs_dir() / job_id).mkdir(parents=True)
        job = _save(Job(id=job_id, spec=spec, checkpoint_id=custom.id, created=time.time(),
                        max_steps=spec.max_steps or custom.train.max_steps,
                        max_seconds=spec.max_minutes * 60 if spec.max_minutes else custom.train.max_seconds))
    ensure_runner()
    return job


def cancel(job_id: str) -> Job:
    """A queued job is cancelled at once; a running one stops at its next progress report."""
    with _state_lock():
        job = read(job_id)
        if not job.active:
            raise JobError(f"job {job_id} is already {job.status}")
        if job.status == QUEUED:
            return _save(replace(job, status=CANCELLED, cancel_requested=True, finished=time.time()))
        return _save(replace(job, cancel_requested=True))


def forget(job_id: str) -> None:
    """Delete a finished job's record (not its checkpoint)."""
    job = read(job_id)
    if job.active:
        raise JobError(f"job {job_id} is {job.status}; cancel it first")
    shutil.rmtree(jobs_dir() / job_id, ignore_errors=True)


# ---- the runner ------------------------------------------------------------------------------------------
def _runner_lock_file():
    jobs_dir().mkdir(parents=True, exist_ok=True)
    return open(jobs_dir() / "runner.lock", "a")


def runner_alive() -> bool:
    with _runner_lock_file() as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
        return False


def ensure_runner() -> None:
    """Start a runner unless one is alive (it takes whatever is queued, then exits)."""
    if not runner_alive():
        _spawn_runner()


def _spawn_runner() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH", "")) if p)
    with open(jobs_dir() / "runner.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "musicgen", "jobs", "run"], cwd=PACKAGE_ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    threading.Thread(target=proc.wait, daemon=True).start()  # reaped when it ends: no zombie looks alive


def _claim_next() -> Job | None:
    with _state_lock():
        queued = [j for j in _stored() if j.status == QUEUED]
        if not queued:
            return None
        return _save(replace(queued[0], status=RUNNING, started=time.time(), runner_pid=os.getpid(),
                             phase="loading the music"))


def one_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def run_queue() -> int:
    """The runner: train queued jobs oldest first until none is left; returns how many it ran.

    Exits at once (0) when another live runner holds the lock."""
    ran = 0
    while True:
        with _runner_lock_file() as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return ran
            with _state_lock():  # holding the runner lock, any job still "running" lost its runner
                for job in _stored():
                    if job.status == RUNNING:
                        _save(replace(job, status=FAILED, error=DIED, phase="", finished=time.time()))
            while (job := _claim_next()) is not None:
                _run_one(job)
                ran += 1
            fcntl.flock(lock, fcntl.LOCK_UN)
        # A job submitted while we held the lock (after our last look) started no runner: look once more.
        if not any(j.status == QUEUED for j in _stored()):
            return ran


def _run_one(job: Job) -> None:
    import torch

    from musicgen import runtime
    from musicgen.evaluation import evaluate_model
    from musicgen.train import TrainingCancelled, train

    spec, default_threads = job.spec, torch.get_num_threads()
    print(f"{time.strftime('%H:%M:%S')} job {job.id}: start", flush=True)
    try:
        preset = customise(PRESETS[spec.preset], corpus=spec.corpus, settings=spec.settings, name=job.checkpoint_id)
        runtime.configure("train", threads=preset.train.threads or default_threads)
        records: list[dict] = []
        written = [0.0]  # when the job files were last written: at most every WRITE_EVERY seconds

        def on_progress(report: dict) -> bool:
            records.append(report["record"])
            if time.monotonic() - written[0] < WRITE_EVERY and "valid_loss" not in report["record"]:
                return _load(job.id).cancel_requested
            written[0] = time.monotonic()
            _write_json(jobs_dir() / job.id / PROGRESS, {"records": records})
            return _update(job.id, phase="training", step=report["step"], max_steps=report["max_steps"],
                           seconds=round(report["seconds"], 2), max_seconds=report["max_seconds"]).cancel_requested

        folder = train(preset, progress=False, max_steps=spec.max_steps,
                       max_seconds=spec.max_minutes * 60 if spec.max_minutes else None, on_progress=on_progress)
        if records:  # the last few, and the final step
            _write_json(jobs_dir() / job.id / PROGRESS, {"records": records})
            _update(job.id, step=records[-1]["step"], seconds=records[-1]["seconds"])
        if _load(job.id).cancel_requested:  # too late: the model was saved before the cancel was seen
            _update(job.id, status=DONE, phase="", finished=time.time(),
                    note="the cancel came after training had ended: the model is kept, not evaluated")
            return
        _update(job.id, phase="evaluating")
        runtime.configure("sample")
        note = ""
        try:
            update_card_evaluation(folder, evaluate_model(load_checkpoint(folder), spec.eval_samples))
        except Exception as e:  # the model is fine and usable; say why it has no numbers
            traceback.print_exc()
            note = f"not evaluated: {one_line(e)}"
        _update(job.id, status=DONE, phase="", finished=time.time(), note=note)
    except TrainingCancelled:
        _update(job.id, status=CANCELLED, phase="", finished=time.time())
    except Exception as e:
        traceback.print_exc()
        reason = one_line(e) if isinstance(e, (ValueError, CorpusError)) else f"{type(e).__name__}: {one_line(e)}"
        _update(job.id, status=FAILED, phase="", finished=time.time(), error=reason)
    print(f"{time.strftime('%H:%M:%S')} job {job.id}: {_load(job.id).status}", flush=True)
