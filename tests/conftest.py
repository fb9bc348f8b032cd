import os
import shutil
import tempfile
from pathlib import Path

import pytest

from musicgen import runtime

# The suite never reads or writes the user's data folder (votes, sample sets, user-trained checkpoints).
os.environ["MUSICGEN_DATA"] = tempfile.mkdtemp(prefix="musicgen-test-data-")

# The process-wide torch profile every clip-making process uses (app, CLI): clips here match theirs byte for byte.
runtime.configure("sample")

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "checkpoints"


@pytest.fixture(scope="session")
def toy_checkpoints(tmp_path_factory):
    """One tiny trained checkpoint per token family (trained once per test session, seconds)."""
    from musicgen.presets import toy_preset
    from musicgen.train import train

    root = tmp_path_factory.mktemp("toy_ckpts")
    return {fam: train(toy_preset(fam), out_dir=root / f"toy-{fam}", progress=False) for fam in ("lstm", "markov")}


@pytest.fixture
def copy_checkpoint(tmp_path):
    def _copy(src: Path) -> Path:
        dst = tmp_path / src.name
        shutil.copytree(src, dst)
        return dst
    return _copy


@pytest.fixture
def serve_corpus(monkeypatch):
    """`serve_corpus(name, corpus)`: the registry serves `corpus` under `name` for this test only."""
    from musicgen import corpora

    monkeypatch.setattr(corpora, "_LOADED", {})  # nothing loaded before leaks in, nothing served leaks out

    def _serve(name, corpus):
        monkeypatch.setitem(corpora.CORPORA, name, lambda refresh=False: corpus)
    return _serve
