"""The training loop's chain of runs: a run the clock stops is resumed where it stopped."""

import json

import torch

from musicgen import train as train_module
from musicgen.presets.base import toy_preset
from musicgen.train import train


def test_a_run_stopped_by_the_clock_resumes_at_its_last_step_not_its_last_validation(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "RUNS_DIR", tmp_path / "runs")
    preset = toy_preset("lstm", eval_every=1000, log_every=1)  # no validation pass saves anything on the way
    train(preset, out_dir=tmp_path / "first", progress=False, max_seconds=1e-9)  # out of time after one step
    state = torch.load(tmp_path / "runs" / preset.id / "resume.pt", weights_only=True)
    assert state["step"] == 1
    folder = train(preset, out_dir=tmp_path / "second", progress=False, resume=True, max_steps=3)
    steps = [r["step"] for r in json.loads((folder / "history.json").read_text())["records"]]
    assert steps == [1, 2, 3, 3]  # the first run's step, then steps 2 and 3 and the end-of-run record


def test_a_run_that_ends_by_its_step_budget_writes_no_resume_state(tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "RUNS_DIR", tmp_path / "runs")
    train(toy_preset("lstm", eval_every=1000), out_dir=tmp_path / "done", progress=False, max_steps=2)
    assert not (tmp_path / "runs").exists()
