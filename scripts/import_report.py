"""Import every MIDI file of a folder (default: the shared corpora) and report what happened.

    python scripts/import_report.py [FOLDER] [--show-errors]

Prints the count of OK files and of each error reason (with one example), the slowest files and
the time taken by the file with the most notes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from musicgen.midi import MidiImportError, load_midi, summarize_import

DEFAULT_FOLDER = Path(__file__).resolve().parents[2] / "shared" / "corpora"  # ../shared beside the checkout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--show-errors", action="store_true", help="print every error, not one per reason")
    parser.add_argument("--slowest", type=int, default=5)
    args = parser.parse_args(argv)

    paths = sorted(p for p in args.folder.rglob("*") if p.suffix.lower() in {".mid", ".midi", ".kar", ".rmi"})
    if not paths:
        print(f"no MIDI files under {args.folder}")
        return 1
    timings: list[tuple[float, Path, int]] = []  # (seconds, path, notes)
    errors: dict[str, list[MidiImportError]] = defaultdict(list)
    meta_flags: Counter[str] = Counter()
    total_notes = 0
    started = time.perf_counter()
    for path in paths:
        t0 = time.perf_counter()
        try:
            seq = load_midi(path)
        except MidiImportError as exc:
            timings.append((time.perf_counter() - t0, path, 0))
            errors[exc.reason].append(exc)
            continue
        timings.append((time.perf_counter() - t0, path, len(seq)))
        total_notes += len(seq)
        meta_flags.update(k for k in seq.meta_dict() if k != "source")
    elapsed = time.perf_counter() - started

    n_err = sum(len(v) for v in errors.values())
    print(f"files: {len(paths)}  OK: {len(paths) - n_err}  errors: {n_err}  ({elapsed:.1f} s, {total_notes:,} notes)")
    for reason, excs in sorted(errors.items(), key=lambda kv: -len(kv[1])):
        print(f"  {reason}: {len(excs)}")
        for exc in excs if args.show_errors else excs[:1]:
            print(f"      e.g. {exc}")
    if meta_flags:
        print("imported with notes in meta: " + ", ".join(f"{k} {v}" for k, v in sorted(meta_flags.items())))
    print(f"slowest {args.slowest}:")
    for secs, path, notes in sorted(timings, key=lambda t: -t[0])[: args.slowest]:
        print(f"  {secs * 1000:7.1f} ms  {notes:6d} notes  {path.relative_to(args.folder)}")
    secs, path, notes = max(timings, key=lambda t: t[2])
    print(f"largest file: {path.relative_to(args.folder)}: {notes} notes in {secs * 1000:.1f} ms")
    print(f"  {summarize_import(load_midi(path))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
