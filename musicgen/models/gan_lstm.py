"""A-gan, study A's LSTM-GAN, over windows of piano roll (see gan_rolls.py).

Generator (the study's): noise → dense 256 → LeakyReLU(0.2) → BatchNorm(momentum 0.8 in Keras' sense)
→ dense 512 → LeakyReLU → BatchNorm → dense (steps × `seq_features`) → LeakyReLU → reshape to a
sequence → stacked LSTM (dropout 0.3) → BatchNorm → dense per step → sigmoid. The study's last dense
gave one number per token, rounded to a token id; here each step gives a sigmoid per pitch.
Discriminator: LSTM → bidirectional LSTM (its final states) → dense 512 → LeakyReLU → dense 256 →
LeakyReLU → dense 1. Label smoothing and Adam 2e-4 (β1 0.5) come from adversarial.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from musicgen.models.gan_rolls import RollGAN, RollGANConfig, output_layer


@dataclass(frozen=True, kw_only=True)
class LSTMGANConfig(RollGANConfig):
    seq_features: int = 10  # the study reshaped dense 1000 into 100 steps × 10
    g_hidden: int = 256
    g_layers: int = 3
    d_hidden: int = 256
    dropout: float = 0.3


def _dense_block(i: int, o: int) -> list[nn.Module]:
    # Keras BatchNormalization(momentum=0.8) keeps 80 % of the old average: torch's momentum 0.2.
    return [nn.Linear(i, o), nn.LeakyReLU(0.2), nn.BatchNorm1d(o, momentum=0.2)]


class _Generator(nn.Module):
    def __init__(self, c: LSTMGANConfig):
        super().__init__()
        self.steps, self.seq_features = c.steps, c.seq_features
        self.dense = nn.Sequential(*_dense_block(c.latent_dim, 256), *_dense_block(256, 512),
                                   nn.Linear(512, c.steps * c.seq_features), nn.LeakyReLU(0.2))
        self.lstm = nn.LSTM(c.seq_features, c.g_hidden, num_layers=c.g_layers, dropout=c.dropout, batch_first=True)
        self.norm = nn.BatchNorm1d(c.g_hidden, momentum=0.2)
        self.out = output_layer(nn.Linear(c.g_hidden, c.pitches), c)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        seq = self.dense(z).view(z.shape[0], self.steps, self.seq_features)
        h, _ = self.lstm(seq)
        h = self.norm(h.transpose(1, 2)).transpose(1, 2)
        return torch.sigmoid(self.out(h))


class _Discriminator(nn.Module):
    def __init__(self, c: LSTMGANConfig):
        super().__init__()
        self.lstm = nn.LSTM(c.pitches, c.d_hidden, batch_first=True)
        self.bilstm = nn.LSTM(c.d_hidden, c.d_hidden, batch_first=True, bidirectional=True)
        self.features = nn.Sequential(nn.Linear(2 * c.d_hidden, 512), nn.LeakyReLU(0.2),
                                      nn.Linear(512, 256), nn.LeakyReLU(0.2))
        self.out = nn.Linear(256, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h, _ = self.lstm(x)
        _, (final, _) = self.bilstm(h)  # final: (2 directions, batch, hidden)
        f = self.features(torch.cat([final[0], final[1]], dim=-1))
        return self.out(f).squeeze(-1), f


class LSTMGAN(RollGAN):
    family = "gan-lstm"
    Config = LSTMGANConfig
    Generator, Discriminator = _Generator, _Discriminator
    toy_config = {"steps": 16, "seq_features": 4, "g_hidden": 16, "g_layers": 2, "d_hidden": 16, "latent_dim": 8}
    toy_train = {"lr": 2e-3, "window": 16}
    min_piece_steps = 16
