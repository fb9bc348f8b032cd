"""The clip bank and the render pool: a study's clips are rendered ahead, so serving a trial is a lookup.

*Render pool.* Every heavy step of the listening test (sampling a model, synthesis, matching and MP3
encoding) runs in one small pool of worker threads per process: $MUSICGEN_RENDER_WORKERS (default 1),
each under the `sample` torch profile (one intra-op thread). However many sessions Streamlit serves at
once, at most that many renders run, so they never oversubscribe the cores. Jobs have a priority
(URGENT: a participant is waiting; LOOKAHEAD: the participant's next trial; BACKGROUND: topping up the
bank) and a key: a job already queued or running under the same key is shared, not repeated.

*Clip bank.* A rendered clip (the synthesised notes of one system + seed + settings, before any matching)
is stored in the vote store's `clip_bank` table as 16-bit FLAC, keyed by a hash of its provenance
(system, seed, settings, soundfont, sample rate): a changed checkpoint or sample set has other settings,
hence other keys, and its old clips are never served. A continuation clip's settings name its opening (the
held-out piece it continues), so the key does too, and a continuation study banks clips opening by opening. Each study keeps $MUSICGEN_CLIP_BANK clips per
system ready (default 8; 0 turns the bank and the look-ahead off: every clip is rendered on demand,
still in the pool), plus one more for every REUSE trials that system has played, up to MAX_BANK; the
scheduler serves the least-played banked clip a participant has not heard, and renders a fresh one
when there is none (never an error for the participant). Blinding is untouched: banked clips are raw
synthesis; each trial still cuts its clips to one length, matches their loudness and encodes them
with constant bitrate (schedule.trial_audio).
"""

from __future__ import annotations

import atexit
import hashlib
import io
import itertools
import json
import os
import queue
import secrets
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from pathlib import Path

import soundfile

from musicgen import runtime
from musicgen.audio import Clip, encode_blind, match_clips
from musicgen.listening import clips
from musicgen.listening.store import VoteStore
from musicgen.listening.study import REAL, StudySpec
from musicgen.synth import render_audio, resolve_soundfont

WORKERS_ENV = "MUSICGEN_RENDER_WORKERS"
BANK_ENV = "MUSICGEN_CLIP_BANK"
DEFAULT_WORKERS = 1
DEFAULT_BANK = 8
REUSE = 4  # one more banked clip of a system for every REUSE trials it has played in a study
MAX_BANK = 256
URGENT, LOOKAHEAD, BACKGROUND = 0, 1, 2
_STOP = 99


def bank_size() -> int:
    """Clips per system a study keeps ready ($MUSICGEN_CLIP_BANK; 0 = no bank, no look-ahead)."""
    return max(0, int(os.environ.get(BANK_ENV, "") or DEFAULT_BANK))


def soundfont_name(soundfont: str | None) -> str:
    return Path(soundfont).name if soundfont else resolve_soundfont().name


# ---- the pool ---------------------------------------------------------------------------------------
_in_worker = threading.local()


