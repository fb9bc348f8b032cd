"""Named presets: family + model config + representation + data + training budget + card text.

A shipped checkpoint is exactly `train(PRESETS[id])`; `python -m musicgen train ID` retrains it.
The types live in `base.py`; each group module below registers its presets when imported, so the
import order here is the menu order (explicit on purpose: no discovery).
"""

from musicgen.presets.base import PRESETS, Preset, TrainConfig, register, toy_preset

from musicgen.presets import note_models  # noqa: E402,F401,I001 (menu order, not alphabetical)
from musicgen.presets import latent  # noqa: E402,F401
from musicgen.presets import transformer  # noqa: E402,F401
from musicgen.presets import adversarial  # noqa: E402,F401
from musicgen.presets import abc  # noqa: E402,F401

__all__ = ["PRESETS", "Preset", "TrainConfig", "register", "toy_preset"]
