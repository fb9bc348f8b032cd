"""Clips computed ahead for slow checkpoints: the same notes, looked up instead of made again.

A click may take 0.5 s from request to playable audio, and a few systems need more than that to make a
30 s clip on a 2-core CPU: D-classifier-ascent runs 150 forward and backward passes of its classifier per
clip (about 0.8 s quiet, several seconds on a loaded machine). Such a checkpoint's folder may hold
`clips.json.gz`: the notes of seeds 0..N-1 at one setting (the card's defaults), written by
`python -m musicgen precompute ID`, with the weights hash they were made from.

`systems.make_clip` returns a stored clip only when everything that decides the notes matches: the
weights, the seed, temperature, top-k, top-p and length, and no primer. Anything else is made as before,
so stored clips change nothing but the wait: a test checks they equal freshly made ones byte for byte.
JSON keeps floats exactly (Python writes the shortest repr that reads back to the same double).
A missing, stale or damaged file is ignored (logged): it only ever costs speed.
"""

from __future__ import annotations

import gzip
import json
import logging
import threading
from pathlib import Path

from musicgen.sequence import Note, NoteSequence

FILE = "clips.json.gz"
FORMAT_VERSION = 1
log = logging.getLogger("musicgen.precomputed")
_lock = threading.Lock()
_loaded: dict[str, tuple[tuple, dict | None]] = {}  # folder -> (file stamp, parsed file or None)


def settings_of(*, temperature: float, top_k: int | None, top_p: float | None, length: str) -> dict:
    """The settings besides the seed that decide a clip's notes, in the form the file stores them."""
    return {"temperature": float(temperature), "top_k": top_k, "top_p": None if top_p is None else float(top_p),
            "length": str(length)}


def sequence_to_dict(seq: NoteSequence) -> dict:
    return {"notes": [[n.pitch, n.velocity, n.start, n.end] for n in seq.notes], "qpm": seq.qpm,
            "program": seq.program, "name": seq.name, "meta": [list(kv) for kv in seq.meta]}


def sequence_from_dict(data: dict) -> NoteSequence:
    notes = tuple(Note(pitch=int(p), velocity=int(v), start=float(s), end=float(e)) for p, v, s, e in data["notes"])
    return NoteSequence(notes=notes, qpm=float(data["qpm"]), program=int(data["program"]), name=str(data["name"]),
                        meta=tuple((str(k), str(v)) for k, v in data["meta"]))


def write(folder: str | Path, *, weights_sha256: str, settings: dict, clips: dict[int, NoteSequence]) -> Path:
    """Store `clips` (seed -> notes, made at `settings` from the weights with this hash) in `folder`."""
    path = Path(folder) / FILE
    data = {"format_version": FORMAT_VERSION, "weights_sha256": weights_sha256, "settings": settings,
            "clips": {str(seed): sequence_to_dict(seq) for seed, seq in sorted(clips.items())}}
    tmp = path.with_suffix(".tmp")
    # mtime=0: the same clips give the same bytes, so a re-run does not show up as a changed file in git
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(json.dumps(data, separators=(",", ":")).encode())
    tmp.replace(path)
    with _lock:
        _loaded.pop(str(Path(folder).resolve()), None)
    return path


def _read(path: Path) -> dict | None:
    try:
        with gzip.open(path, "rb") as f:
            data = json.loads(f.read())
        if data.get("format_version") != FORMAT_VERSION or not isinstance(data.get("clips"), dict):
            raise ValueError(f"unknown format {data.get('format_version')!r}")
        return data
    except (OSError, ValueError, EOFError, KeyError, TypeError) as e:
        log.warning("ignoring precomputed clips %s (%s); clips are made as usual", path, e)
        return None


def _file(folder: Path) -> dict | None:
    path = folder / FILE
    try:
        st = path.stat()
    except OSError:
        return None
    key, stamp = str(folder.resolve()), (st.st_size, st.st_mtime_ns)
    with _lock:
        cached = _loaded.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        data = _read(path)
        _loaded[key] = (stamp, data)
        return data


def lookup(folder: str | Path, *, weights_sha256: str, seed: int, settings: dict) -> NoteSequence | None:
    """The stored clip for exactly this request, or None (made as usual)."""
    data = _file(Path(folder))
    if data is None or data.get("weights_sha256") != weights_sha256 or data.get("settings") != settings:
        return None
    clip = data["clips"].get(str(seed))
    if clip is None:
        return None
    try:
        return sequence_from_dict(clip)
    except (ValueError, KeyError, TypeError) as e:
        log.warning("ignoring precomputed clip %s of %s (%s)", seed, folder, e)
        return None


def stored_seeds(folder: str | Path) -> tuple[dict | None, int]:
    """(settings, number of seeds) of a folder's stored clips; (None, 0) without a usable file."""
    data = _file(Path(folder))
    return (None, 0) if data is None else (data.get("settings"), len(data["clips"]))
