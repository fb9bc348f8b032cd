"""Encodings of a NoteSequence: each module is an encode/decode pair plus its config/vocabulary.

`REPRESENTATIONS` maps a name (stored in every card) to the class that rebuilds it from JSON.
"""

from musicgen.representations.notes import NoteTokens, NoteTokensConfig
from musicgen.representations.features import NoteFeatures, NoteFeaturesConfig
from musicgen.representations.pianoroll import PianoRoll, PianoRollConfig
from musicgen.representations.abc import AbcText

REPRESENTATIONS = {"notes": NoteTokens, "pianoroll": PianoRoll, "features": NoteFeatures,
                   "abc": AbcText}


def representation_from_card(name: str, config: dict):
    """Rebuild a representation from the JSON a checkpoint card stores (never from training data)."""
    if name not in REPRESENTATIONS:
        raise KeyError(f"unknown representation {name!r}; known: {sorted(REPRESENTATIONS)}")
    return REPRESENTATIONS[name].from_json(config)


__all__ = ["AbcText", "NoteFeatures", "NoteFeaturesConfig", "NoteTokens", "NoteTokensConfig", "PianoRoll", "PianoRollConfig",
           "REPRESENTATIONS",
           "representation_from_card"]
