"""Regenerate the golden clips: the SHA-256 of each system's MIDI for one fixed request.

`tests/test_golden.py` makes every shipped checkpoint's clip (and the real systems' listed here) through
`systems.make_clip` and compares it with `tests/golden/clips.json`, so a change that alters the music of
a shipped model (sampling code, a representation, a retrained checkpoint, a torch upgrade) is noticed.
When the change is intended, regenerate and commit the json:

    .venv/bin/python scripts/update_golden.py                 # every shipped checkpoint + REAL_SYSTEMS
    .venv/bin/python scripts/update_golden.py A-lstm C-abc    # only these
    .venv/bin/python scripts/update_golden.py --new-request D-classifier-ascent   # rebuild its request too

An id already in the json keeps its stored request (only the hash is made again) unless `--new-request`;
a new id gets the card's default settings with seed 7 and length 8 s, changed by `REQUEST_CHANGES`.
Running without ids also drops entries of checkpoints that are no longer shipped.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from musicgen import runtime  # noqa: E402
from musicgen.checkpoints import list_checkpoint_ids  # noqa: E402
from musicgen.midi import load_midi, to_midi_bytes  # noqa: E402
from musicgen.sequence import NoteSequence, opening  # noqa: E402
from musicgen.systems import (Request, default_request, get_system, heldout_ids, heldout_piece, is_real,  # noqa: E402
                              load_system_model, make_clip)

GOLDEN_DIR = ROOT / "tests" / "golden"
GOLDEN = GOLDEN_DIR / "clips.json"
SEED = 7
LENGTH = "8s"
REAL_SYSTEMS = ["real:bach-chorales"]  # checked too when their corpus is cached (else as a slow test)
# Per system, how its request differs from (card defaults, seed 7, 8 s), and why.
REQUEST_CHANGES: dict[str, dict] = {
    # Seed 7's tune is 681 characters: ~3 s of music21 reading its ABC. Seed 8's (253) takes 0.2 s.
    "C-abc": {"seed": 8},
    # Without a primer the style push starts from a piece of music21-composers; a stored primer file (the
    # opening of a held-out piece) keeps the check independent of that corpus.
    "D-classifier-ascent": {"primer_file": True},
    "real:bach-chorales": {"seed": 3},
}
REGENERATE = "regenerate with `.venv/bin/python scripts/update_golden.py {ids}` and commit tests/golden/clips.json"


def environment() -> dict:
    import torch

    return {"torch": torch.__version__, "python": platform.python_version(), "machine": platform.machine()}


def load_golden(path: Path = GOLDEN) -> dict:
    if not path.exists():
        return {"clips": {}}
    return json.loads(path.read_text())


def request_of(entry: dict) -> Request:
    return Request(**entry["request"])


def upload_of(entry: dict, folder: Path = GOLDEN_DIR) -> NoteSequence | None:
    """The stored primer file a `file:` request names (None for other requests)."""
    if not entry.get("upload"):
        return None
    return load_midi(folder / entry["upload"])


def golden_clip(entry: dict, folder: Path = GOLDEN_DIR) -> NoteSequence:
    """The clip an entry's request makes now, the way the app makes it."""
    return make_clip(request_of(entry), upload=upload_of(entry, folder))


def digest(seq: NoteSequence) -> str:
    return hashlib.sha256(to_midi_bytes(seq)).hexdigest()


def weights_of(system_id: str) -> str | None:
    return None if is_real(system_id) else load_system_model(system_id).card.weights_sha256


def new_entry(system_id: str, folder: Path = GOLDEN_DIR) -> dict:
    """A fresh request for a system: card defaults, seed 7, 8 s, with its REQUEST_CHANGES."""
    system = get_system(system_id)
    changes = dict(REQUEST_CHANGES.get(system_id, {}))
    primer_file = changes.pop("primer_file", False)
    request = dataclasses.replace(default_request(system, seed=SEED, length=LENGTH), **changes)
    entry = {"request": dataclasses.asdict(request), "upload": None}
    if primer_file:
        corpus = system.corpus
        ids = heldout_ids(corpus)
        piece = opening(heldout_piece(corpus, ids[request.seed % len(ids)]), 8.0)
        name = f"{system_id}-primer.mid"
        (folder / name).write_bytes(to_midi_bytes(piece))
        # The request names the file by its path in the repository, so its `command()` reproduces the clip.
        primer = f"file:{(folder / name).relative_to(ROOT)}" if folder.is_relative_to(ROOT) else f"file:{name}"
        entry["request"] = dataclasses.asdict(dataclasses.replace(request, primer=primer, primer_seconds=8.0))
        entry["upload"] = name
    return entry


def regenerate(system_id: str, old: dict | None, *, new_request: bool, folder: Path = GOLDEN_DIR) -> dict:
    entry = new_entry(system_id, folder) if (old is None or new_request) else {
        "request": old["request"], "upload": old.get("upload")}
    clip = golden_clip(entry, folder)
    entry.update(sha256=digest(clip), notes=len(clip), duration=round(clip.duration, 3),
                 weights_sha256=weights_of(system_id))
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="system ids (default: every shipped checkpoint + the real systems)")
    parser.add_argument("--new-request", action="store_true", help="rebuild the request too, not just the hash")
    args = parser.parse_args(argv)
    runtime.configure("sample")  # the profile every clip is made under (threads, oneDNN): part of the bytes
    golden = load_golden()
    clips = golden.get("clips", {})
    shipped = list_checkpoint_ids()
    ids = args.ids or shipped + REAL_SYSTEMS
    if not args.ids:
        for stale in sorted(set(clips) - set(ids)):
            print(f"dropping {stale}: no longer shipped")
            del clips[stale]
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    for system_id in ids:
        old = clips.get(system_id)
        started = time.monotonic()
        entry = regenerate(system_id, old, new_request=args.new_request)
        took = time.monotonic() - started
        status = "new" if old is None else ("same" if old.get("sha256") == entry["sha256"] else "CHANGED")
        print(f"{system_id:24s} {status:8s} {entry['notes']:4d} notes  {took:6.2f}s  "
              f"{entry['sha256'][:16]}", flush=True)
        clips[system_id] = entry
    out = {"about": "SHA-256 of each system's MIDI for a fixed request (tests/test_golden.py); "
                    + REGENERATE.format(ids="[ID ...]"),
           "environment": environment(), "clips": dict(sorted(clips.items()))}
    GOLDEN.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
