"""Do a blind trial's MP3 bytes say which clip is the real piece? A classifier on byte statistics, measured.

Renders a study's worth of trials (the real opening of each held-out piece against a model clip, cut,
loudness-matched and faded exactly as `schedule.trial_audio` does), encodes both clips of every trial and
trains a logistic regression (numpy; folds keep both clips of a trial together) on byte-level statistics
of the files alone: size, byte entropy, LAME's padding strings ("LAME", 0x55 runs), 0x00/0xFF runs,
frame-header variety, the unused share of the frames' bits and the Info tag's bytes. Reported: accuracy
per clip and per trial (the classifier picks the clip it finds more "real"), each with a Wilson
interval and an exact binomial test against chance, and the audit's own statistic (padding strings
higher in the real clip). Both encoders are measured on the same renders:

* `legacy`: constant-bitrate MP3 as served before (digital silence and quiet passages leave frames
  half empty, and LAME pads them);
* `current`: `musicgen.audio.encode_blind` (a fixed dither-level noise floor first, and the bytes no granule
  uses overwritten with bytes drawn from the file's own coded data).

Measured (36 Bach openings vs markov / A-lstm / transformer, 20 s clips each cut into two 10 s trials, 72
trials): legacy: padding strings higher in the real clip in 50 of 70 trials (p = 0.0004), classifier on the
encoder's artifacts 49/72 trials (68 %, p = 0.003); current: no padding strings, artifacts classifier 37/72
(51 %, p = 0.91). Left: the byte entropy of the Huffman-coded data itself (real higher in 50/72, p = 0.001; the
all-feature classifier 45/72 = 62 %, p = 0.044), a property of the coded sound that PCM WAV bytes of the same
clips do not show (39/72, p = 0.56; `--encoders wav`: classifier 42/72 = 58 %, p = 0.20): only serving 16-bit PCM
(~16 times the bytes of the MP3) would remove it.

    .venv/bin/python scripts/clip_bytes_audit.py --pairs 36 --seconds 20 --split 2 --encoders legacy,current,wav

    .venv/bin/python scripts/clip_bytes_audit.py --pairs 36 --seconds 10 --cache /tmp/audit_clips.npz

Rendering needs FluidSynth and the checkpoints; `--cache` keeps the renders for a rerun.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from scipy.stats import binomtest  # noqa: E402

from musicgen.audio import (Clip, _encode, encode_blind, encode_wav, match_clips, mp3_frames,  # noqa: E402
                            mp3_unused_share)

FADE = 0.5
SAMPLE_RATE = 22050
FEATURES = ("size", "entropy", "lame_strings", "runs_55", "runs_00", "runs_ff", "header_kinds", "unused_share",
            "used_bits_mean", "used_bits_std", "tag_sum")
# What the encoder adds around the coded sound (padding, fill, frame layout, tag): everything but the byte entropy,
# which follows the Huffman-coded spectra themselves (the sound, as a decoder would hear it)
ARTIFACT_FEATURES = tuple(f for f in FEATURES if f != "entropy")


def encode_legacy(clip: Clip) -> bytes:
    """The blind encoder before the fix: CBR MP3 of the clip as it is."""
    return _encode(clip, "MP3", "MPEG_LAYER_III", bitrate_mode="CONSTANT", compression_level=0.5)


ENCODERS = {"legacy": encode_legacy, "current": encode_blind, "wav": encode_wav}  # wav: 16-bit PCM, for comparison


def _runs(data: bytes, byte: int, min_len: int = 4) -> int:
    a = np.frombuffer(data, dtype=np.uint8) == byte
    edges = np.diff(np.concatenate([[0], a.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return int(np.sum(ends - starts >= min_len))


def byte_features(data: bytes) -> dict[str, float]:
    """Byte-level statistics of one MP3 file (no decoding)."""
    counts = np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256) / max(len(data), 1)
    nz = counts[counts > 0]
    frames = mp3_frames(data)
    music = [f for f in frames if not f.tag]
    used = np.array([f.used_bits for f in music], dtype=float) if music else np.zeros(1)
    tag = next((f for f in frames if f.tag), None)
    tag_bytes = data[tag.offset:tag.offset + tag.size] if tag else b""
    return {"size": float(len(data)), "entropy": float(-(nz * np.log2(nz)).sum()),
            "lame_strings": float(data.count(b"LAME")), "runs_55": float(_runs(data, 0x55)),
            "runs_00": float(_runs(data, 0x00)), "runs_ff": float(_runs(data, 0xFF)),
            "header_kinds": float(len({data[f.offset:f.offset + 4] for f in frames})),
            "unused_share": mp3_unused_share(data), "used_bits_mean": float(used.mean()),
            "used_bits_std": float(used.std()), "tag_sum": float(sum(tag_bytes))}


# ---- rendering -----------------------------------------------------------------------------------------
def render_pairs(n_pairs: int, seconds: float, models: list[str], cache: Path | None) -> list[tuple[Clip, Clip]]:
    """(real, model) clips per trial, matched as a trial's clips are (equal length, loudness, fade)."""
    if cache is not None and cache.exists():
        z = np.load(cache)
        if int(z["n"]) >= n_pairs and float(z["seconds"]) == seconds:
            return [(Clip(z[f"real{i}"], SAMPLE_RATE, "cache"), Clip(z[f"model{i}"], SAMPLE_RATE, "cache"))
                    for i in range(n_pairs)]
    from musicgen.listening import clips
    from musicgen.listening.study import StudySpec
    from musicgen.synth import render_audio

    spec = StudySpec.from_dict({"id": "bytes-audit", "systems": ["real", *models], "clip": {"seconds": seconds}})
    pairs, arrays = [], {}
    for i in range(n_pairs):
        model = models[i % len(models)]
        rendered = [render_audio(clips.clip_notes(s, seed, clips.clip_settings(spec, s, seed)),
                                 sample_rate=SAMPLE_RATE) for s, seed in (("real", i), (model, 1000 + i))]
        length = min(seconds, *(c.duration for c in rendered))
        real, other = match_clips(rendered, length=length, fade=FADE)
        pairs.append((real, other))
        arrays[f"real{i}"], arrays[f"model{i}"] = real.samples, other.samples
        print(f"rendered trial {i + 1}/{n_pairs} (real vs {model})", file=sys.stderr)
    if cache is not None:
        np.savez_compressed(cache, n=n_pairs, seconds=seconds, **arrays)
    return pairs


