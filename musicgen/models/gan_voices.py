"""What A-gan and B-gan share: a window of the voice grid (steps × 4 pitches) as the generator's
output, normalised to about [-1, 1] so a tanh can reach every chorale pitch (transposed ±6 too)."""

from __future__ import annotations

import numpy as np
import torch

from musicgen.models.adversarial import AdversarialModel
from musicgen.representations.voices import VOICES
from musicgen.sequence import NoteSequence

PITCH_CENTER, PITCH_SCALE = 62.0, 32.0  # tanh's -1..1 ↔ MIDI 30..94


class VoiceGridGAN(AdversarialModel):
    toy_representation = "voices"

    def normalise(self, real: torch.Tensor) -> torch.Tensor:
        return (real - PITCH_CENTER) / PITCH_SCALE

    def chunk_to_notes(self, fake: np.ndarray) -> NoteSequence:
        return self.representation.decode(fake * PITCH_SCALE + PITCH_CENTER)

    def chunk_seconds(self) -> float:
        return self.config.steps * self.representation.step_seconds()

    @property
    def out_features(self) -> int:
        return self.config.steps * VOICES
