"""The checkpoint card (`card.json`) as a typed, frozen value: its schema, parsing, validation and migration.

Parsed once, here and in `checkpoints.py`; the rest of the code reads attributes (`card.training.corpus`),
never dict chains. Cards are data, not code: parsing never imports a model and never runs anything.

Schema versions (`format_version`):
- 1: what sessions up to 2026-11 wrote; `sampling.accepts_primer` only on families that refuse a primer.
- 2: every field explicit (`accepts_primer` always written). `migrate` turns a version-1 card into this.
`to_dict` writes the JSON in the key order `card.json` has always had.

`recommended` (optional, absent on cards that were never swept) is the setting `python -m musicgen sweep --save`
measured as best (`sweep.py`); Generate offers it. Its absence changes nothing: no version bump was needed.

`evaluation` stays a plain document (written by `evaluation.py`, documented in `docs/evaluation.md`):
its nested per-feature numbers are shown, not reasoned about; the headline numbers have properties.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

CARD_SCHEMA = 2
OLDEST_READABLE = 1


class CardError(ValueError):
    """A card cannot be read; the message says which field is wrong and what to do."""


@dataclass(frozen=True)
class SamplingDefaults:
    """The settings a user gets before touching anything (and that `evaluate` samples with)."""
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    length: str = "30s"
    extra: dict = field(default_factory=dict)  # family-specific (D-classifier-ascent: target, strength)


@dataclass(frozen=True)
class Recommended:
    """The sampling setting a sweep measured as best (`sweep.py`), and how: by which number, over how many samples.

    JSON: `{"temperature": 0.9, "top_p": null, "by": "overlap_mean", "n": 32, "table": "sweep.json", ...}`;
    the numbers at that setting (`overlap_mean`, `c2st_accuracy`, ...) ride along in `measured`."""
    temperature: float
    top_p: float | None = None
    by: str = "overlap_mean"
    n: int = 0
    table: str = "sweep.json"  # beside card.json
    measured: dict = field(default_factory=dict)
    measured_at: str = ""

    def to_dict(self) -> dict:
        return {"temperature": self.temperature, "top_p": self.top_p, "by": self.by, "n": self.n, "table": self.table,
                "measured": self.measured, "measured_at": self.measured_at}

    @property
    def label(self) -> str:
        """'0.9' or '0.9, top-p 0.95': the setting in a few characters."""
        return f"{self.temperature:g}" + (f", top-p {self.top_p:g}" if self.top_p is not None else "")


@dataclass(frozen=True)
class Sampling:
    defaults: SamplingDefaults
    temperature_meaning: str
    accepts_primer: bool


@dataclass(frozen=True)
class RepresentationSpec:
    """Enough to rebuild the representation (and its vocabulary) without the training data."""
    name: str
    config: dict
    vocab_size: int


@dataclass(frozen=True)
class TrainingSummary:
    preset: str
    corpus: str
    split_sha: str = ""
    split_sizes: dict = field(default_factory=dict)
    steps: int = 0
    epochs: int = 0
    seconds: float = 0.0
    device: str = "cpu"
    threads: int | None = None
    train_config: dict = field(default_factory=dict)
    final_valid_loss: float | None = None
    test_nll_per_token: float | None = None  # likelihood models only
    test_loss: float | None = None  # the others (a GAN's critic, a classifier)
    test_metrics: dict = field(default_factory=dict)
    code_version: str = ""
    torch: str = ""
    # A run on the user's own data: the corpus as trained on (name, files, pieces, notes, files_sha256)
    # and the `--set` overrides of the preset. Empty for the shipped checkpoints.
    corpus_info: dict = field(default_factory=dict)
    overrides: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)  # family-specific (`MusicModel.training_summary`, data sizes)

    @property
    def seed(self) -> int:
        return int(self.train_config.get("seed", 0))


@dataclass(frozen=True)
class Card:
    id: str
    system: str  # the id in shared/seed-models.md
    family: str
    title: str
    description: str
    limitations: str
    model_config: dict
    representation: RepresentationSpec
    sampling: Sampling
    training: TrainingSummary
    weights_sha256: str
    weights_bytes: int | None = None
    evaluation: dict = field(default_factory=dict)  # {} until `python -m musicgen evaluate` runs
    format_version: int = CARD_SCHEMA
    origin: str = "shipped"  # "shipped" (checkpoints/, in git) | "user" (trained by `train --corpus/--set/--name`)
    recommended: Recommended | None = None  # None until `python -m musicgen sweep --save` runs

    @property
    def corpus(self) -> str:
        """The corpus the model learned from (its held-out pieces are the real music it is compared with)."""
        return self.training.corpus

    @property
    def display_title(self) -> str:
        return self.title or self.id

    @property
    def user_trained(self) -> bool:
        return self.origin == "user"

    @property
    def evaluated(self) -> bool:
        return bool(self.evaluation)

    def to_dict(self) -> dict:
        """The JSON document, keys in the order `card.json` has always had."""
        s, t = self.sampling, self.training
        defaults = {"temperature": s.defaults.temperature, "top_k": s.defaults.top_k, "top_p": s.defaults.top_p,
                    "length": s.defaults.length, **s.defaults.extra}
        training = {f.name: getattr(t, f.name) for f in fields(TrainingSummary) if f.name != "extra"}
        if training["test_nll_per_token"] is None:
            del training["test_nll_per_token"]
        if training["test_loss"] is None:
            del training["test_loss"]
        for optional in ("corpus_info", "overrides"):  # shipped cards have neither
            if not training[optional]:
                del training[optional]
        training.update(t.extra)
        return {"id": self.id, "system": self.system, "title": self.title, "description": self.description,
                "limitations": self.limitations,
                "sampling": {"defaults": defaults, "temperature_meaning": s.temperature_meaning,
                             "accepts_primer": s.accepts_primer},
                "training": training, "evaluation": self.evaluation,
                **({"recommended": self.recommended.to_dict()} if self.recommended is not None else {}),
                "format_version": self.format_version,
                "family": self.family, "model_config": self.model_config,
                "representation": {"name": self.representation.name, "config": self.representation.config,
                                   "vocab_size": self.representation.vocab_size},
                "weights_sha256": self.weights_sha256, "weights_bytes": self.weights_bytes, "origin": self.origin}


# ---- parsing -------------------------------------------------------------------------------------
REQUIRED = ("format_version", "id", "system", "family", "model_config", "representation", "weights_sha256")


def migrate(doc: dict, *, accepts_primer_default: bool = True) -> dict:
    """An older card's JSON → the current schema's JSON (the one place old cards are understood).

    Version 1 left `sampling.accepts_primer` out where the family took a primer; the caller passes the
    family's own answer as the default."""
    version = doc.get("format_version")
    if version == 1:
        sampling = dict(doc.get("sampling") or {})
        sampling.setdefault("accepts_primer", accepts_primer_default)
        sampling.setdefault("defaults", {})
        sampling.setdefault("temperature_meaning", "")
        doc = {**doc, "sampling": sampling, "format_version": 2}
    return doc


