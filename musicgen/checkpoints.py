"""Checkpoints: `checkpoints/<id>/` = card.json + model.safetensors + history.json.

The card holds everything needed to rebuild the model (family, config, representation and its
vocabulary), so loading never needs the training data. Weights load through safetensors (no pickle),
after the file's SHA-256 is checked against the card.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save_file

from musicgen.card import CARD_SCHEMA, Card, CardError, RepresentationSpec, parse_card
from musicgen.models import MODELS, MusicModel, build_model
from musicgen.paths import data_dir, sha256_file
from musicgen.representations import representation_from_card

FORMAT_VERSION = CARD_SCHEMA
CARD, WEIGHTS, HISTORY = "card.json", "model.safetensors", "history.json"


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used; the message names the file, the problem and the fix."""


def checkpoints_dir() -> Path:
    """The shipped checkpoints (in git), or $MUSICGEN_CHECKPOINTS."""
    return Path(os.environ.get("MUSICGEN_CHECKPOINTS", Path(__file__).resolve().parent.parent / "checkpoints"))


def user_checkpoints_dir() -> Path:
    """Checkpoints a user trained on their own data: under the data folder, never in git."""
    return data_dir() / "checkpoints"


def checkpoint_folder(checkpoint_id: str) -> Path:
    """Where a checkpoint id lives: the shipped folder first, then the user's (a path that may not exist)."""
    for root in (checkpoints_dir(), user_checkpoints_dir()):
        if (root / checkpoint_id / CARD).exists():
            return root / checkpoint_id
    return checkpoints_dir() / checkpoint_id


def _folder(id_or_path: str | Path) -> Path:
    folder = Path(id_or_path)
    return folder if folder.is_dir() else checkpoint_folder(str(id_or_path))


@dataclass(frozen=True)
class LoadedCheckpoint:
    card: Card
    model: MusicModel
    history: dict

    @property
    def id(self) -> str:
        return self.card.id


@dataclass(frozen=True)
class BrokenCheckpoint:
    """A checkpoint folder whose card cannot be read: listed with the reason, never loaded."""
    id: str
    error: str


def write_card(card: Card, folder: Path) -> Path:
    """Atomically (temp file + rename in the same folder): a reader never sees half a card."""
    path = folder / CARD
    tmp = path.with_name(f".{CARD}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(card.to_dict(), indent=2, sort_keys=False, allow_nan=False) + "\n")
    os.replace(tmp, path)
    return path


def save_checkpoint(model: MusicModel, card: Card, history: dict, folder: Path, *,
                    extra_files: dict[str, str] | None = None) -> Path:
    """Weights, the card (with the weights' hash and the model's own config), the history and any
    `extra_files` (name → text), written into a temporary folder that then replaces `folder` in one
    rename: a crash or a cancelled run never leaves half a checkpoint, and a reader never sees one."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.parent / f".{folder.name}.writing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    _write_files(model, card, history, staging, extra_files or {})
    old = folder.parent / f".{folder.name}.old-{os.getpid()}"
    if folder.exists():
        os.replace(folder, old)
    os.replace(staging, folder)
    shutil.rmtree(old, ignore_errors=True)
    return folder


def _write_files(model: MusicModel, card: Card, history: dict, folder: Path, extra_files: dict[str, str]) -> None:
    weights = folder / WEIGHTS
    save_file(model.inference_state_dict(), str(weights), metadata={"format": "pt"})
    card = dataclasses.replace(
        card, format_version=FORMAT_VERSION, family=model.family,
        model_config={k: v for k, v in model.config_dict().items() if k != "vocab_size"},
        representation=RepresentationSpec(name=model.representation.name, config=model.representation.to_json(),
                                          vocab_size=model.representation.vocab_size),
        weights_sha256=sha256_file(weights), weights_bytes=weights.stat().st_size)
    write_card(card, folder)
    (folder / HISTORY).write_text(json.dumps(history) + "\n")
    for name, text in extra_files.items():
        (folder / name).write_text(text)


def read_card(folder: Path) -> Card:
    """The folder's card, parsed, migrated and checked (raises CheckpointError with the fix)."""
    path = folder / CARD
    if not path.exists():
        raise CheckpointError(f"{path}: card.json is missing; retrain with `python -m musicgen train {folder.name}`")
    try:
        doc = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}); restore it from git or retrain") from None
    family = MODELS.get(doc.get("family")) if isinstance(doc, dict) else None
    if isinstance(doc, dict) and "family" in doc and family is None:
        raise CheckpointError(f"{path}: unknown model family {doc['family']!r}; update musicgen")
    try:
        return parse_card(doc, where=str(path), accepts_primer_default=getattr(family, "accepts_primer", True))
    except CardError as e:
        raise CheckpointError(f"{e}; restore it from git or retrain with `python -m musicgen train {folder.name}`") \
            from None


