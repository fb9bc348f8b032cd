"""`python -m musicgen bench [--quick] [--json PATH]`: how fast the app is, against its targets (--quick: fewer
runs, the shipped models only).

A benchmark, not a test: it prints a table and optionally writes JSON. `--listening N` is the listening-test
load instead: N participants against a server (bench/server_load.py; `--in-process`: bench/listening_load.py).
Per shipped model, at its card's default settings (what the Generate page asks before anything is touched),
medians over `runs` seeds after a warm-up: fresh `load_checkpoint`, sampling a 30 s clip,
synthesis, loudness normalisation, OGG (and, for information, MP3) encoding, and `end_to_end_30s_median_s` = sample +
`render_for_browser` (what the Generate page does). Then the global numbers: synthesis speed (audio
seconds per wall second at 22050 Hz, worst model), OGG kB per 30 s clip (worst model), app cold start
in headless Chromium, LSTM state-carried vs re-run-window speed-up, and A-lstm training throughput.

JSON (schema 1): {"schema", "quick", "created", "wall_s", "machine": {cpu_count, cpus_usable,
torch_threads, torch, load_average_1_5_15, soundfont, other_processes_cpus_busy (mean CPUs other processes
used while the bench ran: numbers are only comparable when it is ~0), ...}, "settings", "models": {id: {family, runs,
load_first_s, load_median_s, first_generate_s, sample_median_s, synthesis_median_s, normalize_median_s,
encode_ogg_median_s, encode_mp3_median_s, end_to_end_30s_median_s, end_to_end_30s_max_s, precomputed_seeds,
end_to_end_uncached_s (one seed outside the precomputed ones, when there are), audio_seconds,
notes_median, synthesis_realtime_factor, audio_kb_per_30s, mp3_kb_per_30s}}, "synthesis_realtime_factor",
"audio_kb_per_30s", "app_cold_start_s" (null + app_cold_start.reason when not measured), "app_cold_start",
"lstm_cached_vs_naive_speedup", "lstm_cached_vs_naive", "lstm_train_sequences_per_s", "lstm_train",
"checks": [{name, value, target, pass}], "all_pass", "section_s": {what: seconds the bench spent}}.
Seconds are wall-clock; kB are 1000 bytes.
"""

from __future__ import annotations

import datetime
import json
import sys
import time
from pathlib import Path

from musicgen.bench.app_start import measure_cold_start
from musicgen.bench.burn import busy_cpus
from musicgen.bench.lstm import cached_vs_naive, training_throughput
from musicgen.bench.pipeline import LENGTH, SAMPLE_RATE, bench_model, cpu_snapshot, machine_info, other_cpu_load
from musicgen.bench.report import checks, format_report
from musicgen.card import Card
from musicgen.checkpoints import list_cards, list_checkpoint_ids, load_checkpoint
from musicgen.presets import PRESETS, Preset

SCHEMA = 1
LSTM_ID = "A-lstm"
# runs: seeds per model after a warm-up; a model stops at min_runs once model_budget_s is spent.
# load_runs: fresh loads timed per model (--quick: one; a large user-trained Markov table takes seconds each).
FULL = {"runs": 7, "min_runs": 5, "load_runs": 7, "model_budget_s": 30.0, "lstm_tokens": 500, "cached_runs": 5,
        "naive_runs": 3, "naive_budget_s": 60.0, "train_warmup": 2, "train_steps": 7, "cold_start_runs": 3}
QUICK = {"runs": 3, "min_runs": 1, "load_runs": 1, "model_budget_s": 2.0, "lstm_tokens": 200, "cached_runs": 3,
         "naive_runs": 1, "naive_budget_s": 5.0, "train_warmup": 1, "train_steps": 3, "cold_start_runs": 1}
QUICK_COLD_START_BUDGET_S = 40.0  # --quick skips the cold start if the rest already took this long
QUICK_WALL_S = 55.0  # ... and gives it only what is left of this


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _lstm_checkpoint(ids: list[str]) -> str | None:
    if LSTM_ID in ids:
        return LSTM_ID
    for cid in ids:
        try:
            if load_checkpoint(cid).card.family == "lstm":
                return cid
        except Exception:  # noqa: BLE001, S112 — a broken checkpoint is reported by the model rows
            continue
    return None


