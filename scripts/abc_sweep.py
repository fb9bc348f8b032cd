"""The study's hyperparameter sweep for C-abc, at small scale: one axis at a time around a baseline.

Study C swept optimizer, LSTM units, learning rate, sequence length and batch size for the character
LSTM over ABC (its best: Adam, 1024 units, lr 1e-3, sequence length 400, batch 32). Here each setting trains a small
char-lstm for `--steps` steps on the irish-abc training tunes (one thread) and logs the training loss
every 25 steps and the validation loss (fixed 100-character windows, so every setting is measured the
same way) every 100. The curves go to `runs/abc-sweep.json` and, with `--merge`, into the checkpoint's
history.json under `sweep` (the Training page draws them).

    python scripts/abc_sweep.py --steps 300 --merge checkpoints/C-abc
    python scripts/abc_sweep.py --merge checkpoints/C-abc --only-merge   # after retraining C-abc
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from musicgen.batches import TokenBatches
from musicgen.corpora import load_corpus
from musicgen.models import build_model
from musicgen.models.char_lstm import tune_stream
from musicgen.representations.abc import AbcText

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "runs" / "abc-sweep.json"
BASE = {"optimizer": "adam", "units": 128, "lr": 3e-3, "seq_length": 100, "batch_size": 16}
AXES = {"optimizer": ["sgd", "rmsprop"], "units": [64, 256], "lr": [1e-3, 1e-2], "seq_length": [50, 400],
        "batch_size": [4, 32]}
VALID_WINDOW, VALID_CHARS = 100, 40_000  # the first 40k validation characters, same windows for every run
OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}


def settings() -> list[tuple[str, dict]]:
    runs = [("baseline: " + ", ".join(f"{k}={v}" for k, v in BASE.items()), dict(BASE))]
    for axis, values in AXES.items():
        runs += [(f"{axis}={v}", {**BASE, axis: v}) for v in values]
    return runs


def run_one(setting: dict, train_stream, valid: TokenBatches, steps: int, seed: int = 0) -> list[dict]:
    rep = AbcText()
    torch.manual_seed(seed)  # a script, not library code: one seed for every setting's initial weights
    model = build_model("char-lstm", {"embed_dim": 32, "hidden": setting["units"], "layers": 1}, rep)
    opt = OPTIMIZERS[setting["optimizer"]](model.parameters(), lr=setting["lr"])
    batches = TokenBatches(train_stream, setting["seq_length"], setting["batch_size"])
    generator = torch.Generator().manual_seed(seed)
    records, running, step, started = [], [], 0, time.monotonic()
    while step < steps:
        for batch in batches.epoch(generator):
            running.append(model.train_step(batch, {"model": opt}, grad_clip=1.0)["train_loss"])
            step += 1
            if step % 25 == 0 or step == steps:
                record = {"step": step, "seconds": round(time.monotonic() - started, 2),
                          "train_loss": sum(running) / len(running)}
                running = []
                if step % 100 == 0 or step == steps:
                    record["valid_loss"] = model.eval_loss(valid.sequential())["loss"]
                    model.train()
                records.append(record)
            if step >= steps:
                break
    return records


def merge(folder: Path, sweep: list[dict]) -> None:
    path = folder / "history.json"
    history = json.loads(path.read_text())
    history["sweep"] = sweep
    path.write_text(json.dumps(history) + "\n")
    print(f"wrote {len(sweep)} sweep runs into {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--merge", type=Path, help="checkpoint folder whose history.json gets the sweep")
    ap.add_argument("--only-merge", action="store_true", help=f"merge {OUT.name} without training")
    args = ap.parse_args()
    if not args.only_merge:
        torch.set_num_threads(1)
        corpus, rep = load_corpus("irish-abc"), AbcText()
        train_stream = tune_stream(rep, corpus.subset("train"))
        valid = TokenBatches(tune_stream(rep, corpus.subset("valid"))[:VALID_CHARS + 1], VALID_WINDOW, 64)
        sweep = []
        for label, setting in settings():
            records = run_one(setting, train_stream, valid, args.steps)
            sweep.append({"label": label, "setting": setting, "records": records})
            print(f"{label}: valid {records[-1]['valid_loss']:.3f} after {records[-1]['seconds']:.0f} s", flush=True)
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(sweep) + "\n")
    if args.merge:
        merge(args.merge, json.loads(OUT.read_text()))


if __name__ == "__main__":
    main()
