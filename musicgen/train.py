"""The one training loop for every family: `train(preset) -> checkpoint folder`.

Seeds once, cycles shuffled epochs of batches, calls `model.train_step`, logs a history (step,
seconds, loss parts, validation loss), shows a progress bar, stops at a step, epoch or wall-clock
budget, then saves the checkpoint. Resume state (optimizer and all) goes to the ignored `runs/`
folder, never shipped.
"""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
import time
from pathlib import Path
from typing import Callable

import torch
from tqdm import tqdm

from musicgen import distributed
from musicgen.card import Card, RepresentationSpec, Sampling, SamplingDefaults, TrainingSummary
from musicgen.checkpoints import checkpoints_dir, save_checkpoint, user_checkpoints_dir
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


class TrainingDataError(ValueError):
    """The corpus cannot train this preset (too little music for its window); says what to change."""


def make_data(preset: Preset, representation):
    """(corpus, train, valid, test batches); the family decides how pieces become batches.

    Raises TrainingDataError before any training when a split is empty or too short for one batch."""
    corpus = load_corpus(preset.corpus)
    empty = [part for part in ("train", "valid", "test") if not corpus.split[part]]
    if empty:
        raise TrainingDataError(f"corpus {corpus.name!r} has {len(corpus.pieces)} usable pieces, too few to split "
                                f"by piece (the {' and '.join(empty)} split{'s are' if len(empty) > 1 else ' is'} "
                                "empty): add music (10 pieces or more)")
    make = MODELS[preset.family].make_batches
    t = preset.train
    try:
        data = (corpus, make(representation, corpus.subset("train"), train=t, augment=t.augment_transpose),
                make(representation, corpus.subset("valid"), train=t, augment=False),
                make(representation, corpus.subset("test"), train=t, augment=False, window=NLL_WINDOW))
    except ValueError as e:  # a family's batcher refusing the pieces (e.g. none as long as its window)
        raise TrainingDataError(f"corpus {corpus.name!r} cannot train {preset.family}: {e}; add longer pieces "
                                "or change the window with --set") from None
    for part, batches in zip(("train", "valid"), data[1:3]):
        first = next(iter(batches.epoch(torch.Generator().manual_seed(0)) if part == "train"
                          else batches.sequential()), None)
        if first is None or (isinstance(first, torch.Tensor) and first.numel() == 0):  # families batch differently
            raise TrainingDataError(
                f"corpus {corpus.name!r}: the {part} pieces hold too little music for one batch of this preset "
                f"(window {t.window}, batch {t.batch_size}): add music, or lower them with "
                f"--set window=... --set batch_size=...")
    return data


def corpus_info(corpus) -> dict:
    """What a user run's card records about its data: name, files, pieces, notes, a hash of the file list."""
    names = sorted(p.name for p in corpus.pieces)
    files = {n.split("#")[0] for n in names}
    return {"name": corpus.name, "files": len(files) + len(corpus.skipped), "files_skipped": len(corpus.skipped),
            "pieces": len(names), "notes": sum(len(p) for p in corpus.pieces),
            "files_sha256": hashlib.sha256("\n".join(names).encode()).hexdigest()}


def user_description(preset: Preset, info: dict, steps: int, seconds: float) -> str:
    """Plain words for a user run's card, made from the family and the data."""
    kind = preset.title[:1].lower() + preset.title[1:]
    changed = f", with {', '.join(f'{k}={v}' for k, v in preset.overrides.items())}" if preset.overrides else ""
    return (f"Trained by you: {kind}, learned from {info['name']} ({info['pieces']} pieces, {info['notes']} notes "
            f"from {info['files'] - info['files_skipped']} files) for {steps} steps ({seconds / 60:.1f} min), "
            f"starting from the {preset.based_on or preset.id} preset's settings{changed}.")


def _typed_defaults(defaults: dict) -> SamplingDefaults:
    known = {"temperature", "top_k", "top_p", "length"}
    return SamplingDefaults(**{k: v for k, v in defaults.items() if k in known},
                            extra={k: v for k, v in defaults.items() if k not in known})


def _finite(parts: dict) -> dict:
    return {k: v for k, v in parts.items() if isinstance(v, (int, float)) and math.isfinite(v)}


class TrainingCancelled(RuntimeError):
    """`on_progress` asked to stop: nothing is saved (a cancelled run leaves no checkpoint)."""


