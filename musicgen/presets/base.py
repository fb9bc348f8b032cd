"""What a preset is: family + model config + representation + data + training budget + card text."""

from __future__ import annotations

from dataclasses import dataclass, field

from musicgen.models import MODELS


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    batch_size: int = 32
    window: int = 128  # tokens per training sequence (loss on every position)
    lr: float = 2e-3
    weight_decay: float = 0.0
    max_steps: int | None = None
    max_epochs: int | None = None
    max_seconds: float | None = None
    eval_every: int = 200  # steps between validation losses
    log_every: int = 25
    grad_clip: float | None = 1.0
    augment_transpose: bool = True
    lr_decay: bool = True  # cosine decay to 10 % over max_steps
    seed: int = 0
    device: str = "auto"
    threads: int | None = None  # torch intra-op threads; None = torch's default


@dataclass(frozen=True, kw_only=True)
class Preset:
    id: str
    system: str  # the id in shared/seed-models.md
    family: str
    title: str  # plain words for the model cards in the app
    description: str
    limitations: str
    corpus: str = "bach-chorales"
    representation: str = "notes"
    representation_config: dict = field(default_factory=dict)
    model_config: dict = field(default_factory=dict)
    train: TrainConfig = TrainConfig()
    sampling_defaults: dict = field(default_factory=lambda: {"temperature": 1.0, "top_k": None, "top_p": None,
                                                             "length": "30s"})


PRESETS: dict[str, Preset] = {}


def register(p: Preset) -> Preset:
    if p.id in PRESETS:
        raise ValueError(f"preset {p.id!r} is defined twice")
    PRESETS[p.id] = p
    return p


def toy_preset(family: str = "lstm", **train_overrides) -> Preset:
    """A seconds-long preset on the toy corpus, for tests (each family names its small config)."""
    cls = MODELS[family]
    train = {"batch_size": 8, "window": 32, "lr": 1e-2, "max_steps": 30, "eval_every": 10, "log_every": 5,
             "augment_transpose": False, **cls.toy_train, **train_overrides}
    return Preset(id=f"toy-{family}", system="toy", family=family, title="toy", description="toy",
                  limitations="toy", corpus="toy", representation=cls.toy_representation,
                  model_config=dict(cls.toy_config), train=TrainConfig(**train))
