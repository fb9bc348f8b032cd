"""A .zip of music files → a folder on disk (for `folder:` corpora and uploads), safely and once.

Unpacked under the data folder, keyed on the zip's SHA-256, so the same zip is unpacked once and its
parse cache stays valid. Members that would land outside the folder, links, and archives that unpack
to more than `MAX_BYTES` are refused with a clear error.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from musicgen.corpora.base import CorpusError
from musicgen.paths import data_dir, sha256_file

MAX_BYTES = 500 * 2**20  # unpacked size: far above any MIDI collection, far below a full disk


def unpack_zip(path: str | Path, *, into: Path | None = None) -> Path:
    """The folder holding the zip's files (unpacked now, or already); raises CorpusError for a bad zip."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise CorpusError(f"{path} does not exist")
    digest = sha256_file(path)
    target = (into or data_dir() / "unpacked") / f"{path.stem}-{digest[:12]}"
    if target.is_dir():
        return target
    try:
        with zipfile.ZipFile(path) as z:
            members = [m for m in z.infolist() if not m.is_dir()]
            if sum(m.file_size for m in members) > MAX_BYTES:
                raise CorpusError(f"{path.name} unpacks to more than {MAX_BYTES // 2**20} MB; unpack it yourself "
                                  "and give the folder")
            staging = target.with_name(f".{target.name}.{os.getpid()}")
            shutil.rmtree(staging, ignore_errors=True)
            for m in members:
                out = (staging / m.filename).resolve()
                if not out.is_relative_to(staging.resolve()):
                    raise CorpusError(f"{path.name}: member {m.filename!r} points outside the archive; refused")
                out.parent.mkdir(parents=True, exist_ok=True)
                with z.open(m) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as e:
        raise CorpusError(f"{path.name} is not a readable zip file ({e})") from None
    staging.mkdir(parents=True, exist_ok=True)  # an empty zip is an empty folder
    os.replace(staging, target)
    return target
