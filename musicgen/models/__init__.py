"""The explicit registry of model families: family name (stored in every card) → class."""

from musicgen.models.base import MusicModel
from musicgen.models.classifier_ascent import ClassifierAscent
from musicgen.models.lstm import NextNoteLSTM
from musicgen.models.markov import MarkovChain

MODELS: dict[str, type[MusicModel]] = {
    NextNoteLSTM.family: NextNoteLSTM,
    MarkovChain.family: MarkovChain,
    ClassifierAscent.family: ClassifierAscent,
}


def build_model(family: str, config: dict, representation) -> MusicModel:
    """Rebuild a model from a card's family name and config dict (vocab size comes from the representation)."""
    if family not in MODELS:
        raise KeyError(f"unknown model family {family!r}; known: {sorted(MODELS)}")
    cls = MODELS[family]
    config = {**config, "vocab_size": representation.vocab_size}
    return cls(config=cls.Config(**config), representation=representation)


__all__ = ["MODELS", "MusicModel", "build_model"]
