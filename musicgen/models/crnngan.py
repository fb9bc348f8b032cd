"""E-crnngan, C-RNN-GAN (Mogren 2016) on continuous note features (representations/features.py).

Generator: at every step, uniform noise concatenated with its own previous output → dense → 2-layer
LSTM → dense(4): one note's (time since previous onset, duration, pitch, velocity), normalised.
Discriminator: 2-layer bidirectional LSTM → a real/fake decision per step → averaged. The generator
trains by feature matching (the batch mean of the discriminator's LSTM outputs, real vs generated),
as the paper did. Fixed against the paper's public code: the features are normalised (constants in
the config, measured on the chorales' training split) and Adam replaces SGD at lr 0.1. It trains on
windows of `steps` notes but, being recurrent, writes a longer piece as one line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from musicgen.models.adversarial import AdversarialConfig, AdversarialModel
from musicgen.representations.features import FEATURES
from musicgen.sequence import NoteSequence

N_FEATURES = len(FEATURES)


@dataclass(frozen=True, kw_only=True)
class CRNNGANConfig(AdversarialConfig):
    steps: int = 128  # notes per generated window
    latent_dim: int = 32  # noise per step
    hidden: int = 128
    d_hidden: int = 128
    # Per-feature mean and spread (quarter notes, quarter notes, MIDI pitch, velocity).
    feature_mean: tuple[float, ...] = (0.22, 0.92, 62.0, 80.0)
    feature_std: tuple[float, ...] = (0.38, 0.53, 10.0, 20.0)
    feature_matching: bool = True
    # The critic also sees, at every step, how much the batch varies there (Karras et al. 2018's
    # minibatch standard deviation). Feature matching lets a generator put every note's gap at the mean
    # (0.1-0.3 quarters) where real gaps are either 0 (same chord) or a beat; one note cannot show
    # that, a batch can.
    minibatch_std: bool = False


class _Generator(nn.Module):
    def __init__(self, c: CRNNGANConfig):
        super().__init__()
        self.inp = nn.Sequential(nn.Linear(c.latent_dim + N_FEATURES, c.hidden), nn.ReLU())
        # Two LSTM cells stepped by hand: each step needs the previous step's output as input.
        self.cells = nn.ModuleList([nn.LSTMCell(c.hidden, c.hidden), nn.LSTMCell(c.hidden, c.hidden)])
        self.out = nn.Linear(c.hidden, N_FEATURES)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """noise (batch, steps, latent) → (batch, steps, 4); each step also sees the previous output."""
        batch, steps, _ = noise.shape
        previous = noise.new_zeros(batch, N_FEATURES)
        states = [None, None]
        outputs = []
        for t in range(steps):
            h = self.inp(torch.cat([noise[:, t], previous], dim=-1))
            for i, cell in enumerate(self.cells):
                states[i] = cell(h, states[i])
                h = states[i][0]
            previous = self.out(h)
            outputs.append(previous)
        return torch.stack(outputs, dim=1)


class _Discriminator(nn.Module):
    def __init__(self, c: CRNNGANConfig):
        super().__init__()
        self.minibatch_std = c.minibatch_std
        self.lstm = nn.LSTM(N_FEATURES + int(c.minibatch_std), c.d_hidden, num_layers=2, batch_first=True,
                            bidirectional=True)
        self.out = nn.Linear(2 * c.d_hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.minibatch_std:
            spread = x.std(dim=0, unbiased=False).mean(dim=-1) if x.shape[0] > 1 else x.new_zeros(x.shape[1])
            x = torch.cat([x, spread[None, :, None].expand(x.shape[0], -1, 1)], dim=-1)
        h, _ = self.lstm(x)
        per_step = torch.sigmoid(self.out(h).squeeze(-1))  # a decision at every note
        logits = torch.logit(per_step.mean(dim=1), eps=1e-6)  # averaged, back to logits for the shared loss
        return logits, h.mean(dim=1)


class CRNNGAN(AdversarialModel):
    family = "crnngan"
    Config = CRNNGANConfig
    Generator, Discriminator = _Generator, _Discriminator
    toy_representation = "features"
    toy_config = {"steps": 16, "latent_dim": 4, "hidden": 16, "d_hidden": 16}
    toy_train = {"lr": 2e-3, "window": 16}

    def noise(self, n: int, generator: torch.Generator | None = None, *, steps: int | None = None) -> torch.Tensor:
        # Uniform in [-1, 1] as in the paper, one vector per note.
        steps = steps or self.config.steps
        return torch.rand(n, steps, self.config.latent_dim, generator=generator) * 2 - 1

    def generate_chunks(self, n: int, count: int, g: torch.Generator, temperature: float) -> list[list[NoteSequence]]:
        # The generator is recurrent, so a longer piece is one line `count` windows long, not `count`
        # unrelated windows joined: those each wandered into a key of their own (measured on the shipped
        # weights, 30 s clips: overlap 0.43 and scale-consistency overlap 0.0 joined, 0.49 and 0.4 as one line).
        noise = self.noise(n, g, steps=self.config.steps * count) * temperature
        return [[self.chunk_to_notes(f)] for f in self.inference_generator()(noise).cpu().numpy()]

    @classmethod
    def prepare_window(cls, representation, window: np.ndarray, shift: int) -> np.ndarray | None:
        out = window.copy()
        out[0, 0] = 0.0  # a window starts a piece of its own: no gap before its first note
        return out if shift == 0 else representation.transpose(out, shift)

    def _stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c = self.config
        return (torch.tensor(c.feature_mean, dtype=like.dtype, device=like.device),
                torch.tensor(c.feature_std, dtype=like.dtype, device=like.device))

    def normalise(self, real: torch.Tensor) -> torch.Tensor:
        mean, std = self._stats(real)
        return (real - mean) / std

    def chunk_to_notes(self, fake: np.ndarray) -> NoteSequence:
        c = self.config
        return self.representation.decode(fake * np.asarray(c.feature_std) + np.asarray(c.feature_mean))

    def chunk_seconds(self) -> float:
        # A window of notes has no fixed length in time; this estimate only sizes the first round.
        return self.config.steps * self.config.feature_mean[0] * 60.0 / self.representation.config.qpm

    def chunk_span(self, chunk: NoteSequence) -> float:
        return max((note.end for note in chunk.notes), default=0.0) or self.chunk_seconds()
