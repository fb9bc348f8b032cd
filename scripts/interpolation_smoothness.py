"""How smooth is a VAE's interpolation? Feature distances between neighbouring morph steps.

For `--pairs` pairs of held-out pieces (test split, consecutive ids) the model morphs from one opening to
the other in `--steps` steps (the Interpolate page's default decoding: most likely notes). Every step's
features (metrics.py, standardised over the held-out openings and the steps together) are compared:

- neighbours: mean distance between neighbouring steps,
- ends: mean distance between the first and the last step,
- real: mean distance between two different held-out openings (the scale: 1.0 = as different as two pieces),

each printed as a share of `real`, with the count of identical neighbouring steps. A smooth morph has
small neighbour steps next to large ends; neighbours ≈ ends means each step is a new piece.

    .venv/bin/python scripts/interpolation_smoothness.py D-lstm-vae [--pairs 8] [--steps 5]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from musicgen import runtime  # noqa: E402
from musicgen.corpora import load_corpus  # noqa: E402
from musicgen.metrics import feature_matrix, feature_table  # noqa: E402
from musicgen.sequence import opening  # noqa: E402
from musicgen.systems import load_system_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)
    runtime.configure("sample")
    checkpoint = load_system_model(args.model)
    corpus = load_corpus(checkpoint.card.training.corpus)
    model, held_out = checkpoint.model, corpus.subset("test")
    # Real openings as long as one morph step: the model's window (64 sixteenths at 100 bpm = 9.6 s shipped).
    window_seconds = model.config.steps * model.representation.step_seconds(model.representation.config.qpm)
    real = [opening(p, window_seconds) for p in held_out]
    morphs = [model.interpolate(held_out[2 * i], held_out[2 * i + 1], args.steps) for i in range(args.pairs)]
    # One scale for real openings and morph steps alike: each feature's spread over both sets together (over
    # the real openings alone a feature they all share, four voices at once, would make any step look far).
    table = feature_matrix(feature_table(real + [s for m in morphs for s in m]))
    mu, sd = table.mean(axis=0), table.std(axis=0)
    sd[sd < 1e-12] = 1.0
    scaled = (table - mu) / sd
    real_f, step_f = scaled[:len(real)], scaled[len(real):].reshape(args.pairs, args.steps, -1)
    scale = np.mean([np.linalg.norm(a - b) for a, b in itertools.combinations(real_f, 2)])
    neighbours = [np.linalg.norm(f[k] - f[k + 1]) for f in step_f for k in range(args.steps - 1)]
    ends = [np.linalg.norm(f[0] - f[-1]) for f in step_f]
    identical = sum(x.notes == y.notes for m in morphs for x, y in zip(m, m[1:]))
    print(f"{args.model}: {args.pairs} pairs x {args.steps} steps")
    print(f"neighbouring steps  {np.mean(neighbours) / scale:.2f} of two real openings' distance")
    print(f"first vs last step  {np.mean(ends) / scale:.2f}")
    print(f"identical neighbours {identical} of {len(neighbours)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