def load_checkpoint(id_or_path: str | Path) -> LoadedCheckpoint:
    folder = _folder(id_or_path)
    if not folder.is_dir():
        known = ", ".join(list_checkpoint_ids()) or "none"
        raise CheckpointError(f"no checkpoint {id_or_path!r} (known: {known})")
    card = read_card(folder)
    weights = folder / WEIGHTS
    if not weights.exists():
        raise CheckpointError(f"{weights}: weights file is missing; restore it (git lfs/git checkout) or retrain")
    data = weights.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != card.weights_sha256:
        raise CheckpointError(f"{weights}: SHA-256 does not match card.json (file truncated or replaced: "
                              f"{len(data)} bytes); restore it from git or retrain")
    try:
        state = load_safetensors_bytes(data)
        rep = representation_from_card(card.representation.name, card.representation.config)
        model = build_model(card.family, card.model_config, rep)
        model.load_inference_state_dict(state)
    except (SafetensorError, RuntimeError, ValueError, KeyError, TypeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{folder}: weights do not fit the card's model ({first}); retrain") from None
    model.eval()
    return LoadedCheckpoint(card=card, model=model, history=read_history(folder))


def update_card_evaluation(id_or_path: str | Path, evaluation: dict) -> Path:
    """Replace only the card's `evaluation` field, atomically (temp file + rename in the same folder).

    Every other field keeps its value (the card is rewritten the way `save_checkpoint` writes it, in the
    current schema), so the weights hash and the rest of the card stay valid.
    """
    folder = _folder(id_or_path)
    card = read_card(folder)  # raises CheckpointError with the fix if the card is missing or broken
    try:
        json.dumps(evaluation, allow_nan=False)
    except ValueError as e:
        raise ValueError(f"evaluation for {card.id} is not plain JSON ({e}); use null for missing numbers") from None
    return write_card(dataclasses.replace(card, evaluation=evaluation), folder)


def list_checkpoint_ids() -> list[str]:
    """Shipped and user-trained checkpoint ids, sorted (a user id never shadows a shipped one: `train` refuses it)."""
    ids = set()
    for root in (checkpoints_dir(), user_checkpoints_dir()):
        if root.is_dir():
            ids.update(p.name for p in root.iterdir() if (p / CARD).exists())
    return sorted(ids)


def list_cards() -> list[Card | BrokenCheckpoint]:
    """Every checkpoint's card; one that cannot be read is a BrokenCheckpoint with the reason, not an exception."""
    cards: list[Card | BrokenCheckpoint] = []
    for cid in list_checkpoint_ids():
        try:
            cards.append(read_card(checkpoint_folder(cid)))
        except CheckpointError as e:
            cards.append(BrokenCheckpoint(id=cid, error=str(e)))
    return cards


def read_history(folder_or_id: str | Path) -> dict:
    """A checkpoint's loss curves (history.json); a missing or broken file gives no records and says why."""
    path = _folder(folder_or_id) / HISTORY
    if not path.exists():
        return {"records": [], "error": f"{path.name} is missing"}
    try:
        history = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"records": [], "error": f"{path.name} cannot be read ({type(exc).__name__})"}
    return history if isinstance(history, dict) else {"records": [], "error": f"{path.name} is not an object"}