def collect(*, quick: bool = False, ids: list[str] | None = None, cold_start: bool = True,
            train_preset: Preset | None = None, overrides: dict | None = None, log=_progress) -> dict:
    """Run every measurement and return the JSON-ready results (see the module doc).

    `overrides` replaces entries of QUICK/FULL (tests use fewer runs); `train_preset` the A-lstm preset."""
    started, cpu_before = time.perf_counter(), cpu_snapshot()
    settings = {**(QUICK if quick else FULL), **(overrides or {})}
    if ids is None:
        ids = list_checkpoint_ids()
        if quick:  # the shipped models only: a user's own (e.g. a large Markov table) can take seconds to load
            yours = {c.id for c in list_cards() if isinstance(c, Card) and c.user_trained}
            ids = [cid for cid in ids if cid not in yours]
    result: dict = {"schema": SCHEMA, "quick": quick,
                    "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "machine": machine_info(),
                    "settings": {**settings, "sample_rate": SAMPLE_RATE, "length": LENGTH}, "models": {}}
    sections = result["section_s"] = {}
    for cid in ids:
        log(f"bench: {cid} ({settings['runs']} runs after a warm-up)")
        t = time.perf_counter()
        try:
            result["models"][cid] = bench_model(cid, settings["runs"], min_runs=settings["min_runs"],
                                                budget_s=settings["model_budget_s"],
                                                load_runs=settings.get("load_runs"))
        except Exception as e:  # noqa: BLE001 — one broken model must not hide the others' numbers
            result["models"][cid] = {"error": f"{type(e).__name__}: {e}"}
        sections[cid] = time.perf_counter() - t
    good = [m for m in result["models"].values() if "error" not in m]
    result["synthesis_realtime_factor"] = min((m["synthesis_realtime_factor"] for m in good), default=None)
    result["audio_kb_per_30s"] = max((m["audio_kb_per_30s"] for m in good), default=None)

    lstm_id = _lstm_checkpoint(ids)
    if lstm_id is None:
        result["lstm_cached_vs_naive"] = {"reason": "no LSTM checkpoint installed"}
    else:
        log(f"bench: {lstm_id} state carried vs {settings['lstm_tokens']} re-run windows")
        t = time.perf_counter()
        model = load_checkpoint(lstm_id).model
        result["lstm_cached_vs_naive"] = {"checkpoint": lstm_id, **cached_vs_naive(
            model, n_tokens=settings["lstm_tokens"], cached_runs=settings["cached_runs"],
            naive_runs=settings["naive_runs"], naive_budget_s=settings["naive_budget_s"])}
        sections["lstm_cached_vs_naive"] = time.perf_counter() - t
    result["lstm_cached_vs_naive_speedup"] = result["lstm_cached_vs_naive"].get("speedup")

    preset = train_preset or PRESETS[LSTM_ID]
    log(f"bench: {preset.id} training throughput")
    t = time.perf_counter()
    result["lstm_train"] = training_throughput(preset, warmup_steps=settings["train_warmup"],
                                               steps=settings["train_steps"])
    result["lstm_train_sequences_per_s"] = result["lstm_train"]["sequences_per_s"]
    sections["lstm_train"] = time.perf_counter() - t

    so_far = time.perf_counter() - started
    if not cold_start:
        result["app_cold_start"] = {"app_cold_start_s": None, "reason": "skipped by the caller"}
    elif quick and so_far > QUICK_COLD_START_BUDGET_S:
        result["app_cold_start"] = {"app_cold_start_s": None,
                                    "reason": f"skipped: --quick had used {so_far:.0f} s of its minute"}
    else:
        log(f"bench: app cold start ({settings['cold_start_runs']} runs)")
        t = time.perf_counter()
        limit = max(10.0, QUICK_WALL_S - so_far) if quick else 60.0 * settings["cold_start_runs"]
        result["app_cold_start"] = measure_cold_start(settings["cold_start_runs"], timeout_s=limit)
        sections["app_cold_start"] = time.perf_counter() - t
    result["app_cold_start_s"] = result["app_cold_start"]["app_cold_start_s"]

    result["checks"] = checks(result)
    result["all_pass"] = all(c["pass"] for c in result["checks"] if c["pass"] is not None)
    result["wall_s"] = time.perf_counter() - started
    load = other_cpu_load(cpu_before, cpu_snapshot())
    result["machine"]["other_processes_cpus_busy"] = None if load is None else round(load, 2)
    return result


def write_json(result: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def _think(text: str) -> tuple[float, float]:
    low, _, high = str(text).partition("-")
    return float(low), float(high or low)


def run_cli(args) -> int:
    load = max(0, int(getattr(args, "load", 0) or 0))
    if load:
        _progress(f"bench: {load} busy process(es) keep {load} CPU(s) busy throughout (--load)")
    with busy_cpus(load):
        code, result, text = _run(args, load)
    print(text)
    if getattr(args, "json", None):
        print(f"wrote {write_json(result, args.json)}")
    return code


def _run(args, load: int) -> tuple[int, dict, str]:
    if getattr(args, "listening", None):
        from musicgen.bench import listening_load, server_load

        think = _think(getattr(args, "think", None) or "8-12")
        trials = getattr(args, "trials", None) or 5
        if getattr(args, "in_process", False):
            module = listening_load
            result = listening_load.run(args.listening, trials=trials, think_s=think, db_url=getattr(args, "db", None),
                                        log=_progress)
        else:
            module = server_load
            result = server_load.run(args.listening, trials=trials, think_s=think, url=getattr(args, "url", None),
                                     db_url=getattr(args, "db", None), app=getattr(args, "app", None) or "study",
                                     server_pid=getattr(args, "server_pid", None), log=_progress)
        result["background_load_cpus"] = load
        bad = result["errors"] or result["lost_or_doubled"] or result.get("answers_mismatched")
        return (1 if bad else 0), result, module.format_result(result)
    result = collect(quick=bool(getattr(args, "quick", False)))
    result["machine"]["background_load_cpus"] = load
    return 0, result, format_report(result)
