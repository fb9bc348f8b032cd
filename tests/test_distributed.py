"""`torchrun --nproc_per_node=2 -m musicgen train ...`: data-parallel training through the same loop.

Two CPU processes (gloo) that split each global batch must take the steps one process takes with the
whole batch: history losses agree to 1e-4 (float summation order differs; the token-mean of each half
weighs its rows slightly differently), and only rank 0 writes the checkpoint."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TORCHRUN = Path(sys.executable).with_name("torchrun")
TINY = ["--corpus", "toy", "--set", "window=32", "--set", "batch_size=8", "--set", "embed_dim=8", "--set", "hidden=16",
        "--set", "dense=16", "--set", "dropout=0", "--set", "lr_decay=false", "--set", "log_every=1",
        "--set", "eval_every=5", "--set", "augment_transpose=false", "--set", "threads=1", "--max-steps", "10"]
TOLERANCE = 1e-4


def run(cmd: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUSICGEN_DATA": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def records(folder: Path) -> list[dict]:
    return json.loads((folder / "history.json").read_text())["records"]


def test_two_processes_match_one_at_the_same_global_batch(tmp_path):
    one = run([sys.executable, "-m", "musicgen", "train", "B-lstm", *TINY, "--out", str(tmp_path / "one")], tmp_path)
    assert one.returncode == 0, one.stderr[-2000:]
    two = run([str(TORCHRUN), "--nproc_per_node=2", "--master_port=29517", "-m", "musicgen", "train", "B-lstm", *TINY,
               "--out", str(tmp_path / "two")], tmp_path)
    assert two.returncode == 0, two.stderr[-2000:]
    assert two.stdout.count("saved ") == 1  # rank 0 alone writes (and says so)
    a, b = records(tmp_path / "one"), records(tmp_path / "two")
    assert [r["step"] for r in a] == [r["step"] for r in b] and len(a) >= 10
    for ra, rb in zip(a, b):
        for key in ("train_loss", "valid_loss"):
            if key in ra:
                assert rb[key] == pytest.approx(ra[key], abs=TOLERANCE), (ra["step"], key, ra[key], rb[key])
    assert any("valid_loss" in r for r in a)


def test_families_that_cannot_be_split_say_so(tmp_path, monkeypatch):
    """A GAN (its own D and G steps) is refused before any collective call, with the reason."""
    from musicgen import distributed
    from musicgen.presets import toy_preset
    from musicgen.train import train

    monkeypatch.setattr(distributed, "setup", lambda device: distributed.Context(rank=0, world=2))
    with pytest.raises(distributed.DistributedError, match="cannot train across processes"):
        train(toy_preset("gan-dense"), out_dir=tmp_path / "gan", progress=False)
    assert not (tmp_path / "gan").exists()


def test_a_corpus_too_short_for_the_window_is_one_line(tmp_path):
    done = run([sys.executable, "-m", "musicgen", "train", "B-gan", "--corpus", "toy", "--max-steps", "2",
                "--out", str(tmp_path / "gan")], tmp_path)
    assert done.returncode == 2 and "cannot train gan-dense" in done.stderr and "Traceback" not in done.stderr


def test_resume_under_torchrun_continues_the_history(tmp_path):
    args = [str(TORCHRUN), "--nproc_per_node=2", "-m", "musicgen", "train", "B-lstm", *TINY[:-2], "--set",
            "log_every=5", "--name", "ddp-resume-test"]
    first = run([*args[:1], "--master_port=29541", *args[1:], "--max-steps", "10"], tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    again = run([*args[:1], "--master_port=29542", *args[1:], "--max-steps", "15", "--resume"], tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    steps = [r["step"] for r in records(tmp_path / "data" / "checkpoints" / "ddp-resume-test")]
    assert steps[:4] == [5, 10, 15, 15] or steps[:3] == [5, 10, 15], steps
