"""D-dcgan, study D's DCGAN on piano-roll images (time × pitch).

Generator: noise → 6 transposed convolutions (batch norm + ReLU between) → a sigmoid image, one cell
per time step of the piano roll (eighth notes in the preset) and pitch. Discriminator: 6 convolutions
with batch norm and LeakyReLU → one real/fake logit. Study D's training choices are options of the
config (BCE summed over the batch, L2 on the discriminator's weights); the preset says which it keeps
and why. The study's 128 × 128 images are `steps` × `pitches` here (smaller for a CPU; the card says
so): `pitches` rows from `pitch_low` up cover the chorales transposed ±6. A cell at or above 0.5
sounds; runs of sounding cells are notes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from musicgen.models.gan_rolls import RollGAN, RollGANConfig, output_layer


@dataclass(frozen=True, kw_only=True)
class DCGANConfig(RollGANConfig):
    latent_dim: int = 128
    width: int = 32  # channels of the widest generator layer ÷ 8
    loss_sum: bool = True
    d_weight_decay: float = 1e-4
    d_spectral_norm: bool = False  # spectral norm instead of batch norm in the critic


def _stride_two_count(size: int) -> int:
    count = 0
    while size > 4:
        if size % 2:
            raise ValueError(f"image side {size} must be 4 × a power of 2")
        size //= 2
        count += 1
    return count


class _Generator(nn.Module):
    def __init__(self, c: DCGANConfig):
        super().__init__()
        if c.steps != c.pitches:
            raise ValueError("the DCGAN makes square images: steps must equal pitches")
        ups = _stride_two_count(c.steps)  # 4 → steps; plus the 1 → 4 projection and a final 3×3
        if ups != 4:
            raise ValueError("six transposed convolutions need 64 × 64 images (4 upsamplings)")
        ch = [c.width * 8, c.width * 4, c.width * 2, c.width, c.width // 2]
        layers: list[nn.Module] = [nn.ConvTranspose2d(c.latent_dim, ch[0], 4, 1, 0, bias=False),
                                   nn.BatchNorm2d(ch[0]), nn.ReLU()]
        for i in range(4):
            layers += [nn.ConvTranspose2d(ch[i], ch[i + 1], 4, 2, 1, bias=False), nn.BatchNorm2d(ch[i + 1]), nn.ReLU()]
        layers += [output_layer(nn.ConvTranspose2d(ch[4], 1, 3, 1, 1), c), nn.Sigmoid()]
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z[:, :, None, None])


class _Discriminator(nn.Module):
    def __init__(self, c: DCGANConfig):
        super().__init__()
        ch = [c.width // 2, c.width, c.width * 2, c.width * 4, c.width * 8]
        # Spectral normalisation (Miyato et al. 2018) instead of batch norm caps how sharply the critic
        # can react to its input, so it cannot overpower the generator in a few hundred steps.
        norm = nn.utils.parametrizations.spectral_norm if c.d_spectral_norm else (lambda m: m)
        layers: list[nn.Module] = [norm(nn.Conv2d(1, ch[0], 3, 1, 1)), nn.LeakyReLU(0.2)]
        for i in range(4):
            layers += [norm(nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1, bias=c.d_spectral_norm))]
            layers += [nn.LeakyReLU(0.2)] if c.d_spectral_norm else [nn.BatchNorm2d(ch[i + 1]), nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*layers)
        self.out = norm(nn.Conv2d(ch[4], 1, 4, 1, 0))  # the sixth convolution: 4 × 4 → one logit

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.body(x)
        return self.out(f).flatten(), f.flatten(1)


class DCGAN(RollGAN):
    family = "dcgan"
    Config = DCGANConfig
    Generator, Discriminator = _Generator, _Discriminator
    toy_config = {"width": 4, "latent_dim": 8}
    toy_train = {"lr": 2e-3, "window": 64}

    def normalise(self, real: torch.Tensor) -> torch.Tensor:
        return super().normalise(real)[:, None]  # (batch, 1 channel, steps, pitches) images

    def window_to_roll(self, fake: np.ndarray) -> np.ndarray:
        return fake[0]