def split_pairs(pairs: list[tuple[Clip, Clip]], k: int) -> list[tuple[Clip, Clip]]:
    """Each trial cut into `k` consecutive trials of equal length, each matched and faded again."""
    if k <= 1:
        return pairs
    out = []
    for real, model in pairs:
        n = len(real.samples) // k
        for j in range(k):
            parts = [Clip(c.samples[j * n:(j + 1) * n], c.sample_rate, c.soundfont) for c in (real, model)]
            out.append(tuple(match_clips(parts, fade=FADE)))
    return out


# ---- the classifier ------------------------------------------------------------------------------------
def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method; x already has its bias column."""
    w = np.zeros(x.shape[1])
    reg = l2 * np.eye(x.shape[1])
    reg[0, 0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) + reg @ w
        hess = (x * (p * (1 - p))[:, None]).T @ x + reg + 1e-9 * np.eye(x.shape[1])
        w -= np.linalg.solve(hess, grad)
    return w


def cross_validated_scores(feats: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int = 6, seed: int = 0
                           ) -> np.ndarray:
    """Out-of-fold P(real) per clip; folds split by trial (both clips of a trial in one fold)."""
    rng = np.random.default_rng(seed)
    trial_ids = np.unique(groups)
    fold_of = dict(zip(rng.permutation(trial_ids), np.arange(len(trial_ids)) % folds))
    fold = np.array([fold_of[g] for g in groups])
    scores = np.zeros(len(y))
    for k in range(folds):
        train, test = fold != k, fold == k
        mu, sd = feats[train].mean(0), feats[train].std(0)
        sd[sd == 0] = 1.0
        design = lambda rows: np.hstack([np.ones((rows.sum(), 1)), (feats[rows] - mu) / sd])  # noqa: E731
        w = _fit_logistic(design(train), y[train])
        scores[test] = 1 / (1 + np.exp(-np.clip(design(test) @ w, -30, 30)))
    return scores


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    mid, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, mid - half), min(1.0, mid + half))


def _proportion(k: int, n: int) -> dict:
    low, high = wilson(k, n)
    return {"correct": k, "n": n, "accuracy": round(k / n, 3), "ci95": [round(low, 3), round(high, 3)],
            "p_value": float(f"{binomtest(k, n, 0.5).pvalue:.3g}")}


def audit(pairs: list[tuple[Clip, Clip]], encoder, *, folds: int = 6, repeats: int = 5) -> dict:
    """The classifier's out-of-fold accuracy (per clip and per trial) on one encoder's bytes: on every feature,
    and on the encoder's artifacts alone (`ARTIFACT_FEATURES`)."""
    rows, y, groups = [], [], []
    for i, (real, model) in enumerate(pairs):
        for clip, label in ((real, 1), (model, 0)):
            rows.append(byte_features(encoder(clip)))
            y.append(label)
            groups.append(i)
    feats = np.array([[r[f] for f in FEATURES] for r in rows])
    y, groups = np.array(y, dtype=float), np.array(groups)
    n = len(pairs)

    def classify(columns: list[int]) -> tuple[dict, dict]:
        clip_hits = trial_hits = 0
        for rep in range(repeats):  # several fold assignments: the numbers do not hinge on one split
            scores = cross_validated_scores(feats[:, columns], y, groups, folds=folds, seed=rep)
            clip_hits += int(np.sum((scores > 0.5) == (y == 1)))
            trial_hits += int(np.sum(scores[0::2] > scores[1::2]))
        return _proportion(round(clip_hits / repeats), 2 * n), _proportion(round(trial_hits / repeats), n)

    per_clip, per_trial = classify(list(range(len(FEATURES))))
    artifacts_clip, artifacts_trial = classify([FEATURES.index(f) for f in ARTIFACT_FEATURES])
    lame_real_higher = int(np.sum(feats[0::2, 2] > feats[1::2, 2]))
    lame_decisive = int(np.sum(feats[0::2, 2] != feats[1::2, 2]))
    per_feature = {}
    for j, name in enumerate(FEATURES):
        higher, differ = int(np.sum(feats[0::2, j] > feats[1::2, j])), int(np.sum(feats[0::2, j] != feats[1::2, j]))
        per_feature[name] = {"real_higher": higher, "differ": differ,
                             "p_value": float(f"{binomtest(higher, differ, 0.5).pvalue:.3g}") if differ else 1.0}
    return {
        # accuracies pooled over `repeats` fold assignments; n and the tests use one assignment's share
        "per_clip": per_clip,
        "per_trial": per_trial,
        "artifacts_per_clip": artifacts_clip,
        "artifacts_per_trial": artifacts_trial,
        "padding_strings_higher_in_real": {"trials": lame_real_higher, "decisive": lame_decisive,
                                           "p_value": float(f"{binomtest(lame_real_higher, lame_decisive, 0.5).pvalue:.3g}")
                                           if lame_decisive else 1.0},
        "per_feature_sign_test": per_feature,
        "mean_features": {"real": dict(zip(FEATURES, np.round(feats[0::2].mean(0), 4).tolist())),
                          "model": dict(zip(FEATURES, np.round(feats[1::2].mean(0), 4).tolist()))},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=36, help="trials (real vs model); at most the held-out pieces")
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length")
    parser.add_argument("--models", default="markov,A-lstm,transformer", help="model systems, taken in turn")
    parser.add_argument("--cache", type=Path, default=None, help="npz file keeping the renders between runs")
    parser.add_argument("--split", type=int, default=1,
                        help="cut every rendered trial into this many consecutive trials (more trials, same renders)")
    parser.add_argument("--encoders", default="legacy,current", help=f"which of {', '.join(ENCODERS)}")
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    args = parser.parse_args(argv)
    pairs = split_pairs(render_pairs(args.pairs, args.seconds, args.models.split(","), args.cache), args.split)
    report = {"trials": len(pairs), "seconds": args.seconds / args.split, "models": args.models.split(","),
              "features": list(FEATURES)}
    for name in args.encoders.split(","):
        report[name] = audit(pairs, ENCODERS[name])
        r = report[name]
        print(f"{name:8s} per clip {r['per_clip']['correct']}/{r['per_clip']['n']} = {r['per_clip']['accuracy']:.3f} "
              f"{r['per_clip']['ci95']} p={r['per_clip']['p_value']:.3g};  per trial {r['per_trial']['correct']}/"
              f"{r['per_trial']['n']} = {r['per_trial']['accuracy']:.3f} {r['per_trial']['ci95']} "
              f"p={r['per_trial']['p_value']:.3g};  encoder artifacts alone: per trial {r['artifacts_per_trial']['correct']}/"
              f"{r['artifacts_per_trial']['n']} = {r['artifacts_per_trial']['accuracy']:.3f} "
              f"{r['artifacts_per_trial']['ci95']} p={r['artifacts_per_trial']['p_value']:.3g};  "
              f"byte entropy higher in real: {r['per_feature_sign_test']['entropy']['real_higher']}/{len(pairs)} "
              f"p={r['per_feature_sign_test']['entropy']['p_value']:.3g};  padding strings higher in real: "
              f"{r['padding_strings_higher_in_real']['trials']}/{r['padding_strings_higher_in_real']['decisive']} "
              f"p={r['padding_strings_higher_in_real']['p_value']:.3g}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