def train(preset: Preset, *, out_dir: Path | None = None, progress: bool = True, resume: bool = False,
          max_steps: int | None = None, max_seconds: float | None = None,
          on_progress: Callable[[dict], bool] | None = None) -> Path:
    """Train `preset` and save its checkpoint; returns the folder.

    `on_progress(report)` (a background job's hook) gets {"step", "max_steps", "seconds", "max_seconds",
    "record"} with every history record; returning True cancels the run (TrainingCancelled, nothing saved)."""
    t = preset.train
    max_steps = max_steps if max_steps is not None else t.max_steps
    max_seconds = max_seconds if max_seconds is not None else t.max_seconds
    # Weight init and dropout draw from torch's global generator: a training run owns its process (the CLI
    # sets the `train` runtime profile, with the preset's threads, before calling this). Batches use their own.
    torch.manual_seed(t.seed)
    device = pick_device(t.device)
    ctx = distributed.setup(device)  # torchrun's processes, or a single one
    representation = representation_from_card(preset.representation, preset.representation_config)
    corpus, train_b, valid_b, test_b = make_data(preset, representation)
    model = build_model(preset.family, preset.model_config, representation).to(device)
    if ctx.active and not model.supports_distributed:
        raise distributed.DistributedError(f"{preset.family} cannot train across processes yet; run it without "
                                           "torchrun")
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
        if not ctx.writes:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        torch.save({"model": model.state_dict(), "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
                    "schedulers": [s.state_dict() for s in schedulers], "step": step, "epoch": epoch,
                    "seconds": elapsed(), "generator": generator.get_state(), "records": records}, state_path)

    started = time.monotonic()
    elapsed = lambda: elapsed_before + time.monotonic() - started  # noqa: E731
    total = max_steps or (t.max_epochs or 1) * math.ceil(train_b.examples_per_epoch() / t.batch_size)
    bar = tqdm(total=total, initial=step, desc=f"train {preset.id}", disable=not (progress and ctx.writes),
               unit="step")
    model.train()
    stop, out_of_time, running = False, False, {}
    while not stop:
        if t.max_epochs is not None and epoch >= t.max_epochs:
            break
        for batch in train_b.epoch(generator):
            parts = model.train_step(distributed.shard(batch, ctx).to(device), optimizers, grad_clip=t.grad_clip)
            for s in schedulers:
                s.step()
            step += 1
            for k, v in _finite(parts).items():
                running.setdefault(k, []).append(v)
            bar.update(1)
            record = None
            if step % t.log_every == 0:
                means = distributed.mean_over_ranks({k: sum(v) / len(v) for k, v in running.items()}, ctx)
                record = {"step": step, "seconds": round(elapsed(), 2), "epoch": epoch, **means}
                running = {}
            if step % t.eval_every == 0:
                record = record or {"step": step, "seconds": round(elapsed(), 2), "epoch": epoch}
                valid = evaluate(valid_b, parts=True)
                record["valid_loss"] = valid.pop("loss")
                # A family's other validation numbers (a GAN's critic accuracy, sample overlap) join the curve.
                record.update({f"valid_{k}": v for k, v in valid.items() if isinstance(v, (int, float))})
                model.train()
                bar.set_postfix(valid=f"{record['valid_loss']:.3f}")
            if record:
                records.append(record)
                cancel = bool(on_progress and ctx.writes and on_progress(
                    {"step": step, "max_steps": max_steps, "seconds": elapsed(), "max_seconds": max_seconds,
                     "record": record}))
                if distributed.any_rank(cancel, ctx):
                    bar.close()
                    raise TrainingCancelled(f"training {preset.id} was cancelled at step {step}")
            if step % t.eval_every == 0:
                save_resume_state()  # after the record is in: a resumed history has every record
            out_of_time = distributed.any_rank(bool(max_seconds and elapsed() >= max_seconds), ctx)
            # ranks stop together (a wall-clock budget differs per rank)
            if out_of_time or (max_steps and step >= max_steps):
                stop = True
                break
        else:
            epoch += 1
    bar.close()
    if out_of_time and step % t.eval_every:
        save_resume_state()  # the clock stopped it between saves: the next run of a chain resumes here, not earlier

    model.finish_training()
    valid_loss, test_parts = evaluate(valid_b), evaluate(test_b, parts=True)
    test_loss = test_parts.pop("loss")
    # Only likelihood models have a per-token NLL; others (a classifier) report their test loss as such.
    test_key = "test_nll_per_token" if model.is_likelihood_model else "test_loss"
    records.append({"step": step, "seconds": round(elapsed(), 2), "epoch": epoch, "valid_loss": valid_loss})
    model.to("cpu")
    summary = model.training_summary()
    user = preset.origin == "user"
    info = corpus_info(corpus) if user else {}
    card = Card(
        id=preset.id, system=preset.system, family=preset.family,
        title=f"{preset.title} (yours: {preset.id})" if user else preset.title,
        description=user_description(preset, info, step, elapsed()) if user else preset.description,
        limitations=preset.limitations, model_config={}, origin=preset.origin,
        representation=RepresentationSpec(name=preset.representation, config={}, vocab_size=0),  # save fills these
        sampling=Sampling(defaults=_typed_defaults(preset.sampling_defaults),
                          temperature_meaning=model.temperature_meaning, accepts_primer=model.accepts_primer),
        training=TrainingSummary(
            preset=preset.based_on or preset.id, corpus=corpus.name, corpus_info=info, overrides=preset.overrides, split_sha=corpus.split_digest(),
            split_sizes={k: len(v) for k, v in corpus.split.items()}, steps=step, epochs=epoch,
            seconds=round(elapsed(), 1), device=str(device), threads=torch.get_num_threads(),
            train_config={k: getattr(t, k) for k in t.__dataclass_fields__}, final_valid_loss=valid_loss,
            test_metrics=test_parts, code_version=code_version(), torch=torch.__version__,
            **{test_key: test_loss}, extra={"train_examples": train_b.describe(), **summary}),
        weights_sha256="")
    history = {"x_keys": ["step", "seconds"], "records": records}
    folder = out_dir or ((user_checkpoints_dir() if user else checkpoints_dir()) / preset.id)
    # A user run keeps its split beside the checkpoint (the shipped corpora's splits are committed).
    extra = {"split.json": json.dumps(corpus.split, indent=1) + "\n"} if user else {}
    if ctx.writes:
        save_checkpoint(model, card, history, folder, extra_files=extra)
    distributed.teardown(ctx)
    return folder
