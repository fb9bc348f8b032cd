"""Where the studies' real-world files are: `../shared/corpora` beside the checkout (CI puts it there too).

Tests that read them are skipped when it is absent; they never ship or train a shipped checkpoint on it."""

import shutil
from pathlib import Path

import pytest

SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
needs_shared = pytest.mark.skipif(not SHARED_CORPORA.is_dir(), reason=f"{SHARED_CORPORA} is absent (CI has it)")


def real_midi_folder(source: Path, folder: Path, sub: str) -> Path:
    """`folder` with the first ten MIDI files under `source` (a study's repository in the shared corpora) in two
    nested folders (`<sub>0`, `<sub>1`) and one file that is not MIDI; skips the test when they are absent."""
    files = sorted(source.rglob("*.mid"))[:10] if source.is_dir() else []
    if len(files) < 10:
        pytest.skip(f"{source} is absent (the shared corpora are not checked out here)")
    for i, f in enumerate(files):
        (folder / f"{sub}{i % 2}").mkdir(parents=True, exist_ok=True)
        shutil.copy(f, folder / f"{sub}{i % 2}" / f.name)
    (folder / "broken.mid").write_bytes(b"this is not a MIDI file")
    return folder