class RenderPool:
    """A fixed number of worker threads running keyed, prioritised jobs (see the module doc)."""

    def __init__(self, workers: int):
        self.workers = max(1, int(workers))
        self._queue: queue.PriorityQueue = queue.PriorityQueue()
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._jobs: dict[str, Future] = {}
        self._started: set[str] = set()
        self._threads: list[threading.Thread] = []
        self.running = 0
        self.peak = 0  # most jobs ever running at once (tests check it never passes `workers`)
        self.completed = 0

    def submit(self, key: str, fn, priority: int = BACKGROUND) -> Future:
        """Run `fn()` in the pool; a job with the same key already queued or running is shared (and moved
        up to `priority` if that is more urgent)."""
        with self._lock:
            fut = self._jobs.get(key)
            if fut is None:
                fut = self._jobs[key] = Future()
            elif key in self._started:
                return fut
            self._queue.put((priority, next(self._seq), key, fn, fut))
            while len(self._threads) < self.workers:
                t = threading.Thread(target=self._work, name=f"musicgen-render-{len(self._threads)}", daemon=True)
                self._threads.append(t)
                t.start()
        return fut

    def run(self, key: str, fn, priority: int = URGENT):
        """`fn()`'s result, run in the pool (inline when already on a pool worker: no nested waits)."""
        if getattr(_in_worker, "active", False):
            return fn()
        return self.submit(key, fn, priority).result()

    def pending(self) -> int:
        with self._lock:
            return len(self._jobs)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no job is queued or running (True), or the timeout passes (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while self._jobs:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def shutdown(self) -> None:
        """Workers stop once the queue ahead of them is done."""
        for _ in self._threads:
            self._queue.put((_STOP, next(self._seq), None, None, None))

    def close(self, timeout: float = 60.0) -> None:
        """Drop the queued jobs, let the running ones finish (up to `timeout`), stop the workers. At exit:
        a worker killed inside torch or FluidSynth while the interpreter shuts down aborts the whole process
        ("terminate called without an active exception", exit 134), e.g. a test run whose last page started
        background renders."""
        dropped = []
        with self._lock:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                _, _, key, _, fut = item
                if fut is not None and key not in self._started and self._jobs.get(key) is fut:
                    self._jobs.pop(key, None)
                    dropped.append(fut)
            self._idle.notify_all()
        for fut in dropped:
            fut.cancel()
        self.shutdown()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _work(self) -> None:
        runtime.configure("sample")
        _in_worker.active = True
        while True:
            priority, _, key, fn, fut = self._queue.get()
            if priority == _STOP:
                return
            with self._lock:
                if self._jobs.get(key) is not fut or key in self._started:
                    continue  # a stale duplicate of a job that ran already (or is running)
                self._started.add(key)
                self.running += 1
                self.peak = max(self.peak, self.running)
            try:
                result, error = fn(), None
            except BaseException as e:  # noqa: BLE001 — handed to whoever waits on the future
                result, error = None, e
            with self._lock:
                self.running -= 1
                self.completed += 1
                self._started.discard(key)
                self._jobs.pop(key, None)
                self._idle.notify_all()
            if error is None:
                fut.set_result(result)
            else:
                fut.set_exception(error)


_POOL: RenderPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> RenderPool:
    """The process's render pool ($MUSICGEN_RENDER_WORKERS workers, started on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = RenderPool(int(os.environ.get(WORKERS_ENV, "") or DEFAULT_WORKERS))
            atexit.register(_close_at_exit)
        return _POOL


def _close_at_exit() -> None:
    if _POOL is not None:
        _POOL.close()


def reset_pool(workers: int | None = None) -> RenderPool:
    """A new pool (the old one finishes its queue and stops); for the bench and tests."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None:
            _POOL.shutdown()
        else:
            atexit.register(_close_at_exit)
        _POOL = RenderPool(workers or int(os.environ.get(WORKERS_ENV, "") or DEFAULT_WORKERS))
        return _POOL


# ---- clips ------------------------------------------------------------------------------------------
def clip_key(system: str, seed: int, settings: dict, soundfont: str, sample_rate: int) -> str:
    """The bank key: a hash of everything that decides a clip's audio."""
    blob = json.dumps([system, int(seed), settings, soundfont, int(sample_rate)], sort_keys=True,
                      separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _to_flac(clip: Clip) -> bytes:
    out = io.BytesIO()
    soundfile.write(out, clip.samples, clip.sample_rate, format="FLAC", subtype="PCM_16")
    return out.getvalue()


def _from_flac(data: bytes, soundfont: str) -> Clip:
    samples, rate = soundfile.read(io.BytesIO(data), dtype="float32")
    return Clip(samples=samples, sample_rate=rate, soundfont=soundfont)


# ---- blind encodings ---------------------------------------------------------------------------------
FADE_SECONDS = 0.5  # every trial's clips fade out over this (schedule.py uses it)
# Matched samples -> their blind MP3 (this process). A banked clip is served to several participants and,
# matched to the same level and length (the usual case: both clips of a trial reach the target loudness),
# gives the same samples, so its encoding (~0.2 s of a 20 s clip, most of a trial's audio time) is done once:
# when the clip is banked (`_render` keeps it in the store's blind_encodings, for every process) or else the
# first time a trial needs it. Keyed by the samples' hash: a clip matched differently simply misses.
_ENCODED: "OrderedDict[str, bytes]" = OrderedDict()
_ENCODED_SIZE = 512  # ~0.2 MB each
_ENCODED_LOCK = threading.Lock()


def samples_hash(clip: Clip) -> str:
    return hashlib.blake2b(clip.samples.tobytes(), digest_size=16, person=str(clip.sample_rate).encode()).hexdigest()


def encode_blind_once(clip: Clip, *, store: VoteStore | None = None, key: str | None = None) -> bytes:
    """`audio.encode_blind(clip)`, made once: from this process's cache, else the store's blind encoding of
    the banked clip `key` when its samples are these, else encoded now (and cached)."""
    return _blind(clip, store=store, key=key)[1]


def _blind(clip: Clip, *, store: VoteStore | None = None, key: str | None = None) -> tuple[str, bytes]:
    """(samples hash, blind MP3) of a clip, as `encode_blind_once` makes it."""
    digest = samples_hash(clip)
    with _ENCODED_LOCK:
        if digest in _ENCODED:
            _ENCODED.move_to_end(digest)
            return digest, _ENCODED[digest]
    stored = store.get_blind(key) if store is not None and key is not None else None
    data = stored[1] if stored is not None and stored[0] == digest else encode_blind(clip)
    with _ENCODED_LOCK:
        _ENCODED[digest] = data
        while len(_ENCODED) > _ENCODED_SIZE:
            _ENCODED.popitem(last=False)
    return digest, data


def solo_matched(clip: Clip, seconds: float) -> Clip:
    """A clip matched as a trial matches it when its partner reaches the target loudness too."""
    return match_clips([clip], length=min(float(seconds), clip.duration), fade=FADE_SECONDS)[0]


def _render(store: VoteStore | None, study_id: str, system: str, seed: int, settings: dict, *, sample_rate: int,
            soundfont: str | None, key: str) -> bytes:
    if store is not None and (data := store.get_clip(key)) is not None:
        return data  # banked meanwhile (another job or process)
    started = time.perf_counter()
    clip = render_audio(clips.clip_notes(system, seed, settings), sample_rate=sample_rate, soundfont=soundfont)
    data = _to_flac(clip)
    if store is not None and bank_size() > 0:
        store.put_clip(key=key, study_id=study_id, system=system, seed=seed, settings=settings,
                       soundfont=soundfont_name(soundfont), sample_rate=sample_rate, seconds=clip.duration,
                       render_seconds=time.perf_counter() - started, audio=data)
        if "seconds" in settings:  # its blind MP3 too, from the banked (16-bit) samples a trial will read
            store.put_blind(key, *_blind(solo_matched(_from_flac(data, soundfont_name(soundfont)), settings["seconds"])))
    return data


def get_clip(store: VoteStore | None, study_id: str, system: str, seed: int, settings: dict, *, sample_rate: int,
             soundfont: str | None = None, priority: int = URGENT) -> Clip:
    """A clip's synthesised audio: from the bank, else rendered in the pool (and banked)."""
    name = soundfont_name(soundfont)
    key = clip_key(system, seed, settings, name, sample_rate)
    data = store.get_clip(key) if store is not None and bank_size() > 0 else None
    if data is None:
        data = pool().run(f"clip:{key}", lambda: _render(store, study_id, system, seed, settings,
                                                         sample_rate=sample_rate, soundfont=soundfont, key=key),
                          priority)
    return _from_flac(data, name)


def usable_clips(store: VoteStore, spec: StudySpec, system: str, *, soundfont: str, sample_rate: int) -> list[dict]:
    """Banked clips of a study's system that may be served now (same soundfont and rate, provenance still
    current: a changed checkpoint or sample set gives other settings)."""
    out = []
    for c in store.banked_clips(spec.id, system):
        if c["soundfont"] != soundfont or c["sample_rate"] != sample_rate:
            continue
        try:  # a continuation clip is checked against the settings of its own opening (primer_seed)
            if c["settings"] == clips.clip_settings(spec, system, c["seed"], primer=c["settings"].get("primer_seed")):
                out.append(c)
        except (ValueError, OSError, KeyError):
            continue
    return out


_TOPPING: dict[tuple[str, str], int] = {}  # (study, system) -> clips queued for the bank (this process)
_TOPPING_LOCK = threading.Lock()


def warm(store: VoteStore, spec: StudySpec, *, sample_rate: int, log=lambda *_: None) -> float:
    """Fill a study's bank now (its clips and their blind MP3s), waiting for it; the seconds it took."""
    started = time.perf_counter()
    if bank_size() > 0:
        log(f"warming the clip bank ({bank_size()} clips per system)")
        for f in top_up(store, spec, sample_rate=sample_rate):
            f.result()
    return time.perf_counter() - started


def top_up(store: VoteStore, spec: StudySpec, *, sample_rate: int, soundfont: str | None = None) -> list[Future]:
    """Queue background renders until each system of the study has its share of banked clips (see the
    module doc); returns the futures (the bench waits on them to warm a study)."""
    n = bank_size()
    if n <= 0:
        return []
    name = soundfont_name(soundfont)
    futures = []
    order = None  # a continuation study's openings, least banked first: the same order for every system
    for system in spec.systems:
        try:
            banked = usable_clips(store, spec, system, soundfont=name, sample_rate=sample_rate)
            space = clips.seed_space(spec, system)
        except (ValueError, OSError, KeyError):
            continue  # a broken system is reported when a trial needs it
        played = sum(store.clip_uses(spec.id, system).values())
        target = min(MAX_BANK, space, n + played // REUSE)
        with _TOPPING_LOCK:
            missing = target - len(banked) - _TOPPING.get((spec.id, system), 0)
            if missing <= 0:
                continue
            _TOPPING[(spec.id, system)] = _TOPPING.get((spec.id, system), 0) + missing
        taken = {c["seed"] for c in banked}
        if spec.clip.primer != "none" and order is None:
            order = _primer_order(store, spec, name, sample_rate)
        primers = None if order is None else order[:max(1, missing)]
        for i, seed in enumerate(_fresh_seeds(system, space, taken, missing)):
            primer = None if primers is None else primers[i % len(primers)]
            seed = primer if primer is not None and system == REAL else seed
            futures.append(_queue_render(store, spec, system, seed, sample_rate=sample_rate, soundfont=soundfont,
                                         primer=primer))
    return futures


def _primer_order(store: VoteStore, spec: StudySpec, soundfont: str, sample_rate: int) -> list[int]:
    """A continuation study's openings in the order to bank clips for them: fewest banked clips (all systems)
    first, so the bank fills opening by opening and a trial finds every system's clip of one opening."""
    per_piece = {i: 0 for i in range(clips.seed_space(spec, REAL))}
    for system in spec.systems:
        for c in usable_clips(store, spec, system, soundfont=soundfont, sample_rate=sample_rate):
            if c["settings"].get("primer_seed") in per_piece:
                per_piece[c["settings"]["primer_seed"]] += 1
    rng = secrets.SystemRandom()
    return sorted(per_piece, key=lambda i: (per_piece[i], rng.random()))


def _fresh_seeds(system: str, space: int, taken: set, k: int) -> list[int]:
    rng = secrets.SystemRandom()
    if system == REAL or space <= 4 * (len(taken) + k):
        return rng.sample([s for s in range(space) if s not in taken], min(k, space - len(taken)))
    out: set[int] = set()
    while len(out) < k:
        seed = rng.randrange(space)
        if seed not in taken:
            out.add(seed)
    return sorted(out)


def _queue_render(store: VoteStore, spec: StudySpec, system: str, seed: int, *, sample_rate: int,
                  soundfont: str | None, primer: int | None = None) -> Future:
    def job():
        try:
            settings = clips.clip_settings(spec, system, seed, primer=primer)
            key = clip_key(system, seed, settings, soundfont_name(soundfont), sample_rate)
            return _render(store, spec.id, system, seed, settings, sample_rate=sample_rate, soundfont=soundfont,
                           key=key)
        finally:
            with _TOPPING_LOCK:
                _TOPPING[(spec.id, system)] = max(0, _TOPPING.get((spec.id, system), 0) - 1)

    return pool().submit(f"bank:{spec.id}:{system}:{seed}:{primer}", job, BACKGROUND)