def _typed(cls, doc: dict, where: str, known_extra: bool):
    names = {f.name for f in fields(cls)} - {"extra"}
    kwargs = {k: v for k, v in doc.items() if k in names}
    if known_extra:
        kwargs["extra"] = {k: v for k, v in doc.items() if k not in names}
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise CardError(f"{where}: {e}") from None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_recommended(doc: Any, *, where: str = "card.json") -> Recommended | None:
    """The optional `recommended` field: None when absent or null; CardError when it is there but malformed."""
    if doc is None:
        return None
    if not isinstance(doc, dict) or not _number(doc.get("temperature")):
        raise CardError(f"{where}: recommended needs a number temperature (it is what `sweep --save` writes); "
                        "delete the field or rerun the sweep")
    top_p = doc.get("top_p")
    if top_p is not None and not _number(top_p):
        raise CardError(f"{where}: recommended.top_p must be a number or null, not {top_p!r}")
    n = doc.get("n", 0)
    if not isinstance(n, int) or isinstance(n, bool):
        raise CardError(f"{where}: recommended.n must be a whole number, not {n!r}")
    return Recommended(temperature=float(doc["temperature"]), top_p=None if top_p is None else float(top_p),
                       by=str(doc.get("by") or "overlap_mean"), n=n, table=str(doc.get("table") or "sweep.json"),
                       measured=dict(doc.get("measured") or {}), measured_at=str(doc.get("measured_at") or ""))


def parse_card(doc: Any, *, where: str = "card.json", accepts_primer_default: bool = True) -> Card:
    """Validate and type a card's JSON (any readable version); raises CardError saying what is wrong."""
    if not isinstance(doc, dict):
        raise CardError(f"{where}: a card is a JSON object, not {type(doc).__name__}")
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise CardError(f"{where}: card lacks {', '.join(missing)}")
    version = doc["format_version"]
    if not isinstance(version, int) or version < OLDEST_READABLE:
        raise CardError(f"{where}: format version {version!r} is older than this musicgen reads ({OLDEST_READABLE})")
    if version > CARD_SCHEMA:
        raise CardError(f"{where}: format version {version} is newer than this musicgen reads ({CARD_SCHEMA}); "
                        "update musicgen")
    doc = migrate(doc, accepts_primer_default=accepts_primer_default)
    sampling_doc = doc["sampling"]
    rep = doc["representation"]
    if not isinstance(rep, dict) or not {"name", "config", "vocab_size"} <= set(rep):
        raise CardError(f"{where}: representation needs name, config and vocab_size")
    training_doc = doc.get("training") or {}
    if "corpus" not in training_doc or "preset" not in training_doc:
        raise CardError(f"{where}: training lacks preset or corpus")
    sampling = Sampling(defaults=_typed(SamplingDefaults, sampling_doc["defaults"], f"{where} sampling.defaults", True),
                        temperature_meaning=str(sampling_doc["temperature_meaning"]),
                        accepts_primer=bool(sampling_doc["accepts_primer"]))
    return Card(id=str(doc["id"]), system=str(doc["system"]), family=str(doc["family"]),
                title=str(doc.get("title") or ""), description=str(doc.get("description") or ""),
                limitations=str(doc.get("limitations") or ""), model_config=dict(doc["model_config"]),
                representation=RepresentationSpec(name=rep["name"], config=rep["config"], vocab_size=rep["vocab_size"]),
                sampling=sampling, training=_typed(TrainingSummary, training_doc, f"{where} training", True),
                weights_sha256=str(doc["weights_sha256"]), weights_bytes=doc.get("weights_bytes"),
                evaluation=dict(doc.get("evaluation") or {}), format_version=doc["format_version"],
                origin=str(doc.get("origin") or "shipped"),
                recommended=parse_recommended(doc.get("recommended"), where=where))
