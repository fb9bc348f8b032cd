"""Sample sets: MIDI files made by an outside model (any framework), kept so they can sit beside our
checkpoints in Compare, `evaluate` and blind listening studies.

`python -m musicgen samples add NAME PATH` reads a folder (nested folders allowed) or a .zip of MIDI
files, skips the files that do not import (each with its reason) and copies the usable ones into
`<data folder>/samples/<NAME>/` (`paths.data_dir()`, not in git) under normalised names, with a
`sample_set.json` card: the name, where the files came from, the corpus the set is compared with, the
files, the skipped files and why, when it was added, a SHA-256 over the files and, once
`evaluate --model samples:NAME` ran, its `evaluation` (the same document a checkpoint card holds).

The card is read in one place (`load_sample_set` → a frozen `SampleSet`); every error says what is
wrong and what to do. As a *system* (`systems.py`) a set is `samples:<NAME>`: a seed picks
`files[seed % n]` in sorted order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from musicgen.corpora.archive import unpack_zip
from musicgen.corpora.base import CorpusError
from musicgen.midi import MAX_FILE_BYTES, MidiImportError, load_midi
from musicgen.paths import data_dir
from musicgen.sequence import NoteSequence

PREFIX = "samples:"
CARD = "sample_set.json"
FORMAT_VERSION = 1
DEFAULT_CORPUS = "bach-chorales"
MIN_FILES = 2
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")

__all__ = ["CARD", "DEFAULT_CORPUS", "PREFIX", "BrokenSampleSet", "SampleFile", "SampleSet", "SampleSetError",
           "Skipped", "add_sample_set", "files_sha256", "list_sample_sets", "load_sample_set", "remove_sample_set",
           "samples_dir", "system_id", "update_evaluation", "validate_name"]


class SampleSetError(ValueError):
    """A sample set cannot be added or read; the message says what is wrong and what to do."""


class MissingSampleSetError(SampleSetError):
    """No sample set of that name."""


@dataclass(frozen=True)
class SampleFile:
    name: str  # the normalised file name inside the set's folder
    source: str  # where it came from (relative to the folder or zip that was added)
    notes: int
    seconds: float


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str


@dataclass(frozen=True)
class SampleSet:
    name: str
    folder: Path
    source: str  # the folder or zip it was added from
    corpus: str  # the corpus whose held-out pieces it is compared with
    files: tuple[SampleFile, ...]  # sorted by name; a seed picks files[seed % n]
    skipped: tuple[Skipped, ...] = ()
    added_at: str = ""
    sha256: str = ""
    evaluation: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def id(self) -> str:
        return system_id(self.name)

    @property
    def n_files(self) -> int:
        return len(self.files)

    def pick(self, seed: int) -> SampleFile:
        """The file a seed picks: `files[seed % n]`."""
        return self.files[int(seed) % len(self.files)]

    def read(self, seed: int) -> NoteSequence:
        """The notes of the file a seed picks (raises SampleSetError if the file is gone or broken)."""
        f = self.pick(seed)
        try:
            return load_midi(self.folder / f.name)
        except MidiImportError as e:
            raise SampleSetError(f"sample set {self.name!r}: {e}; add the set again "
                                 f"(`python -m musicgen samples remove {self.name}` then `samples add`)") from None

    def current_sha256(self) -> str:
        """The hash of the files as they are on disk now (the card's `sha256` is the hash when added)."""
        try:
            return files_sha256(self.folder, [f.name for f in self.files])
        except OSError as e:
            raise SampleSetError(f"sample set {self.name!r}: cannot read {e.filename} ({e.strerror}); add the set "
                                 "again") from None

    def to_dict(self) -> dict:
        return {"format_version": self.format_version, "name": self.name, "source": self.source,
                "corpus": self.corpus, "n_files": self.n_files,
                "files": [{"name": f.name, "source": f.source, "notes": f.notes, "seconds": f.seconds}
                          for f in self.files],
                "skipped": [{"source": s.source, "reason": s.reason} for s in self.skipped],
                "added_at": self.added_at, "sha256": self.sha256, "evaluation": self.evaluation}


@dataclass(frozen=True)
class BrokenSampleSet:
    """A folder under samples/ whose card cannot be read: listed with the reason, never used."""
    name: str
    error: str

    @property
    def id(self) -> str:
        return system_id(self.name)


# ---- names and places ------------------------------------------------------------------------------
def samples_dir() -> Path:
    return data_dir() / "samples"


def system_id(name: str) -> str:
    return f"{PREFIX}{name}"


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SampleSetError(f"sample set name {name!r} must be 1-64 letters, digits, '-' or '_'")
    return name


def files_sha256(folder: Path, names: list[str]) -> str:
    """One SHA-256 over the files in sorted name order (each name and its bytes, length-prefixed)."""
    h = hashlib.sha256()
    for name in sorted(names):
        data = (folder / name).read_bytes()
        for part in (name.encode(), data):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
    return h.hexdigest()


# ---- reading -------------------------------------------------------------------------------------
def _parse(doc: dict, folder: Path) -> SampleSet:
    where = folder / CARD
    if not isinstance(doc, dict):
        raise SampleSetError(f"{where}: not a JSON object")
    if doc.get("format_version") != FORMAT_VERSION:
        raise SampleSetError(f"{where}: format_version {doc.get('format_version')!r} is not {FORMAT_VERSION}; "
                             "add the set again")
    try:
        files = tuple(SampleFile(name=str(f["name"]), source=str(f["source"]), notes=int(f["notes"]),
                                 seconds=float(f["seconds"])) for f in doc["files"])
        skipped = tuple(Skipped(source=str(s["source"]), reason=str(s["reason"])) for s in doc.get("skipped", []))
        s = SampleSet(name=validate_name(doc["name"]), folder=folder, source=str(doc["source"]),
                      corpus=str(doc["corpus"]), files=tuple(sorted(files, key=lambda f: f.name)), skipped=skipped,
                      added_at=str(doc.get("added_at", "")), sha256=str(doc["sha256"]),
                      evaluation=dict(doc.get("evaluation") or {}))
    except (KeyError, TypeError, ValueError) as e:
        raise SampleSetError(f"{where}: missing or malformed field ({type(e).__name__}: {e}); add the set again") \
            from None
    if s.name != folder.name:
        raise SampleSetError(f"{where}: names the set {s.name!r} but lives in {folder.name!r}; add the set again")
    if len(files) < MIN_FILES:
        raise SampleSetError(f"{where}: lists {len(files)} file(s); a sample set needs at least {MIN_FILES}")
    if doc.get("n_files", len(files)) != len(files):
        raise SampleSetError(f"{where}: n_files says {doc.get('n_files')} but {len(files)} files are listed")
    missing = [f.name for f in files if not (folder / f.name).is_file()]
    if missing:
        raise SampleSetError(f"sample set {s.name!r}: {len(missing)} file(s) missing from {folder} (e.g. "
                             f"{missing[0]}); add the set again")
    return s


def load_sample_set(name: str) -> SampleSet:
    """A sample set by name (raises MissingSampleSetError, or SampleSetError for a broken one)."""
    folder = samples_dir() / validate_name(name)
    path = folder / CARD
    if not path.is_file():
        known = ", ".join(_names()) or "none"
        raise MissingSampleSetError(f"no sample set {name!r} in {samples_dir()} (known: {known}; add one with "
                                    "`python -m musicgen samples add NAME PATH`)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SampleSetError(f"{path} cannot be read ({e}); add the set again") from None
    return _parse(doc, folder)


def _names() -> list[str]:
    """The names of the folders under samples/ that hold a card, sorted."""
    root = samples_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if _NAME.fullmatch(p.name) and (p / CARD).is_file())


def list_sample_sets() -> list[SampleSet | BrokenSampleSet]:
    """Every sample set, by name; one that cannot be read is a BrokenSampleSet with the reason."""
    out: list[SampleSet | BrokenSampleSet] = []
    for name in _names():
        try:
            out.append(load_sample_set(name))
        except SampleSetError as e:
            out.append(BrokenSampleSet(name=name, error=str(e)))
    return out


# ---- writing -------------------------------------------------------------------------------------
def _write(sample_set: SampleSet) -> Path:
    """The card, atomically (temp file + rename in the same folder)."""
    path = sample_set.folder / CARD
    tmp = path.with_name(f".{CARD}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(sample_set.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def update_evaluation(name: str, evaluation: dict) -> Path:
    """Replace only the set's `evaluation` field."""
    s = load_sample_set(name)
    try:
        json.dumps(evaluation, allow_nan=False)
    except ValueError as e:
        raise ValueError(f"evaluation for {s.id} is not plain JSON ({e}); use null for missing numbers") from None
    return _write(dataclasses.replace(s, evaluation=evaluation))


def _candidates(path: Path):
    """(source name, bytes or None, reason) for every file in a folder (recursively) or a .zip (unpacked
    into a temporary folder by `corpora.archive.unpack_zip`, the one zip reader, with its safety checks)."""
    if not path.is_dir():
        with tempfile.TemporaryDirectory() as tmp:
            try:
                folder = unpack_zip(path, into=Path(tmp))
            except CorpusError as e:
                raise SampleSetError(f"{path}: not a folder or a readable .zip ({e})") from None
            yield from _candidates(folder)
        return
    for p in sorted(q for q in path.rglob("*") if q.is_file()):
        rel = p.relative_to(path)
        if rel.parts[0] == "__MACOSX" or any(part.startswith(".") for part in rel.parts):
            continue
        if p.stat().st_size > MAX_FILE_BYTES:
            yield rel.as_posix(), None, f"over {MAX_FILE_BYTES >> 20} MB; not a plausible MIDI file"
            continue
        try:
            yield rel.as_posix(), p.read_bytes(), ""
        except OSError as e:
            yield rel.as_posix(), None, f"cannot read file ({e.strerror})"


def _normalised(source: str, taken: set[str]) -> str:
    stem = source.rsplit(".", 1)[0] if "." in source.rsplit("/", 1)[-1] else source
    base = _UNSAFE.sub("_", stem.replace("/", "__")).strip("._-")[:80] or "piece"
    name, i = f"{base}.mid", 2
    while name.lower() in taken:
        name, i = f"{base}-{i}.mid", i + 1
    taken.add(name.lower())
    return name


def add_sample_set(name: str, path: str | Path, *, corpus: str = DEFAULT_CORPUS) -> SampleSet:
    """Register the MIDI files in a folder or .zip as the sample set `name` (raises SampleSetError).

    Files that do not import are skipped (each with its reason); fewer than 2 usable files is an error.
    The set is written to a temporary folder first and renamed into place, so a failure leaves nothing."""
    from musicgen.corpora import corpus_names  # the registry's names only; nothing is loaded here

    validate_name(name)
    if not (corpus in corpus_names() or corpus.startswith("folder:")):
        raise SampleSetError(f"unknown corpus {corpus!r}; use one of {', '.join(corpus_names())} or folder:/path")
    src = Path(path).expanduser()
    if not src.exists():
        raise SampleSetError(f"{src}: no such folder or file")
    if not src.is_dir() and src.suffix.lower() != ".zip":
        raise SampleSetError(f"{src}: give a folder of MIDI files or a .zip of them")
    root = samples_dir()
    final = root / name
    if final.exists():
        raise SampleSetError(f"sample set {name!r} already exists; remove it first (`python -m musicgen samples "
                             f"remove {name}`)")
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".adding-{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        files, skipped, taken = [], [], set()
        for source, data, reason in _candidates(src):
            if data is None:
                skipped.append(Skipped(source, reason))
                continue
            try:
                seq = load_midi(data, name=source)
            except MidiImportError as e:
                skipped.append(Skipped(source, e.problem))
                continue
            if len(seq) == 0:
                skipped.append(Skipped(source, "no notes"))
                continue
            target = _normalised(source, taken)
            (tmp / target).write_bytes(data)
            files.append(SampleFile(name=target, source=source, notes=len(seq), seconds=round(seq.duration, 3)))
        if len(files) < MIN_FILES:
            raise SampleSetError(f"{src}: {len(files)} usable MIDI file(s) ({len(skipped)} skipped); a sample set "
                                 f"needs at least {MIN_FILES}")
        files.sort(key=lambda f: f.name)
        sample_set = SampleSet(name=name, folder=tmp, source=str(src.resolve()), corpus=corpus, files=tuple(files),
                               skipped=tuple(skipped), added_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                               sha256=files_sha256(tmp, [f.name for f in files]))
        _write(sample_set)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return load_sample_set(name)


def remove_sample_set(name: str) -> Path:
    """Delete a set's folder (raises MissingSampleSetError when there is none)."""
    folder = samples_dir() / validate_name(name)
    if not folder.is_dir():
        raise MissingSampleSetError(f"no sample set {name!r} in {samples_dir()}")
    shutil.rmtree(folder)
    return folder
