"""Checkpoints: `checkpoints/<id>/` = card.json + model.safetensors + history.json.

The card holds everything needed to rebuild the model (family, config, representation and its
vocabulary), so loading never needs the training data. Weights load through safetensors (no pickle),
after the file's SHA-256 is checked against the card.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save_file

from musicgen.models import MODELS, MusicModel, build_model
from musicgen.representations import representation_from_card

FORMAT_VERSION = 1
CARD, WEIGHTS, HISTORY = "card.json", "model.safetensors", "history.json"
REQUIRED_CARD_FIELDS = ("format_version", "id", "system", "family", "model_config", "representation",
                        "weights_sha256")


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message names the file, the problem and the fix."""


def checkpoints_dir() -> Path:
    return Path(os.environ.get("MUSICGEN_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))


@dataclass(frozen=True)
class LoadedCheckpoint:
    card: dict
    model: MusicModel
    history: dict

    @property
    def id(self) -> str:
        return self.card["id"]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(model: MusicModel, card: dict, history: dict, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / WEIGHTS
    save_file(model.inference_state_dict(), str(weights), metadata={"format": "pt"})
    card = {**card, "format_version": FORMAT_VERSION, "family": model.family,
            "model_config": {k: v for k, v in model.config_dict().items() if k != "vocab_size"},
            "representation": {"name": model.representation.name, "config": model.representation.to_json(),
                               "vocab_size": model.representation.vocab_size},
            "weights_sha256": sha256_file(weights), "weights_bytes": weights.stat().st_size}
    (folder / CARD).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    (folder / HISTORY).write_text(json.dumps(history) + "\n")
    return folder


def read_card(folder: Path) -> dict:
    path = folder / CARD
    if not path.exists():
        raise CheckpointError(f"{path}: card.json is missing; retrain with `python -m musicgen train {folder.name}`")
    try:
        card = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}); restore it from git or retrain") from None
    missing = [k for k in REQUIRED_CARD_FIELDS if k not in card]
    if missing:
        raise CheckpointError(f"{path}: card lacks {', '.join(missing)}; restore it from git or retrain")
    if card["format_version"] != FORMAT_VERSION:
        raise CheckpointError(f"{path}: format version {card['format_version']} but this musicgen reads "
                              f"{FORMAT_VERSION}; retrain with `python -m musicgen train {folder.name}`")
    if card["family"] not in MODELS:
        raise CheckpointError(f"{path}: unknown model family {card['family']!r}; update musicgen")
    return card


def load_checkpoint(id_or_path: str | Path) -> LoadedCheckpoint:
    folder = Path(id_or_path)
    if not folder.is_dir():
        folder = checkpoints_dir() / str(id_or_path)
    if not folder.is_dir():
        known = ", ".join(list_checkpoint_ids()) or "none"
        raise CheckpointError(f"no checkpoint {id_or_path!r} (known: {known})")
    card = read_card(folder)
    weights = folder / WEIGHTS
    if not weights.exists():
        raise CheckpointError(f"{weights}: weights file is missing; restore it (git lfs/git checkout) or retrain")
    data = weights.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != card["weights_sha256"]:
        raise CheckpointError(f"{weights}: SHA-256 does not match card.json (file truncated or replaced: "
                              f"{len(data)} bytes); restore it from git or retrain")
    try:
        state = load_safetensors_bytes(data)
        rep = representation_from_card(card["representation"]["name"], card["representation"]["config"])
        model = build_model(card["family"], card["model_config"], rep)
        model.load_inference_state_dict(state)
    except (SafetensorError, RuntimeError, ValueError, KeyError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{folder}: weights do not fit the card's model ({first}); retrain") from None
    model.eval()
    history_path = folder / HISTORY
    try:
        history = json.loads(history_path.read_text()) if history_path.exists() else {"records": []}
    except json.JSONDecodeError:
        history = {"records": [], "error": f"{history_path.name} is not valid JSON"}
    return LoadedCheckpoint(card=card, model=model, history=history)


def update_card_evaluation(id_or_path: str | Path, evaluation: dict) -> Path:
    """Replace only the card's `evaluation` field, atomically (temp file + rename in the same folder).

    Every other field keeps its value, its place and its formatting (the card is rewritten the way
    `save_checkpoint` writes it), so the weights hash and the rest of the card stay valid.
    """
    folder = Path(id_or_path)
    if not folder.is_dir():
        folder = checkpoints_dir() / str(id_or_path)
    card = read_card(folder)  # raises CheckpointError with the fix if the card is missing or broken
    try:
        json.dumps(evaluation, allow_nan=False)
    except ValueError as e:
        raise ValueError(f"evaluation for {card['id']} is not plain JSON ({e}); use null for missing numbers") from None
    card["evaluation"] = evaluation  # dicts keep insertion order: an existing field stays where it was
    path = folder / CARD
    tmp = path.with_name(f".{CARD}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
    os.replace(tmp, path)
    return path


def list_checkpoint_ids() -> list[str]:
    root = checkpoints_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / CARD).exists())


def list_cards() -> list[dict]:
    """Every readable card (broken ones are reported with an `error` key instead of raising)."""
    cards = []
    for cid in list_checkpoint_ids():
        try:
            cards.append(read_card(checkpoints_dir() / cid))
        except CheckpointError as e:
            cards.append({"id": cid, "error": str(e)})
    return cards
