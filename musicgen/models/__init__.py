"""The explicit registry of model families: family name (stored in every card) → class."""

from musicgen.models.base import MusicModel
from musicgen.models.char_lstm import CharLSTM
from musicgen.models.classifier_ascent import ClassifierAscent
from musicgen.models.crnngan import CRNNGAN
from musicgen.models.dcgan import DCGAN
from musicgen.models.gan_dense import DenseGAN
from musicgen.models.gan_lstm import LSTMGAN
from musicgen.models.lstm import NextNoteLSTM
from musicgen.models.lstm_vae import LSTMVAE
from musicgen.models.markov import MarkovChain
from musicgen.models.tvae import TransformerVAE
from musicgen.models.transformer import RelativeTransformer

MODELS: dict[str, type[MusicModel]] = {
    NextNoteLSTM.family: NextNoteLSTM,
    MarkovChain.family: MarkovChain,
    ClassifierAscent.family: ClassifierAscent,
    LSTMGAN.family: LSTMGAN,
    DenseGAN.family: DenseGAN,
    CRNNGAN.family: CRNNGAN,
    DCGAN.family: DCGAN,
    LSTMVAE.family: LSTMVAE,
    TransformerVAE.family: TransformerVAE,
    RelativeTransformer.family: RelativeTransformer,
    CharLSTM.family: CharLSTM,
}


def build_model(family: str, config: dict, representation) -> MusicModel:
    """Rebuild a model from a card's family name and config dict (vocab size comes from the representation)."""
    if family not in MODELS:
        raise KeyError(f"unknown model family {family!r}; known: {sorted(MODELS)}")
    cls = MODELS[family]
    config = {**config, "vocab_size": representation.vocab_size}
    return cls(config=cls.Config(**config), representation=representation)


__all__ = ["MODELS", "MusicModel", "build_model"]
