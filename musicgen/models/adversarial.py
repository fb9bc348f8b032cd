"""The adversarial mechanics every GAN family shares, in one place.

An architecture file (gan_lstm, gan_dense, crnngan, dcgan) defines only its two networks, its noise,
how a real batch is normalised and how generator output becomes notes. Here: the optimizers (Adam,
β1 0.5), the discriminator step (one-sided label smoothing: real = `real_label`), the generator step
(non-saturating loss, or feature matching on a discriminator layer), an exponential moving average
of the generator (the shipped weights: it smooths the oscillation of adversarial training), the
statistics logged for the Training page, and sampling (noise × temperature → chunks → notes).

Training noise comes from torch's global generator, seeded once by the training loop; sampling noise
only from a local generator seeded by the request, so the same seed gives the same notes.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from musicgen.batches import TRANSPOSE_RANGE
from musicgen.models.base import MusicModel
from musicgen.models.window_batches import WindowBatches
from musicgen.sampling import Length, SamplingError, make_generator
from musicgen.sequence import NoteSequence
from musicgen.set_metrics import overlap_mean

MAX_CHUNKS = 64


@dataclass(frozen=True, kw_only=True)
class AdversarialConfig:
    vocab_size: int
    latent_dim: int = 100
    real_label: float = 0.9  # one-sided label smoothing: real targets 0.9, fake targets 0
    feature_matching: bool = False  # generator matches the mean of a discriminator layer instead
    # With feature matching: weight of the usual non-saturating term added to it (0 = matching only).
    # Matching means alone lets a generator sit between the modes of real data (C-RNN-GAN's gaps
    # between "chord" 0 and "next beat" 1 came out as 0.1-0.3 quarters everywhere).
    adversarial_weight: float = 0.0
    beta1: float = 0.5
    d_lr_scale: float = 1.0  # discriminator lr = generator lr × this
    d_weight_decay: float = 0.0  # L2 on the discriminator's weights
    loss_sum: bool = False  # BCE summed over the batch instead of averaged (study D's DCGAN)
    ema: float = 0.999  # decay of the generator's moving average (0 = off; ship the raw generator)
    # Std of Gaussian noise added to everything the discriminator sees while training. Real data sit
    # exactly on a grid (whole pitches, 0/1 cells) and generated data never do; without noise the
    # discriminator wins on that alone and teaches the generator nothing about music.
    instance_noise: float = 0.0
    # Piano-roll families: the discriminator sees generated cells thresholded to 0/1 (see gan_rolls.py).
    binary_output: bool = False
    # R1 penalty (Mescheder et al. 2018): γ/2 × the squared gradient of the discriminator's logit at real
    # data. A critic that reacts sharply to tiny changes of real pieces can win outright and leave the
    # generator no useful gradient (measured: A-gan's d_fake ≈ 0 for a thousand steps); this keeps it
    # smooth around the data without weakening it elsewhere. 0 = off.
    r1_gamma: float = 0.0
    # Ship the generator snapshot whose samples best match the validation pieces (mean feature overlap,
    # scored at every evaluation) instead of the last one. Adversarial training does not converge: the
    # critic wins sooner or later and the samples collapse (measured on D-dcgan: overlap 0.78 after 600
    # steps, 0.37 after 1000), so the last step is rarely the best. Scored on validation, never on test.
    keep_best: bool = False


def _bce(logits: torch.Tensor, target: float, *, summed: bool) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target),
                                              reduction="sum" if summed else "mean")


class AdversarialModel(MusicModel):
    is_likelihood_model = False
    accepts_primer = False
    supports_distributed = False  # its own D and G steps; not split across processes yet
    compare_with_untrained = True  # `evaluate` also scores the untrained generator (did it learn?)
    temperature_meaning = ("the generator's input noise × T (1 = as trained; lower = nearer its most typical "
                           "output, higher = wilder)")
    toy_train: ClassVar[dict] = {"lr": 2e-3}

    def __init__(self, *, config, representation):
        super().__init__(config=config, representation=representation)
        self.generator = self.Generator(config)
        self.discriminator = self.Discriminator(config)
        self.generator_ema = None
        if config.ema:
            self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False)
        self.generator_best = None
        self._finished = False
        if config.keep_best:
            # Modules and buffers, so that a resumed run keeps its best snapshot and its step count.
            self.generator_best = copy.deepcopy(self.inference_generator()).requires_grad_(False)
            self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))
            self.register_buffer("best_step", torch.zeros((), dtype=torch.long))
            self.register_buffer("best_overlap", torch.full((), -1.0))

    # ---- what an architecture defines -----------------------------------------------------------
    # The two networks, each built from the family's config; `discriminator(x)` → (logits, features).
    Generator: ClassVar[type[nn.Module]]
    Discriminator: ClassVar[type[nn.Module]]

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.randn(n, self.config.latent_dim, generator=generator)

    def discriminate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (batch,), features (batch, F)) — the features are what feature matching matches."""
        return self.discriminator(x)

    def normalise(self, real: torch.Tensor) -> torch.Tensor:
        """A batch of real windows (representation units) → what the generator outputs."""
        return real

    def as_discriminator_input(self, fake: torch.Tensor) -> torch.Tensor:
        """What the discriminator sees of a generated batch (a piano-roll family binarises it)."""
        return fake

    def chunk_to_notes(self, fake: np.ndarray) -> NoteSequence:
        """One generator output (normalised units) → notes starting at time 0."""
        raise NotImplementedError

    @classmethod
    def piece_array(cls, representation, piece: NoteSequence) -> np.ndarray:
        return representation.encode(piece)

    @classmethod
    def prepare_window(cls, representation, window: np.ndarray, shift: int) -> np.ndarray | None:
        return window if shift == 0 else representation.transpose(window, shift)

    # ---- training ----------------------------------------------------------------------------------
    @classmethod
    def make_batches(cls, representation, pieces, *, train, augment: bool, window: int | None = None):
        # `window` (the loop's NLL window for token models) does not apply: a GAN sees fixed-size pieces.
        return WindowBatches([cls.piece_array(representation, p) for p in pieces], window=train.window,
                             batch_size=train.batch_size,
                             prepare=lambda w, s: cls.prepare_window(representation, w, s),
                             shifts=tuple(TRANSPOSE_RANGE) if augment else (0,))

    def make_optimizers(self, *, lr: float, weight_decay: float = 0.0) -> dict[str, torch.optim.Optimizer]:
        c = self.config
        return {"generator": torch.optim.Adam(self.generator.parameters(), lr=lr, betas=(c.beta1, 0.999)),
                "discriminator": torch.optim.Adam(self.discriminator.parameters(), lr=lr * c.d_lr_scale,
                                                  betas=(c.beta1, 0.999), weight_decay=c.d_weight_decay)}

    def _step(self, optimizer, loss: torch.Tensor, params, grad_clip) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            nn.utils.clip_grad_norm_(params, grad_clip)
        optimizer.step()

    def train_step(self, batch, optimizers: dict, *, grad_clip: float | None = 1.0) -> dict[str, float]:
        c = self.config
        real = self.normalise(batch)
        n = real.shape[0]
        # Discriminator: real windows towards `real_label`, the generator's (detached) output towards 0.
        with torch.no_grad():  # no graph through the generator for the discriminator's step
            fake = self.as_discriminator_input(self.generator(self.noise(n).to(real.device)))
        real_in = self._noisy(real).detach().requires_grad_(bool(c.r1_gamma))
        real_logits, real_features = self.discriminate(real_in)
        fake_logits, _ = self.discriminate(self._noisy(fake))
        d_loss = _bce(real_logits, c.real_label, summed=c.loss_sum) + _bce(fake_logits, 0.0, summed=c.loss_sum)
        r1 = self._r1_penalty(real_logits, real_in) if c.r1_gamma else None
        if r1 is not None:
            d_loss = d_loss + c.r1_gamma / 2 * r1
        self._step(optimizers["discriminator"], d_loss, self.discriminator.parameters(), grad_clip)
        # Generator: fresh noise; fool the discriminator, or match its features on real data.
        fake = self.as_discriminator_input(self.generator(self.noise(n).to(real.device)))
        logits, features = self.discriminate(self._noisy(fake))
        if c.feature_matching:
            g_loss = (features.mean(0) - real_features.detach().mean(0)).pow(2).sum()
            if c.adversarial_weight:
                g_loss = g_loss + c.adversarial_weight * _bce(logits, 1.0, summed=c.loss_sum)
        else:
            g_loss = _bce(logits, 1.0, summed=c.loss_sum)
        self._step(optimizers["generator"], g_loss, self.generator.parameters(), grad_clip)
        self._update_ema()
        if self.generator_best is not None:
            self.steps_done += 1
        with torch.no_grad():
            stats = {"r1": float(r1)} if r1 is not None else {}
            return {**stats, "d_loss": float(d_loss), "g_loss": float(g_loss),
                    "d_real": float(torch.sigmoid(real_logits).mean()),
                    "d_fake": float(torch.sigmoid(fake_logits).mean()),
                    # spread of the generated batch relative to the real one: near 0 = mode collapse
                    "fake_spread": float(_spread(fake) / max(_spread(real), 1e-8))}

    def _r1_penalty(self, real_logits: torch.Tensor, real_in: torch.Tensor) -> torch.Tensor:
        """Squared norm of d(logit)/d(input) per real piece, summed or averaged like the BCE."""
        grad, = torch.autograd.grad(real_logits.sum(), real_in, create_graph=True)
        per_piece = grad.pow(2).flatten(1).sum(1)
        return per_piece.sum() if self.config.loss_sum else per_piece.mean()

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        sigma = self.config.instance_noise
        return x + sigma * torch.randn_like(x) if sigma else x

    @torch.no_grad()
    def _update_ema(self) -> None:
        if self.generator_ema is None:
            return
        d = self.config.ema
        for e, p in zip(self.generator_ema.parameters(), self.generator.parameters()):
            e.lerp_(p, 1.0 - d)
        for e, b in zip(self.generator_ema.buffers(), self.generator.buffers()):
            e.copy_(b)

    def inference_generator(self) -> nn.Module:
        return self.generator_ema if self.generator_ema is not None else self.generator

    @torch.no_grad()
    def eval_loss(self, batches) -> dict[str, float]:
        """Held-out real windows against the shipped generator's output (fixed noise): the
        discriminator's loss (ln 4 ≈ 1.39 when it cannot tell them apart) and its accuracy."""
        was_training = self.training
        self.eval()
        g = make_generator(0)
        total = correct = count = 0.0
        reals = []
        for batch in batches:
            real = self.normalise(batch)
            reals.append(real)
            fake = self.inference_generator()(self.noise(real.shape[0], g).to(real.device))
            fake = self.as_discriminator_input(fake)
            real_logits, _ = self.discriminate(real)
            fake_logits, _ = self.discriminate(fake)
            total += float(_bce(real_logits, 1.0, summed=True) + _bce(fake_logits, 0.0, summed=True))
            correct += float((real_logits > 0).sum() + (fake_logits <= 0).sum())
            count += real.shape[0]
        result = {"loss": total / max(count, 1), "d_accuracy": correct / max(2 * count, 1)}
        if self.generator_best is not None and reals:
            result["overlap"] = self._overlap_with(torch.cat(reals))
            if not self._finished and result["overlap"] > float(self.best_overlap):
                self.generator_best.load_state_dict(self.inference_generator().state_dict())
                self.best_overlap.fill_(result["overlap"])
                self.best_step.copy_(self.steps_done)
        self.train(was_training)
        return result

    def _overlap_with(self, real: torch.Tensor, n: int = 32) -> float:
        """Mean feature overlap between `n` generated windows (fixed noise) and these real windows."""
        fakes = self.inference_generator()(self.noise(n, make_generator(1)).to(real.device))
        return overlap_mean([self.chunk_to_notes(f) for f in fakes.cpu().numpy()],
                            [self.chunk_to_notes(w) for w in real.cpu().numpy()])

    def finish_training(self) -> None:
        """With `keep_best`, what ships is the best-scoring snapshot (if any evaluation ran)."""
        self._finished = True
        if self.generator_best is not None and float(self.best_overlap) >= 0:
            target = self.generator_ema if self.generator_ema is not None else self.generator
            target.load_state_dict(self.generator_best.state_dict())

    def training_summary(self) -> dict:
        if self.generator_best is None:
            return {}
        return {"selected_step": int(self.best_step), "selected_valid_overlap": round(float(self.best_overlap), 4),
                "selection": "the generator snapshot whose samples best matched the validation pieces "
                             "(mean feature overlap, scored at every evaluation)"}

    # ---- checkpoint: the generator only ------------------------------------------------------------
    def inference_state_dict(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().contiguous() for k, v in self.inference_generator().state_dict().items()}

    def load_inference_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.generator.load_state_dict(state, strict=True)
        if self.generator_ema is not None:
            self.generator_ema.load_state_dict(state, strict=True)

    # ---- sampling ------------------------------------------------------------------------------
    def chunk_seconds(self) -> float:
        """Length of one generator output in seconds of music (an estimate where it varies)."""
        raise NotImplementedError

    def chunk_span(self, chunk: NoteSequence) -> float:
        """Where the next chunk starts, in seconds after this one's start."""
        return self.chunk_seconds()

    def _sample(self, n, *, length: Length, temperature, seed, top_k, top_p, primer) -> list[NoteSequence]:
        if primer is not None:
            raise SamplingError(f"{self.family} makes each piece from random noise and cannot continue a primer; "
                                "choose no primer")
        was_training = self.training
        self.eval()
        try:
            g = make_generator(seed)
            pieces: list[list[NoteSequence]] = [[] for _ in range(n)]

            def enough(chunks: list[NoteSequence]) -> bool:
                if length.unit == "notes":
                    return sum(len(c) for c in chunks) >= length.value
                return sum(self.chunk_span(c) for c in chunks) >= length.value - 1e-6

            count = math.ceil(length.value / self.chunk_seconds() - 1e-9) if length.unit == "seconds" else 1
            for _ in range(MAX_CHUNKS):
                for i, chunks in enumerate(self.generate_chunks(n, count, g, temperature)):
                    pieces[i] += chunks
                if all(enough(p) for p in pieces):
                    break
                count = 1
            return [self._join(p, length, name=f"{self.family} seed {seed}") for p in pieces]
        finally:
            self.train(was_training)

    def generate_chunks(self, n: int, count: int, g: torch.Generator, temperature: float) -> list[list[NoteSequence]]:
        """n pieces' worth of `count` generator outputs each, as notes (independent windows)."""
        fakes = self.inference_generator()(self.noise(n * count, g) * temperature).cpu().numpy()
        return [[self.chunk_to_notes(f) for f in fakes[i * count:(i + 1) * count]] for i in range(n)]

    def _join(self, chunks: list[NoteSequence], length: Length, *, name: str) -> NoteSequence:
        """Chunks one after another, cut to the requested length (notes ending past it are shortened)."""
        notes, offset = [], 0.0
        for chunk in chunks:
            notes += chunk.shift_time(offset).notes
            offset += self.chunk_span(chunk)
        joined = NoteSequence(notes=tuple(notes), qpm=chunks[0].qpm if chunks else 120.0, name=name)
        if length.unit == "notes":
            return joined.first_notes(int(length.value))
        return joined.slice_time(0.0, length.value)


def _spread(x: torch.Tensor) -> torch.Tensor:
    flat = x.detach().reshape(x.shape[0], -1)
    return torch.cdist(flat, flat).mean() if x.shape[0] > 1 else flat.new_zeros(())
