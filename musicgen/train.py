"""The one training loop for every family: `train(preset) -> checkpoint folder`.

Seeds once, cycles shuffled epochs of batches, calls `model.train_step`, logs a history (step,
seconds, loss parts, validation loss), shows a progress bar, stops at a step, epoch or wall-clock
budget, then saves the checkpoint. Resume state (optimizer and all) goes to the ignored `runs/`
folder, never shipped.
"""

from __future__ import annotations

import math
import subprocess
import time
from pathlib import Path

import torch
from tqdm import tqdm

from musicgen.card import Card, RepresentationSpec, Sampling, SamplingDefaults, TrainingSummary
from musicgen.checkpoints import checkpoints_dir, save_checkpoint
from musicgen.corpora import load_corpus
from musicgen.models import MODELS, build_model
from musicgen.presets import Preset
from musicgen.representations import representation_from_card

RUNS_DIR = Path(__file__).resolve().parent.parent / "runs"
# Held-out NLL uses the same windows for every family so the numbers compare (not the preset's window).
NLL_WINDOW = 512


def code_version() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).parent)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def make_data(preset: Preset, representation):
    """(corpus, train, valid, test batches); the family decides how pieces become batches."""
    corpus = load_corpus(preset.corpus)
    make = MODELS[preset.family].make_batches
    t = preset.train
    return (corpus, make(representation, corpus.subset("train"), train=t, augment=t.augment_transpose),
            make(representation, corpus.subset("valid"), train=t, augment=False),
            make(representation, corpus.subset("test"), train=t, augment=False, window=NLL_WINDOW))


def _typed_defaults(defaults: dict) -> SamplingDefaults:
    known = {"temperature", "top_k", "top_p", "length"}
    return SamplingDefaults(**{k: v for k, v in defaults.items() if k in known},
                            extra={k: v for k, v in defaults.items() if k not in known})


def _finite(parts: dict) -> dict:
    return {k: v for k, v in parts.items() if isinstance(v, (int, float)) and math.isfinite(v)}


def train(preset: Preset, *, out_dir: Path | None = None, progress: bool = True, resume: bool = False,
          max_steps: int | None = None, max_seconds: float | None = None) -> Path:
    t = preset.train
    max_steps = max_steps if max_steps is not None else t.max_steps
    max_seconds = max_seconds if max_seconds is not None else t.max_seconds
    # Weight init and dropout draw from torch's global generator: a training run owns its process (the CLI
    # sets the `train` runtime profile, with the preset's threads, before calling this). Batches use their own.
    torch.manual_seed(t.seed)
    device = pick_device(t.device)
    representation = representation_from_card(preset.representation, preset.representation_config)
    corpus, train_b, valid_b, test_b = make_data(preset, representation)
    model = build_model(preset.family, preset.model_config, representation).to(device)
    optimizers = model.make_optimizers(lr=t.lr, weight_decay=t.weight_decay)
    schedulers = []
    if t.lr_decay and max_steps and optimizers:
        decay = lambda s: 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, max_steps) / max_steps))  # noqa: E731
        schedulers = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in optimizers.values()]
    generator = torch.Generator().manual_seed(t.seed)

    run_dir = RUNS_DIR / preset.id
    state_path = run_dir / "resume.pt"
    step, epoch, elapsed_before, records = 0, 0, 0.0, []
    if resume and state_path.exists():
        state = torch.load(state_path, weights_only=True)
        model.load_state_dict(state["model"])
        for name, opt in optimizers.items():
            opt.load_state_dict(state["optimizers"][name])
        for sched, sd in zip(schedulers, state["schedulers"]):
            sched.load_state_dict(sd)
        step, epoch, elapsed_before = state["step"], state["epoch"], state["seconds"]
        generator.set_state(state["generator"])
        records = state["records"]

    def evaluate(batches, *, parts: bool = False):
        result = model.eval_loss(b.to(device) for b in batches.sequential())
        return result if parts else result["loss"]

    def save_resume_state() -> None:
        run_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.state_dict(), "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "schedulers": [s.state_dict() for s in schedulers], "step": step, "epoch": epoch,
                    "seconds": elapsed(), "generator": generator.get_state(), "records": records}, state_path)

    started = time.monotonic()
    elapsed = lambda: elapsed_before + time.monotonic() - started  # noqa: E731
    total = max_steps or (t.max_epochs or 1) * math.ceil(train_b.examples_per_epoch() / t.batch_size)
    bar = tqdm(total=total, initial=step, desc=f"train {preset.id}", disable=not progress, unit="step")
    model.train()
    stop, running = False, {}
    while not stop:
        if t.max_epochs is not None and epoch >= t.max_epochs:
            break
        for batch in train_b.epoch(generator):
            parts = model.train_step(batch.to(device), optimizers, grad_clip=t.grad_clip)
            for s in schedulers:
                s.step()
            step += 1
            for k, v in _finite(parts).items():
                running.setdefault(k, []).append(v)
            bar.update(1)
            record = None
            if step % t.log_every == 0:
                record = {"step": step, "seconds": round(elapsed(), 2), "epoch": epoch,
                          **{k: sum(v) / len(v) for k, v in running.items()}}
                running = {}
            if step % t.eval_every == 0:
                record = record or {"step": step, "seconds": round(elapsed(), 2), "epoch": epoch}
                valid = evaluate(valid_b, parts=True)
                record["valid_loss"] = valid.pop("loss")
                # A family's other validation numbers (a GAN's critic accuracy, sample overlap) join the curve.
                record.update({f"valid_{k}": v for k, v in valid.items() if isinstance(v, (int, float))})
                model.train()
                save_resume_state()
                bar.set_postfix(valid=f"{record['valid_loss']:.3f}")
            if record:
                records.append(record)
            if (max_steps and step >= max_steps) or (max_seconds and elapsed() >= max_seconds):
                stop = True
                break
        else:
            epoch += 1
    bar.close()

    model.finish_training()
    valid_loss, test_parts = evaluate(valid_b), evaluate(test_b, parts=True)
    test_loss = test_parts.pop("loss")
    # Only likelihood models have a per-token NLL; others (a classifier) report their test loss as such.
    test_key = "test_nll_per_token" if model.is_likelihood_model else "test_loss"
    records.append({"step": step, "seconds": round(elapsed(), 2), "epoch": epoch, "valid_loss": valid_loss})
    model.to("cpu")
    summary = model.training_summary()
    card = Card(
        id=preset.id, system=preset.system, family=preset.family, title=preset.title,
        description=preset.description, limitations=preset.limitations, model_config={},
        representation=RepresentationSpec(name=preset.representation, config={}, vocab_size=0),  # save fills these
        sampling=Sampling(defaults=_typed_defaults(preset.sampling_defaults),
                          temperature_meaning=model.temperature_meaning, accepts_primer=model.accepts_primer),
        training=TrainingSummary(
            preset=preset.id, corpus=corpus.name, split_sha=corpus.split_digest(),
            split_sizes={k: len(v) for k, v in corpus.split.items()}, steps=step, epochs=epoch,
            seconds=round(elapsed(), 1), device=str(device), threads=torch.get_num_threads(),
            train_config={k: getattr(t, k) for k in t.__dataclass_fields__}, final_valid_loss=valid_loss,
            test_metrics=test_parts, code_version=code_version(), torch=torch.__version__,
            **{test_key: test_loss}, extra={"train_examples": train_b.describe(), **summary}),
        weights_sha256="")
    history = {"x_keys": ["step", "seconds"], "records": records}
    folder = out_dir or (checkpoints_dir() / preset.id)
    save_checkpoint(model, card, history, folder)
    return folder
