"""What a preset is: family + model config + representation + data + training budget + card text."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace

from musicgen.batches import TRANSPOSE_KEYS
from musicgen.models import MODELS

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class PresetError(ValueError):
    """A customised preset cannot be made; the message says which setting and what is allowed."""


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
    transpose_keys: str = "all"  # with augment_transpose: "all" keys in range, or "corpus": the corpus's own keys
    lr_decay: bool = True  # cosine decay to 10 % over max_steps
    seed: int = 0
    device: str = "auto"
    threads: int | None = None  # torch intra-op threads; None = torch's default

    def __post_init__(self) -> None:
        if self.transpose_keys not in TRANSPOSE_KEYS:
            raise PresetError(f"transpose_keys must be 'all' (every key in range) or 'corpus' (the corpus's own "
                              f"keys), not {self.transpose_keys!r}")


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
    origin: str = "shipped"  # "user": a run on the user's own data or settings (`customise`)
    overrides: dict = field(default_factory=dict)  # the settings `customise` changed, by name
    based_on: str = ""  # the preset a user run started from


def split_setting(text: str) -> tuple[str, str] | None:
    """`key=value` → (key, value text), both stripped; None when it is not of that form."""
    key, sep, value = text.partition("=")
    return (key.strip(), value.strip()) if sep and key.strip() else None


def _parse_value(text: str):
    """`--set key=value`: JSON where it reads as JSON (3, 0.5, true, null, [1,2]), else the plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def settable_keys(preset: Preset) -> tuple[list[str], list[str]]:
    """(model settings, training settings) a `--set key=value` may change for this preset's family."""
    model = [f.name for f in fields(MODELS[preset.family].Config) if f.name != "vocab_size"]
    return model, [f.name for f in fields(TrainConfig)]


def customise(preset: Preset, *, corpus: str | None = None, settings: dict[str, str] | None = None,
              name: str | None = None) -> Preset:
    """The preset's family on another corpus and/or with other settings, under a new id (a user run).

    `settings` maps a model or training setting's name to its text value; an unknown name is a
    PresetError that lists the valid ones. Model settings win where a name is both."""
    settings = settings or {}
    model_keys, train_keys = settable_keys(preset)
    unknown = [k for k in settings if k not in model_keys and k not in train_keys]
    if unknown:
        raise PresetError(f"unknown setting {unknown[0]!r} for {preset.id} ({preset.family}); model settings: "
                          f"{', '.join(model_keys)}; training settings: {', '.join(train_keys)}")
    values = {k: _parse_value(v) for k, v in settings.items()}
    model_config = {**preset.model_config, **{k: v for k, v in values.items() if k in model_keys}}
    train = replace(preset.train, **{k: v for k, v in values.items() if k not in model_keys})
    new_id = name or default_run_id(preset, corpus)
    if not ID_PATTERN.fullmatch(new_id):
        raise PresetError(f"name {new_id!r} must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter "
                          "or digit)")
    return replace(preset, id=new_id, corpus=corpus or preset.corpus, model_config=model_config, train=train,
                   origin="user", overrides=values, based_on=preset.based_on or preset.id)


def default_run_id(preset: Preset, corpus: str | None) -> str:
    """`<preset>-<last part of the corpus name>`, e.g. B-lstm-classical for folder:/data/classical.zip."""
    if not corpus:
        return f"{preset.id}-custom"
    tail = corpus.rstrip("/").replace("\\", "/").split("/")[-1].split(":")[-1]
    tail = re.sub(r"[^A-Za-z0-9_.-]+", "-", tail.removesuffix(".zip")).strip("-.") or "corpus"
    return f"{preset.id}-{tail}"[:64]


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
