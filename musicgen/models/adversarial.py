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


def _bce(logits: torch.Tensor, target: float, *, summed: bool) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target),
                                              reduction="sum" if summed else "mean")


class AdversarialModel(MusicModel):
    is_likelihood_model = False
    accepts_primer = False
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
        real_logits, real_features = self.discriminate(self._noisy(real))
        fake_logits, _ = self.discriminate(self._noisy(fake))
        d_loss = _bce(real_logits, c.real_label, summed=c.loss_sum) + _bce(fake_logits, 0.0, summed=c.loss_sum)
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
        with torch.no_grad():
            return {"d_loss": float(d_loss), "g_loss": float(g_loss),
                    "d_real": float(torch.sigmoid(real_logits).mean()),
                    "d_fake": float(torch.sigmoid(fake_logits).mean()),
                    # spread of the generated batch relative to the real one: near 0 = mode collapse
                    "fake_spread": float(_spread(fake) / max(_spread(real), 1e-8))}

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
        for batch in batches:
            real = self.normalise(batch)
            fake = self.inference_generator()(self.noise(real.shape[0], g).to(real.device))
            fake = self.as_discriminator_input(fake)
            real_logits, _ = self.discriminate(real)
            fake_logits, _ = self.discriminate(fake)
            total += float(_bce(real_logits, 1.0, summed=True) + _bce(fake_logits, 0.0, summed=True))
            correct += float((real_logits > 0).sum() + (fake_logits <= 0).sum())
            count += real.shape[0]
        self.train(was_training)
        return {"loss": total / max(count, 1), "d_accuracy": correct / max(2 * count, 1)}

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
                z = self.noise(n * count, g) * temperature
                fakes = self.inference_generator()(z).cpu().numpy()
                for i in range(n):
                    pieces[i] += [self.chunk_to_notes(f) for f in fakes[i * count:(i + 1) * count]]
                if all(enough(p) for p in pieces):
                    break
                count = 1
            return [self._join(p, length, name=f"{self.family} seed {seed}") for p in pieces]
        finally:
            self.train(was_training)

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
