"""LSTM-VAE over 16th-note piano rolls (study D's D-lstm-vae, that study's best system).

Encoder: a stacked LSTM reads a window of frames (one frame = which keys sound in that 16th); its
outputs, averaged over the window, give the mean and log-variance of a small latent z. Decoder: a
stacked LSTM whose input at every step is the previous frame concatenated with z, and whose initial
state is also made from z; a sigmoid per key says how likely that key sounds. Sampling draws every
key by a Bernoulli coin (which stops the loops greedy decoding falls into). Loss, KL annealing,
chaining, continuation and interpolation are shared with the Transformer-VAE in `vae_common`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from musicgen.models.vae_common import RollVAE, bernoulli


@dataclass(frozen=True, kw_only=True)
class LSTMVAEConfig:
    vocab_size: int = 128  # pitch rows of the piano roll (the representation's)
    steps: int = 64  # window length in 16th notes (must equal the preset's train.window)
    pitch_low: int = 28  # lowest key modelled (MIDI); notes outside low .. low + keys - 1 are dropped
    keys: int = 72
    latent: int = 20
    hidden: int = 256
    encoder_layers: int = 3
    decoder_layers: int = 3
    dropout: float = 0.1
    kl_max: float = 1.0  # β reached after kl_warmup steps
    kl_warmup: int = 1000
    free_bits: float = 0.0  # nats per window below which KL is not pushed down
    latent_norm: float = 0.0  # > 0: batch-normalise the latent means to this scale (BN-VAE, against collapse)
    # A linear path from the previous frame straight to the logits: "hold or repeat this key" is learned at
    # once instead of after a long plateau at the average frame (measured: recon stuck at 12.3 nats/frame).
    skip: bool = True
    # Training only: each previous-frame input is blanked with this probability, so the decoder must
    # lean on z (without it the first run collapsed: every piece got the same latent mean).
    frame_dropout: float = 0.0
    carry: float = 0.5  # how much of the previous window's latent the next one keeps when chaining


class LSTMVAE(RollVAE):
    family = "lstm-vae"
    Config = LSTMVAEConfig
    toy_config = {"steps": 16, "pitch_low": 48, "keys": 40, "latent": 4, "hidden": 24, "encoder_layers": 1,
                  "decoder_layers": 2, "dropout": 0.0, "kl_warmup": 10, "latent_norm": 1.0, "frame_dropout": 0.3}
    toy_train = {"window": 16}

    def __init__(self, *, config: LSTMVAEConfig, representation):
        super().__init__(config=config, representation=representation)
        c = config
        self.encoder = nn.LSTM(c.keys, c.hidden, num_layers=c.encoder_layers, batch_first=True,
                               dropout=c.dropout if c.encoder_layers > 1 else 0.0)
        self.to_latent = nn.Linear(c.hidden, 2 * c.latent)
        self.initial_state = nn.Linear(c.latent, 2 * c.decoder_layers * c.hidden)
        self.decoder = nn.LSTM(c.keys + c.latent, c.hidden, num_layers=c.decoder_layers, batch_first=True,
                               dropout=c.dropout if c.decoder_layers > 1 else 0.0)
        self.head = nn.Linear(c.hidden, c.keys)
        self.skip = nn.Linear(c.keys, c.keys, bias=False) if c.skip else None

    def encode_rolls(self, x):
        # The mean of the top layer's outputs over the window, not its last state: measured, a 3-layer
        # LSTM's last state barely depends on the input at initialisation (std 0.001 across pieces) and
        # the encoder never learned; averaging gives every step a direct gradient path.
        out, _ = self.encoder(x)
        mu, logvar = self.to_latent(out.mean(dim=1)).chunk(2, dim=-1)
        return self.normalise_mean(mu), logvar.clamp(-10.0, 10.0)

    def _state(self, z):
        c = self.config
        h, cell = torch.tanh(self.initial_state(z)).view(-1, 2, c.decoder_layers, c.hidden).permute(1, 2, 0, 3)
        return h.contiguous(), cell.contiguous()

    def recon_logits(self, x, z):
        previous = torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1)
        if self.training and self.config.frame_dropout > 0:
            keep = torch.rand(previous.shape[:2], device=x.device) >= self.config.frame_dropout
            previous = previous * keep[..., None]
        inputs = torch.cat([previous, z[:, None].expand(-1, x.shape[1], -1)], dim=-1)
        out, _ = self.decoder(inputs, self._state(z))
        return self._logits(out, previous)

    def _logits(self, out, previous):
        return self.head(out) + (self.skip(previous) if self.skip is not None else 0.0)

    def draw_window(self, z, first, *, temperature, generator):
        # generator None: deterministic "mean-field" decoding: each frame's probabilities (not coin flips)
        # are fed back, and the output keeps the keys above 0.5 (plain thresholding of fed-back 0/1 frames
        # falls silent: no key of a first frame reaches 0.5). Interpolation uses it to show the latent path.
        state, frame, frames = self._state(z), first, []
        for _ in range(self.config.steps):
            out, state = self.decoder(torch.cat([frame, z], dim=-1)[:, None], state)
            logits = self._logits(out[:, 0], frame)
            frame = bernoulli(logits, temperature, generator) if generator is not None else \
                torch.sigmoid(logits.float() / temperature)
            frames.append(frame)
        frames = torch.stack(frames, dim=1)
        return frames if generator is not None else (frames > 0.5).float()
