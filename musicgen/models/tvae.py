"""Transformer-VAE over 16th-note piano rolls (study D's D-tvae, shipped as that study's negative result).

As the study built it: the encoder is a stack of Transformer layers with learned absolute position
embeddings that reads a whole fixed-length window at once; its first output gives the latent mean and
its last output the log-variance. The decoder is a second stack that writes the whole window at once:
its input at each position is that position's learned embedding plus a projection of z (no previous
frames, no causal mask), so every key of every step is an independent Bernoulli given z. The study
decoded deterministically and got loops of the commonest notes; we decode with Bernoulli draws (the
shared `vae_common` code), which is what the issue asks for, and report what it gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from musicgen.models.vae_common import RollVAE, bernoulli


@dataclass(frozen=True, kw_only=True)
class TVAEConfig:
    vocab_size: int = 128  # pitch rows of the piano roll (the representation's)
    steps: int = 64  # window length in 16th notes (must equal the preset's train.window)
    pitch_low: int = 28  # lowest key modelled (MIDI)
    keys: int = 72
    latent: int = 20
    d_model: int = 96
    heads: int = 4
    encoder_layers: int = 6
    decoder_layers: int = 6
    ff: int = 192
    dropout: float = 0.1
    kl_max: float = 1.0
    kl_warmup: int = 1000
    free_bits: float = 0.0
    latent_norm: float = 0.0  # > 0: batch-normalised latent means (BN-VAE)
    carry: float = 0.5


def _stack(c: TVAEConfig, layers: int) -> nn.TransformerEncoder:
    layer = nn.TransformerEncoderLayer(c.d_model, c.heads, c.ff, c.dropout, batch_first=True, norm_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


class TransformerVAE(RollVAE):
    family = "tvae"
    Config = TVAEConfig
    toy_config = {"steps": 16, "pitch_low": 48, "keys": 40, "latent": 4, "d_model": 16, "heads": 2,
                  "encoder_layers": 1, "decoder_layers": 1, "ff": 32, "dropout": 0.0, "kl_warmup": 10,
                  "latent_norm": 1.0}
    toy_train = {"window": 16}

    def __init__(self, *, config: TVAEConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.embed = nn.Linear(c.keys, c.d_model)
        self.encoder_position = nn.Parameter(torch.randn(c.steps, c.d_model) * 0.02)
        self.encoder = _stack(c, c.encoder_layers)
        self.encoder_norm = nn.LayerNorm(c.d_model)
        self.to_mean = nn.Linear(c.d_model, c.latent)
        self.to_logvar = nn.Linear(c.d_model, c.latent)
        self.from_latent = nn.Linear(c.latent, c.d_model)
        self.decoder_position = nn.Parameter(torch.randn(c.steps, c.d_model) * 0.02)
        self.decoder = _stack(c, c.decoder_layers)
        self.decoder_norm = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.keys)

    def encode_rolls(self, x):
        h = self.encoder_norm(self.encoder(self.embed(x) + self.encoder_position[:x.shape[1]]))
        return self.normalise_mean(self.to_mean(h[:, 0])), self.to_logvar(h[:, -1]).clamp(-10.0, 10.0)

    def _decode(self, z):
        h = self.from_latent(z)[:, None] + self.decoder_position
        return self.head(self.decoder_norm(self.decoder(h)))

    def recon_logits(self, x, z):
        return self._decode(z)[:, :x.shape[1]]

    def draw_window(self, z, first, *, temperature, generator):
        # The whole window at once: `first` (the previous frame) cannot condition this decoder.
        return bernoulli(self._decode(z), temperature, generator)
