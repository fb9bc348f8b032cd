"""Composer classifier driven by gradient ascent (study D's D-classifier-ascent, shipped as a negative result).

Training: a small Transformer encoder reads a fixed-length 16th-note piano-roll snippet (`steps` × 128
pitches; a linear layer per step, learned positions, mean pooling) and says which composer wrote it.
Batches are snippets drawn at random offsets, balanced over composers, transposed by up to ±6
semitones; the label is the composer prefix of the piece name ("bach/bwv1.6").

Generation ("style push"): take a piece (the primer; without one, a held-out validation piece picked
by the seed), relax its piano roll to values in 0..1 and run gradient ascent on the roll (never on the
weights) to raise the classifier's log-probability of a target composer, averaged over overlapping
windows, minus an L2 penalty (distance from the original) and a continuity penalty (changes from one
step to the next). Each step adds Gaussian noise scaled by the temperature; the result is cut at 0.5
back into notes. All randomness comes from a local generator; gradients go to the roll only, so one
cached model serves every session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from musicgen.corpora import load_corpus
from musicgen.corpora.music21_sources import COMPOSERS
from musicgen.models.base import MusicModel
from musicgen.sampling import Length, SamplingError, check_params, make_generator
from musicgen.sequence import NoteSequence

MAX_TRANSPOSE = 6
START_STRIDE = 4  # training snippets start on a beat
MAX_STRENGTH = 10.0


@dataclass(frozen=True, kw_only=True)
class ClassifierAscentConfig:
    vocab_size: int = 128  # pitch rows of the piano roll
    composers: tuple[str, ...] = COMPOSERS  # the classes, in order (the card keeps them)
    steps: int = 64  # snippet length in 16th notes (4 bars of 4/4)
    d_model: int = 64
    heads: int = 4
    layers: int = 2
    ff: int = 128
    dropout: float = 0.1
    # style push
    source_corpus: str = "music21-composers"  # where a piece comes from when no primer is given
    default_target: str = "mozart"
    ascent_steps: int = 150
    ascent_lr: float = 0.05  # Adam step on the relaxed roll
    noise: float = 0.02  # Gaussian noise per step at temperature 1
    l2_weight: float = 0.5  # per step of music: sum of squared changes from the original
    continuity_weight: float = 0.05  # per step of music: sum of squared step-to-step changes

    def __post_init__(self) -> None:
        object.__setattr__(self, "composers", tuple(self.composers))  # a card gives a list
        if self.default_target not in self.composers:
            raise ValueError(f"default_target {self.default_target!r} is not one of {self.composers}")


@dataclass(frozen=True)
class RollBatch:
    rolls: torch.Tensor  # (batch, steps, 128) float 0/1
    labels: torch.Tensor  # (batch,) composer index

    def to(self, device) -> "RollBatch":
        return RollBatch(self.rolls.to(device), self.labels.to(device))


def composer_label(name: str, composers: tuple[str, ...] = COMPOSERS) -> int:
    prefix = name.split("/", 1)[0]
    if prefix not in composers:
        raise ValueError(f"piece {name!r} has no composer prefix from {composers} (e.g. 'bach/bwv1.6')")
    return composers.index(prefix)


class SnippetBatches:
    """Pieces → composer-labelled piano-roll snippets of `window` steps (the `make_batches` object)."""

    def __init__(self, rolls: list[np.ndarray], labels: list[int], *, window: int, batch_size: int, augment: bool,
                 n_classes: int):
        if not rolls:
            raise ValueError("no pieces to make batches from")
        self.rolls, self.labels = rolls, np.asarray(labels)
        self.window, self.batch_size, self.augment, self.n_classes = window, batch_size, augment, n_classes
        self.pools = [[(i, s) for i in np.flatnonzero(self.labels == c)
                       for s in range(0, max(1, len(rolls[i]) - window + 1), START_STRIDE)] for c in range(n_classes)]

    def examples_per_epoch(self) -> int:
        return sum(max(1, len(r) // self.window) for r in self.rolls)

    def describe(self) -> str:
        counts = np.bincount(self.labels, minlength=self.n_classes).tolist()
        return (f"{len(self.rolls)} pieces (per composer {counts}); {self.examples_per_epoch()} snippets of "
                f"{self.window} 16ths per epoch, balanced over composers")

    def _snippet(self, piece: int, start: int, shift: int = 0) -> np.ndarray:
        out = np.zeros((self.window, self.rolls[piece].shape[1]), dtype=np.float32)
        part = self.rolls[piece][start:start + self.window]
        out[:len(part)] = part
        wraps = out[:, -shift:].any() if shift > 0 else out[:, :-shift].any() if shift < 0 else False
        return out if shift == 0 or wraps else np.roll(out, shift, axis=1)

    def _batch(self, picks: list[tuple[int, int, int]]) -> RollBatch:
        rolls = np.stack([self._snippet(p, s, k) for p, s, k in picks])
        return RollBatch(torch.from_numpy(rolls), torch.tensor([int(self.labels[p]) for p, _, _ in picks]))

    def epoch(self, generator: torch.Generator):
        """Random snippets, the same number from every composer (so long quartets don't drown chorales)."""
        n = self.examples_per_epoch()
        present = [c for c in range(self.n_classes) if self.pools[c]]
        classes = [present[int(i) % len(present)] for i in torch.randperm(n, generator=generator)]
        picks = []
        for c in classes:
            piece, start = self.pools[c][int(torch.randint(len(self.pools[c]), (1,), generator=generator))]
            shift = int(torch.randint(-MAX_TRANSPOSE, MAX_TRANSPOSE + 1, (1,), generator=generator)) if self.augment else 0
            picks.append((piece, start, shift))
        for i in range(0, n, self.batch_size):
            yield self._batch(picks[i:i + self.batch_size])

    def sequential(self):
        """Every piece cut into non-overlapping snippets, in order (validation / test)."""
        picks = [(i, s, 0) for i, r in enumerate(self.rolls) for s in range(0, max(1, len(r) - self.window + 1),
                                                                            self.window)]
        for i in range(0, len(picks), self.batch_size):
            yield self._batch(picks[i:i + self.batch_size])


class ClassifierAscent(MusicModel):
    family = "classifier-ascent"
    Config = ClassifierAscentConfig
    is_likelihood_model = False
    temperature_meaning = ("scales the random noise added to the piano roll at every gradient-ascent step "
                           "(1 = the configured noise, lower = plain ascent, higher = noisier); top-k and top-p "
                           "do not apply")

    def __init__(self, *, config: ClassifierAscentConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.embed = nn.Linear(c.vocab_size, c.d_model)
        self.position = nn.Parameter(torch.randn(c.steps, c.d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(c.d_model, c.heads, c.ff, c.dropout, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, c.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, len(c.composers))

    # ---- classifier ------------------------------------------------------------------------------
    def forward(self, rolls: torch.Tensor) -> torch.Tensor:
        """(batch, ≤ steps, 128) rolls with values in 0..1 → (batch, composers) logits."""
        h = self.encoder(self.embed(rolls) + self.position[:rolls.shape[1]])
        return self.head(self.norm(h.mean(dim=1)))

    @classmethod
    def make_batches(cls, representation, pieces, *, train, augment: bool, window: int | None = None):
        # Snippets always have the preset's window (the classifier's input length); the loop's longer
        # test window is meant for token streams and is not used here.
        rolls = [representation.encode(p) for p in pieces]
        return SnippetBatches(rolls, [composer_label(p.name) for p in pieces], window=train.window,
                              batch_size=train.batch_size, augment=augment, n_classes=len(COMPOSERS))

    def loss(self, batch: RollBatch) -> dict[str, torch.Tensor]:
        logits = self(batch.rolls)
        return {"loss": F.cross_entropy(logits, batch.labels),
                "train_accuracy": (logits.argmax(-1) == batch.labels).float().mean()}

    @torch.no_grad()
    def eval_loss(self, batches) -> dict:
        """Mean cross-entropy per snippet, plus accuracy and the confusion matrix (rows: true composer)."""
        was_training = self.training
        self.eval()
        k = len(self.config.composers)
        confusion = torch.zeros(k, k, dtype=torch.long)
        total = 0.0
        for batch in batches:
            logits = self(batch.rolls)
            total += float(F.cross_entropy(logits, batch.labels, reduction="sum"))
            confusion.index_put_((batch.labels.cpu(), logits.argmax(-1).cpu()), torch.ones(len(batch.labels),
                                 dtype=torch.long), accumulate=True)
        self.train(was_training)
        count = int(confusion.sum())
        rows = confusion.sum(1)
        recall = [float(confusion[i, i] / rows[i]) for i in range(k) if rows[i] > 0]
        return {"loss": total / max(count, 1), "accuracy": float(confusion.trace()) / max(count, 1),
                "balanced_accuracy": sum(recall) / max(len(recall), 1), "snippets": count,
                "confusion": confusion.tolist()}

    def window_log_probs(self, roll: torch.Tensor) -> torch.Tensor:
        """(T, 128) roll → (windows, composers) log-probabilities over half-overlapping windows."""
        size, hop = self.config.steps, self.config.steps // 2
        windows = 1 + max(0, math.ceil((roll.shape[0] - size) / hop))
        padded = F.pad(roll, (0, 0, 0, (windows - 1) * hop + size - roll.shape[0]))
        return F.log_softmax(self(padded.unfold(0, size, hop).transpose(1, 2)), dim=-1)

    @torch.no_grad()
    def composer_probs(self, roll: torch.Tensor) -> list[float]:
        """The classifier's belief about a whole roll: window probabilities, averaged."""
        return self.window_log_probs(roll.float()).exp().mean(0).tolist()

    def target_index(self, target: str | None) -> int:
        name = (target or self.config.default_target).strip().lower()
        if name not in self.config.composers:
            raise ValueError(f"unknown target composer {target!r}; choose one of {', '.join(self.config.composers)}")
        return self.config.composers.index(name)

    # ---- style push ------------------------------------------------------------------------------
    def ascend(self, roll: torch.Tensor, target: int, *, strength: float, temperature: float,
               generator: torch.Generator, on_step=None) -> torch.Tensor:
        """Gradient ascent on a relaxed copy of `roll` (values kept in 0..1); returns the relaxed roll.
        `on_step(done, total)`, if given, is called after every step (a progress bar)."""
        c = self.config
        original = roll.float()
        steps = max(1, original.shape[0])
        with torch.inference_mode(False), torch.enable_grad():
            x = original.clone().requires_grad_(True)
            adam = _Adam(x, lr=c.ascent_lr)  # on the roll only: the model is never changed
            for i in range(c.ascent_steps):
                score = self.window_log_probs(x)[:, target].mean()
                l2 = ((x - original) ** 2).sum() / steps
                continuity = ((x[1:] - x[:-1]) ** 2).sum() / steps
                objective = strength * score - c.l2_weight * l2 - c.continuity_weight * continuity
                (grad,) = torch.autograd.grad(-objective, [x])
                with torch.no_grad():
                    adam.step(grad)
                    x.add_(torch.randn(x.shape, generator=generator) * (c.noise * temperature)).clamp_(0.0, 1.0)
                if on_step is not None:
                    on_step(i + 1, c.ascent_steps)
        return x.detach()

    def push(self, piece: NoteSequence, *, target: str | None = None, strength: float = 1.0,
             temperature: float = 1.0, seed: int = 0, length="30s", on_step=None) -> "PushResult":
        """Push the opening `length` of `piece` toward `target`; the before/after notes and probabilities.
        `on_step(done, total)` is called after each ascent step (for a progress bar)."""
        check_params(temperature=temperature, top_k=None, top_p=None, seed=seed)
        if not (0.0 <= strength <= MAX_STRENGTH):
            raise SamplingError(f"strength must be between 0 and {MAX_STRENGTH:g}, got {strength}")
        index = self.target_index(target)
        source = _opening(piece, Length.parse(length))
        if len(source) == 0:
            raise ValueError(f"the piece {piece.name!r} has no notes in its first {length}")
        was_training = self.training
        self.eval()
        try:
            roll = torch.from_numpy(self.representation.encode(source)).float()
            relaxed = self.ascend(roll, index, strength=strength, temperature=temperature,
                                  generator=make_generator(seed), on_step=on_step)
            notes = (relaxed >= self.representation.config.threshold).float()
            before, relaxed_p, after_p = (self.composer_probs(r) for r in (roll, relaxed, notes))
        finally:
            self.train(was_training)
        name = self.config.composers[index]
        after = self.representation.decode(notes.numpy(), qpm=source.qpm, program=source.program,
                                           name=f"{source.name} → {name}")
        after = after.with_meta(source=source.name, target=name, strength=f"{strength:g}",
                                p_target_before=f"{before[index]:.4f}", p_target_after=f"{after_p[index]:.4f}")
        return PushResult(source=source, after=after, target=name, composers=self.config.composers,
                          probs_before=before, probs_relaxed=relaxed_p, probs_after=after_p)

    def source_piece(self, index: int) -> NoteSequence:
        """A held-out validation piece of the source corpus, chosen by `index` (the seed) in name order."""
        name = self.config.source_corpus
        corpus = load_corpus(name)
        pieces = sorted(corpus.subset("valid"), key=lambda p: p.name)
        if not pieces:
            raise ValueError(f"corpus {name!r} has no validation pieces to push; give a primer")
        return pieces[index % len(pieces)]

    def sample(self, n: int = 1, *, length="30s", temperature: float = 1.0, seed: int = 0,
               top_k: int | None = None, top_p: float | None = None, primer: NoteSequence | None = None,
               target: str | None = None, strength: float = 1.0) -> list[NoteSequence]:
        """The base contract: `n` pushed pieces (sample i uses seed + i: its noise and, without a primer,
        its piece). Extra keywords: `target` composer (default from the card) and `strength`."""
        check_params(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, n=n)
        length = Length.parse(length)
        if primer is not None and len(primer) == 0:
            raise ValueError("the primer has no notes to push")
        return [self.push(primer if primer is not None else self.source_piece(seed + i), target=target,
                          strength=strength, temperature=temperature, seed=seed + i, length=length).after
                for i in range(n)]


class _Adam:
    """torch.optim.Adam's update (defaults, one CPU tensor), written out: constructing torch.optim.Adam
    imports torch._dynamo (~800 modules, 2-3 s), which made the first push of every process slow. The
    arithmetic is the same as torch's single-tensor path, so pushes give the same notes as before."""

    def __init__(self, param: torch.Tensor, *, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.param, self.lr, (self.beta1, self.beta2), self.eps = param, lr, betas, eps
        self.exp_avg = torch.zeros_like(param, memory_format=torch.preserve_format)
        self.exp_avg_sq = torch.zeros_like(param, memory_format=torch.preserve_format)
        self.steps = 0

    def step(self, grad: torch.Tensor) -> None:
        self.steps += 1
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        step_size = self.lr / (1 - self.beta1 ** self.steps)
        denom = (self.exp_avg_sq.sqrt() / (1 - self.beta2 ** self.steps) ** 0.5).add_(self.eps)
        self.param.addcdiv_(self.exp_avg, denom, value=-step_size)


@dataclass(frozen=True)
class PushResult:
    source: NoteSequence  # the piece as it went in (cut to the length)
    after: NoteSequence  # the pushed piece, thresholded back to notes
    target: str
    composers: tuple[str, ...]
    probs_before: list[float]  # classifier probabilities per composer
    probs_relaxed: list[float]  # on the relaxed (0..1) roll the ascent optimised
    probs_after: list[float]  # on the notes actually returned

    @property
    def target_before(self) -> float:
        return self.probs_before[self.composers.index(self.target)]

    @property
    def target_after(self) -> float:
        return self.probs_after[self.composers.index(self.target)]


def _opening(seq: NoteSequence, length: Length) -> NoteSequence:
    """The first `length` (seconds or notes) of a piece, from its first note."""
    if len(seq) == 0:
        return seq
    first = seq.notes[0].start
    if length.unit == "seconds":
        return seq.slice_time(first, first + length.value)
    last = seq.notes[min(int(length.value), len(seq)) - 1].start
    return seq.slice_time(first, last + 1e-6)
