"""A comparison: several systems' clips made with one set of settings, side by side (no Streamlit here).

Every column is a clip from `systems.make_clip` with the same seed, temperature and length: a checkpoint,
or `REAL`, the opening of a held-out real piece of the first model's corpus (`real:<corpus>`; the seed
picks the piece, `ids[seed % len(ids)]`). One failing column never takes the others down: its `problem`
says why, in the words the caller's `describe_error` gives (the app's plain-words error messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from musicgen.card import Card
from musicgen.sequence import NoteSequence
from musicgen.systems import Request, load_system_model, make_clip, real_system_id

REAL = "(real piece)"  # the column key for a held-out real piece (not a valid checkpoint folder name)


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    temperature: float = 1.0
    seconds: float = 20.0

    @property
    def length(self) -> str:
        return f"{self.seconds:g}s"


@dataclass(frozen=True)
class Column:
    key: str  # checkpoint id, or REAL
    card: Card  # the model's card; for the real piece, the reference model's (its corpus and real-data level)
    sequence: NoteSequence | None = None
    problem: str | None = None  # why there is no sequence
    history: dict = field(default_factory=dict)
    command: str = ""  # the command line that makes this column's clip again (models only)

    @property
    def is_real(self) -> bool:
        return self.key == REAL

    @property
    def corpus(self) -> str:
        return self.card.corpus

    @property
    def piece(self) -> str:
        """The held-out piece a real column plays ("" for a model, or when there is no clip)."""
        return self.sequence.meta_dict().get("piece", "") if self.is_real and self.sequence is not None else ""

    @property
    def evaluation(self) -> dict:
        """A model's evaluation numbers; for the real piece, the reference card's (holding the real-data level)."""
        return self.card.evaluation


@dataclass(frozen=True)
class Comparison:
    settings: Settings
    columns: tuple[Column, ...]


def _plain(exc: Exception, action: str) -> str:
    return f"Could not {action}: {exc}"


def model_column(card: Card, settings: Settings, describe_error: Callable[[Exception, str], str] = _plain) -> Column:
    request = Request(model=card.id, seed=settings.seed, temperature=settings.temperature, length=settings.length)
    command = request.command(out=f"{card.id}-seed{settings.seed}.mid")
    try:
        seq = make_clip(request)
        history = load_system_model(card.id).history  # already loaded (and cached) by make_clip
    except Exception as exc:  # noqa: BLE001 — one failing model must not take the other columns down
        return Column(key=card.id, card=card, command=command, problem=describe_error(exc, f"generate with {card.id}"))
    return Column(key=card.id, card=card, sequence=seq, history=history, command=command)


def real_column(reference: Card, settings: Settings,
                describe_error: Callable[[Exception, str], str] = _plain) -> Column:
    """The opening of the held-out piece the seed picks, from the reference model's corpus."""
    request = Request(model=real_system_id(reference.corpus), seed=settings.seed, length=settings.length)
    try:
        seq = make_clip(request)
    except Exception as exc:  # noqa: BLE001
        return Column(key=REAL, card=reference, problem=describe_error(exc, "load a held-out piece"))
    return Column(key=REAL, card=reference, sequence=seq)


def compose(keys: list[str], cards: dict[str, Card], settings: Settings,
            describe_error: Callable[[Exception, str], str] = _plain) -> Comparison:
    """Every column with the same settings; the real piece comes from the first model's corpus."""
    models = [k for k in keys if k != REAL]
    reference = cards[models[0]] if models else next(iter(cards.values()))
    columns = [real_column(reference, settings, describe_error) if k == REAL
               else model_column(cards[k], settings, describe_error) for k in keys]
    return Comparison(settings=settings, columns=tuple(columns))
