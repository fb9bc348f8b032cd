"""B-gan, study B's GAN: a fully connected generator (no recurrence) from seeded noise straight to a
window of piano roll (see gan_rolls.py), and an LSTM + dense discriminator. The study found it "passable": a
repeated bass note with harmonic notes on top."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from musicgen.models.gan_rolls import RollGAN, RollGANConfig, output_layer


@dataclass(frozen=True, kw_only=True)
class DenseGANConfig(RollGANConfig):
    g_layers: tuple[int, ...] = (256, 512, 1024)
    d_hidden: int = 128
    d_dense: int = 64


class _Generator(nn.Module):
    def __init__(self, c: DenseGANConfig):
        super().__init__()
        layers, width = [], c.latent_dim
        for size in c.g_layers:
            layers += [nn.Linear(width, size), nn.LeakyReLU(0.2), nn.BatchNorm1d(size, momentum=0.2)]
            width = size
        self.body = nn.Sequential(*layers, output_layer(nn.Linear(width, c.steps * c.pitches), c), nn.Sigmoid())
        self.steps, self.pitches = c.steps, c.pitches

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).view(z.shape[0], self.steps, self.pitches)


class _Discriminator(nn.Module):
    def __init__(self, c: DenseGANConfig):
        super().__init__()
        self.lstm = nn.LSTM(c.pitches, c.d_hidden, batch_first=True)
        self.features = nn.Sequential(nn.Linear(c.d_hidden, c.d_dense), nn.LeakyReLU(0.2))
        self.out = nn.Linear(c.d_dense, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, (final, _) = self.lstm(x)
        f = self.features(final[-1])
        return self.out(f).squeeze(-1), f


class DenseGAN(RollGAN):
    family = "gan-dense"
    Config = DenseGANConfig
    Generator, Discriminator = _Generator, _Discriminator
    toy_config = {"steps": 16, "g_layers": [16, 32], "d_hidden": 16, "d_dense": 8, "latent_dim": 8}
    toy_train = {"lr": 2e-3, "window": 16}
    min_piece_steps = 16
