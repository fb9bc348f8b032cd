"""Where musicgen keeps what is not in git: the user's data folder (votes, sample sets, user-trained
checkpoints) and the parse cache. One place, so every module agrees and tests can redirect them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DATA_ENV = "MUSICGEN_DATA"


def data_dir() -> Path:
    """$MUSICGEN_DATA, else ~/.local/share/musicgen (not created here: writers create what they need)."""
    return Path(os.environ.get(DATA_ENV, "") or Path.home() / ".local" / "share" / "musicgen").expanduser()


def sha256_file(path: Path) -> str:
    """A file's SHA-256, read in 1 MB chunks (weights and zips can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
