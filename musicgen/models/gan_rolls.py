"""What A-gan, B-gan and D-dcgan share: the generator paints a window of piano roll (time steps × a
band of pitches, each cell a sigmoid in [0, 1]) and the discriminator judges such windows.

Why a roll and not one number per step: a GAN's output is continuous. Study A's generator emitted one
float per token and rounded it to a token id (neighbouring ids are unrelated chords); an earlier
version here emitted four pitches per step and rounded them, and every small error became a wrong,
out-of-key semitone (measured: pitch-class entropy overlap 0.05, scale consistency 0, with the
discriminator winning). On a roll each pitch is its own cell, so the generator can learn the key by
keeping out-of-key rows dark; a cell at or above the representation's threshold (0.5) sounds.

Binary neurons (Dong & Yang 2018, BinaryMuseGAN): real rolls are exactly 0/1 and sigmoid output never
is, so a discriminator wins on that alone (measured: D-dcgan's critic at d_fake 0.002 after 600 steps,
the generator collapsed). With `binary_output` the discriminator sees the generator's cells thresholded
at 0.5, as they will sound, and the gradient passes through the threshold as if it were not there
(straight-through estimator).

The band (`pitch_low` .. `pitch_low + pitches - 1`, MIDI 28-91 by default) covers the chorales
transposed ±6 semitones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from musicgen.models.adversarial import AdversarialConfig, AdversarialModel
from musicgen.representations.pianoroll import N_PITCHES
from musicgen.sequence import NoteSequence


@dataclass(frozen=True, kw_only=True)
class RollGANConfig(AdversarialConfig):
    steps: int = 64  # time steps per window (the representation's steps: eighths or sixteenths)
    pitches: int = 64  # pitch rows per window
    pitch_low: int = 28
    # Initial bias of the generator's last layer (None: torch's default, small random values). Near 0
    # the first windows are grey cells around 0.5 that the threshold turns into noise; sigmoid(-3) ≈
    # 0.05 starts them nearly silent (real windows have ~6 % of cells on). Measured on D-dcgan (1000
    # steps): overlap 0.39 with the default, 0.48 at -3.
    output_bias: float | None = None


def output_layer(layer: nn.Module, config: RollGANConfig) -> nn.Module:
    """The generator's last layer (before the sigmoid), its bias set to `config.output_bias`."""
    if config.output_bias is not None:
        nn.init.constant_(layer.bias, config.output_bias)
    return layer


class RollGAN(AdversarialModel):
    toy_representation = "pianoroll"
    # Windows shorter than this are padded with silence (only the toy corpus has such pieces).
    min_piece_steps: ClassVar[int] = 64

    @classmethod
    def piece_array(cls, representation, piece: NoteSequence) -> np.ndarray:
        roll = representation.encode(piece)
        short = cls.min_piece_steps - len(roll)
        return np.pad(roll, ((0, short), (0, 0))) if short > 0 else roll

    @classmethod
    def prepare_window(cls, representation, window: np.ndarray, shift: int) -> np.ndarray | None:
        return window if shift == 0 else shift_pitch(window, shift)

    def normalise(self, real: torch.Tensor) -> torch.Tensor:
        """(batch, steps, 128) full-range rolls → (batch, steps, pitches) windows of the band."""
        c = self.config
        return real[:, :, c.pitch_low:c.pitch_low + c.pitches].float()

    def as_discriminator_input(self, fake: torch.Tensor) -> torch.Tensor:
        if not self.config.binary_output:
            return fake
        hard = (fake >= self.representation.config.threshold).to(fake.dtype)
        return hard + fake - fake.detach()  # forward: 0/1 cells; backward: the sigmoid's gradient

    def window_to_roll(self, fake: np.ndarray) -> np.ndarray:
        """One generator output → (steps, pitches); an image generator overrides it (channel axis)."""
        return fake

    def chunk_to_notes(self, fake: np.ndarray) -> NoteSequence:
        c = self.config
        window = self.window_to_roll(fake)
        roll = np.zeros((window.shape[0], N_PITCHES), dtype=np.float32)
        roll[:, c.pitch_low:c.pitch_low + c.pitches] = window
        return self.representation.decode(roll)

    def chunk_seconds(self) -> float:
        return self.config.steps * self.representation.step_seconds(self.representation.config.qpm)


def shift_pitch(roll: np.ndarray, semitones: int) -> np.ndarray | None:
    """A (steps, 128) roll moved up or down; None if a sounding note would leave 0-127."""
    out = np.zeros_like(roll)
    if semitones > 0:
        if roll[:, -semitones:].any():
            return None
        out[:, semitones:] = roll[:, :-semitones]
    else:
        if roll[:, :-semitones].any():
            return None
        out[:, :semitones] = roll[:, -semitones:]
    return out
