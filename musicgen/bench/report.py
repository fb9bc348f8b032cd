"""Targets, PASS/FAIL checks and the printed table for `musicgen bench`."""

from __future__ import annotations

# name → (comparison, target, unit); the targets are the issues', for the 2-core CPU machine.
# A warm 30 s clip end to end: issue 16 ("serve a crowd") set 0.5 s for every model on a quiet machine
# (the first bench issue's 0.3 s was never met by the note models; 0.5 s is the one we hold to now).
END_TO_END_MAX_S = 0.5
TARGETS = {
    "synthesis_realtime_factor": (">=", 200.0, "× real time (worst model)"),
    "audio_kb_per_30s": ("<=", 500.0, "kB OGG per 30 s (worst model)"),
    "app_cold_start_s": ("<=", 4.0, "s server start → page"),
    "lstm_cached_vs_naive_speedup": (">=", 20.0, "× (state carried / 100-token window)"),
}


def _passes(value, op: str, target: float):
    if value is None:
        return None
    return value <= target if op == "<=" else value >= target


def checks(result: dict) -> list[dict]:
    out = []
    for cid, m in result["models"].items():
        value = m.get("end_to_end_30s_median_s")
        out.append({"name": f"end_to_end_30s_median_s[{cid}]", "value": value, "target": f"<= {END_TO_END_MAX_S}",
                    "pass": _passes(value, "<=", END_TO_END_MAX_S) if "error" not in m else False})
    for name, (op, target, _) in TARGETS.items():
        out.append({"name": name, "value": result.get(name), "target": f"{op} {target:g}",
                    "pass": _passes(result.get(name), op, target)})
    return out


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(head)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(head, widths)), "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)


def _verdict(p) -> str:
    return "n/a" if p is None else ("PASS" if p else "FAIL")


def format_report(result: dict) -> str:
    m = result["machine"]
    s = result["settings"]
    header = (f"musicgen bench{' --quick' if result['quick'] else ''}: {m['cpu_count']} CPUs "
              f"({m['cpus_usable']} usable), torch {m['torch']} with {m['torch_threads']} threads, "
              f"load average {m['load_average_1_5_15']}, soundfont {m['soundfont']}; medians of {s['runs']} runs "
              f"after a warm-up, {s['length']} clips at {s['sample_rate']} Hz")
    parts = [header]
    busy = m.get("other_processes_cpus_busy")
    load = m.get("background_load_cpus") or 0
    if load:
        parts.append(f"LOADED on purpose: --load {load} kept {load} CPU(s) busy with spinning processes "
                     f"(other processes in all: {_fmt(busy, 1)} CPUs busy)")
    elif busy is not None and busy > 0.25:
        parts.append(f"WARNING: other processes kept {busy:.1f} of {m['cpus_usable'] or m['cpu_count']} CPUs busy "
                     "during the bench; these timings overstate the app's (rerun on a quiet machine)")
    parts.append("")
    verdicts = {c["name"]: c["pass"] for c in result["checks"]}
    head = ["model", "load s", "sample s", "synth s", "normalise s", "ogg s", "end-to-end s",
            f"≤ {END_TO_END_MAX_S:g} s", "synth ×RT", "ogg kB/30s", "mp3 kB", "mp3 s", "not precomputed s"]
    rows = []
    for cid, r in result["models"].items():
        if "error" in r:
            rows.append([cid, r["error"][:60]] + [""] * 5 + ["FAIL"] + [""] * 5)
            continue
        rows.append([cid, _fmt(r["load_median_s"]), _fmt(r["sample_median_s"]), _fmt(r["synthesis_median_s"]),
                     _fmt(r["normalize_median_s"]), _fmt(r["encode_ogg_median_s"]),
                     _fmt(r["end_to_end_30s_median_s"]), _verdict(verdicts[f"end_to_end_30s_median_s[{cid}]"]),
                     _fmt(r["synthesis_realtime_factor"], 0), _fmt(r["audio_kb_per_30s"], 1),
                     _fmt(r["mp3_kb_per_30s"], 1), _fmt(r["encode_mp3_median_s"]),
                     _fmt(r.get("end_to_end_uncached_s")) if r.get("precomputed_seeds") else ""])
    parts += [_table(head, rows)]
    stored = [f"{cid} ({r['precomputed_seeds']} seeds)" for cid, r in result["models"].items()
              if r.get("precomputed_seeds")]
    if stored:
        parts.append(f"Precomputed clips (musicgen precompute) serve the timed seeds of {', '.join(stored)}; "
                     "'not precomputed s' is one clip of a seed outside them, end to end.")
    parts.append("")

    notes = {
        "app_cold_start_s": result["app_cold_start"].get("reason")
        or f"full page {_fmt(result['app_cold_start'].get('full_page_median_s'), 2)} s, server answers "
           f"{_fmt(result['app_cold_start'].get('server_ready_median_s'), 2)} s",
        "lstm_cached_vs_naive_speedup": result["lstm_cached_vs_naive"].get("reason") or (
            f"{result['lstm_cached_vs_naive']['checkpoint']}, {result['lstm_cached_vs_naive']['tokens']} tokens: "
            f"{_fmt(result['lstm_cached_vs_naive']['cached_ms_per_token'], 2)} vs "
            f"{_fmt(result['lstm_cached_vs_naive']['naive_ms_per_token'], 2)} ms/token"),
    }
    rows = []
    for name, (op, target, unit) in TARGETS.items():
        value = result.get(name)
        rows.append([name, _fmt(value, 2 if name != "synthesis_realtime_factor" else 0), f"{op} {target:g} {unit}",
                     _verdict(verdicts[name]), notes.get(name, "")])
    train = result["lstm_train"]
    train_note = (f"{train['preset']}: batch {train['batch_size']}×{train['window']} tokens, "
                  f"{_fmt(train['step_median_s'], 3)} s/step")
    rows.append(["lstm_train_sequences_per_s", _fmt(train["sequences_per_s"], 1), "(no target)", "", train_note])
    parts.append(_table(["global", "value", "target", "verdict", "note"], rows))
    passed = [c for c in result["checks"] if c["pass"] is not None]
    unmeasured = len(result["checks"]) - len(passed)
    parts += ["", f"{sum(c['pass'] for c in passed)}/{len(passed)} targets met"
              + (f" ({unmeasured} not measured)" if unmeasured else "")
              + f"; bench took {result.get('wall_s', 0):.0f} s"]
    return "\n".join(parts)
