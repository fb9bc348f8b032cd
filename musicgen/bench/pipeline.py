"""Per-model timings of what the Generate page does: load, sample 30 s, synthesise, normalise, encode."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time

import torch

from musicgen import precomputed
from musicgen.audio import Clip, encode_mp3, encode_ogg, normalize_loudness
from musicgen.checkpoints import checkpoint_folder, load_checkpoint, read_card
from musicgen.systems import Request, default_request, get_system, make_clip
from musicgen.synth import render_audio, render_for_browser, resolve_soundfont

SAMPLE_RATE = 22050  # the app's rate (musicgen.ui.resources.SAMPLE_RATE; not imported: that pulls in streamlit)
LENGTH = "30s"
WARMUP_SEED = 999


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def machine_info() -> dict:
    try:
        affinity = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        affinity = None
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    try:
        soundfont = resolve_soundfont().name
    except Exception as e:  # noqa: BLE001 — machine info must never fail the bench
        soundfont = f"unavailable: {e}"
    return {"cpu_count": os.cpu_count(), "cpus_usable": affinity, "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(), "torch": torch.__version__,
            "mkldnn_available": torch.backends.mkldnn.is_available(), "python": sys.version.split()[0],
            "platform": platform.platform(), "processor": platform.machine(), "load_average_1_5_15": load,
            "soundfont": soundfont}


def cpu_snapshot() -> tuple[float, float, float] | None:
    """(wall s, busy CPU-s of the whole machine, CPU-s of this process and its waited-for children)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    busy = (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system + t.children_user + t.children_system


def other_cpu_load(before, after) -> float | None:
    """Mean number of CPUs kept busy by *other* processes between two snapshots (0 = a quiet machine)."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    return max(0.0, ((after[1] - before[1]) - (after[2] - before[2])) / (after[0] - before[0]))


def time_load(checkpoint_id: str, runs: int) -> dict:
    """Fresh `load_checkpoint` each time (read, hash, rebuild); the first one of the process is reported apart."""
    t = time.perf_counter()
    load_checkpoint(checkpoint_id)
    first = time.perf_counter() - t
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        load_checkpoint(checkpoint_id)
        times.append(time.perf_counter() - t)
    return {"load_first_s": first, "load_median_s": median(times)}


def page_request(checkpoint_id: str, seed: int) -> Request:
    """What the Generate page asks for before anything is touched: the card's default settings, a 30 s clip."""
    return default_request(get_system(checkpoint_id), seed=seed, length=LENGTH)


def time_generate(checkpoint_id: str, runs: int, *, min_runs: int | None = None,
                  budget_s: float = float("inf")) -> dict:
    """`runs` seeds after a warm-up (which also loads the soundfont). Each run times the page's path
    end to end (generate + render_for_browser), then the stages one by one on the same notes.
    A slow model stops after `min_runs` once `budget_s` is spent; `runs` in the result says how many ran."""
    min_runs = runs if min_runs is None else min_runs
    t = time.perf_counter()  # the warm-up loads the model into the process's cache, as the app's first click does
    render_for_browser(make_clip(page_request(checkpoint_id, WARMUP_SEED)),
                       sample_rate=SAMPLE_RATE)
    warmup = time.perf_counter() - t
    uncached = _time_uncached(checkpoint_id)
    rows: dict[str, list[float]] = {k: [] for k in (
        "sample", "end_to_end", "synthesis", "normalize", "encode_ogg", "encode_mp3", "audio_seconds",
        "realtime", "ogg_bytes", "mp3_bytes", "notes")}
    started = time.perf_counter()
    for seed in range(runs):
        if seed >= min_runs and time.perf_counter() - started > budget_s:
            break
        t0 = time.perf_counter()
        seq = make_clip(page_request(checkpoint_id, seed))
        t1 = time.perf_counter()
        ogg, _ = render_for_browser(seq, sample_rate=SAMPLE_RATE)
        t2 = time.perf_counter()
        clip = render_audio(seq, sample_rate=SAMPLE_RATE)
        t3 = time.perf_counter()
        normed = Clip(samples=normalize_loudness(clip.samples, sample_rate=SAMPLE_RATE), sample_rate=SAMPLE_RATE,
                      soundfont=clip.soundfont)
        t4 = time.perf_counter()
        ogg_again = encode_ogg(normed)
        t5 = time.perf_counter()
        mp3 = encode_mp3(normed)
        t6 = time.perf_counter()
        assert ogg_again == ogg, "render_for_browser no longer matches render_audio + normalize + encode_ogg"
        for key, value in (("sample", t1 - t0), ("end_to_end", t2 - t0), ("synthesis", t3 - t2),
                           ("normalize", t4 - t3), ("encode_ogg", t5 - t4), ("encode_mp3", t6 - t5),
                           ("audio_seconds", clip.duration), ("realtime", clip.duration / max(t3 - t2, 1e-9)),
                           ("ogg_bytes", len(ogg)), ("mp3_bytes", len(mp3)), ("notes", len(seq))):
            rows[key].append(float(value))
    return {
        "family": read_card_family(checkpoint_id), "runs": len(rows["sample"]), "first_generate_s": warmup,
        "sample_median_s": median(rows["sample"]), "synthesis_median_s": median(rows["synthesis"]),
        "normalize_median_s": median(rows["normalize"]), "encode_ogg_median_s": median(rows["encode_ogg"]),
        "encode_mp3_median_s": median(rows["encode_mp3"]),
        "end_to_end_30s_median_s": median(rows["end_to_end"]),
        "end_to_end_30s_max_s": max(rows["end_to_end"]),
        "audio_seconds": median(rows["audio_seconds"]), "notes_median": median(rows["notes"]),
        "synthesis_realtime_factor": median(rows["realtime"]),
        "audio_kb_per_30s": median(rows["ogg_bytes"]) / 1000, "mp3_kb_per_30s": median(rows["mp3_bytes"]) / 1000,
        **uncached,
    }


UNCACHED_SEED = 10_001  # above any precomputed range


def _time_uncached(checkpoint_id: str) -> dict:
    """For a model whose timed seeds are precomputed (`musicgen.precomputed`), one clip it has to make."""
    settings, count = precomputed.stored_seeds(checkpoint_folder(checkpoint_id))
    request = page_request(checkpoint_id, UNCACHED_SEED)
    if not count or settings != precomputed.settings_of(temperature=request.temperature, top_k=request.top_k,
                                                         top_p=request.top_p, length=request.length):
        return {"precomputed_seeds": 0}
    t = time.perf_counter()
    render_for_browser(make_clip(request), sample_rate=SAMPLE_RATE)
    return {"precomputed_seeds": count, "end_to_end_uncached_s": time.perf_counter() - t}


def read_card_family(checkpoint_id: str) -> str:
    return read_card(checkpoint_folder(checkpoint_id)).family


def bench_model(checkpoint_id: str, runs: int, *, min_runs: int | None = None, budget_s: float = float("inf"),
                load_runs: int | None = None) -> dict:
    return {**time_load(checkpoint_id, runs if load_runs is None else load_runs),
            **time_generate(checkpoint_id, runs, min_runs=min_runs, budget_s=budget_s)}
