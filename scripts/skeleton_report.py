"""Numbers for the walking skeleton, printed as tables (a benchmark script, not a test).

    .venv/bin/python scripts/skeleton_report.py [--runs 7] [--models A-lstm markov]

- held-out NLL per token on the test split (same tokens, same windows for every model)
- collapse check at temperature 1: distinct pitches and the commonest pitch's share over 30 s
- first model load, and warm Generate of a 30 s clip (sampling + synthesis + OGG encoding), median
- checkpoint size and training time from the card
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from musicgen.checkpoints import checkpoints_dir, list_checkpoint_ids, load_checkpoint  # noqa: E402
from musicgen.generate import Request, generate  # noqa: E402


def collapse_stats(ck, seeds=range(8)) -> tuple[float, float, float]:
    distinct, top_share = [], []
    for s in seeds:
        seq = generate(ck, Request(model=ck.id, seed=s, temperature=1.0, length="30s"))
        counts = Counter(seq.pitches)
        distinct.append(len(counts))
        top_share.append(max(counts.values()) / max(1, len(seq)))
    return min(distinct), statistics.mean(distinct), max(top_share)


def time_generate(ck, runs: int) -> dict:
    from musicgen.synth import render_for_browser

    timings = {"sample": [], "synth+encode": [], "total": []}
    render_for_browser(generate(ck, Request(model=ck.id, seed=999)))  # warm-up (soundfont load)
    for i in range(runs):
        t0 = time.perf_counter()
        seq = generate(ck, Request(model=ck.id, seed=i, length="30s"))
        t1 = time.perf_counter()
        render_for_browser(seq)
        t2 = time.perf_counter()
        timings["sample"].append(t1 - t0)
        timings["synth+encode"].append(t2 - t1)
        timings["total"].append(t2 - t0)
    return {k: statistics.median(v) for k, v in timings.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--models", nargs="*", default=None)
    args = ap.parse_args()
    ids = args.models or list_checkpoint_ids()
    rows = []
    for cid in ids:
        t = time.perf_counter()
        ck = load_checkpoint(cid)
        load_s = time.perf_counter() - t
        folder = checkpoints_dir() / cid
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        tr = ck.card["training"]
        mn, mean_distinct, top = collapse_stats(ck)
        timing = time_generate(ck, args.runs)
        rows.append([cid, f"{tr['test_nll_per_token']:.3f}", f"{mn}/{mean_distinct:.1f}", f"{top:.0%}",
                     f"{load_s:.2f}", f"{timing['sample']:.3f}", f"{timing['synth+encode']:.3f}",
                     f"{timing['total']:.3f}", f"{size_mb:.1f}", f"{tr['seconds'] / 60:.1f}", str(tr["steps"])])
    head = ["model", "test NLL/tok", "pitches min/mean", "top pitch max", "load s", "sample s",
            "synth+enc s", "generate 30s s", "ckpt MB", "train min", "steps"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-|-".join("-" * w for w in widths))
    for r in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
