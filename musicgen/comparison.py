"""A comparison: several systems' clips made with one set of settings, side by side (no Streamlit here).

Every column is a clip from `systems.make_clip` with the same seed, temperature and length: a checkpoint,
a sample set (`samples:<name>`, files from an outside model: the seed picks the file, temperature does not
apply), or `REAL`, the opening of a held-out real piece of the first model's corpus (`real:<corpus>`; the
seed picks the piece, `ids[seed % len(ids)]`). One failing column never takes the others down: its `problem`
says why, in the words the caller's `describe_error` gives (the app's plain-words error messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from musicgen.card import Card
from musicgen.sequence import NoteSequence
from musicgen.systems import Request, System, load_system_model, make_clip, real_system, real_system_id

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
    key: str  # system id (checkpoint or samples:<name>), or REAL
    system: System  # what made the clip; for the real piece, `real:<corpus of the reference>`
    reference: System | None = None  # the real piece only: the column whose corpus and real-data level it shows
    sequence: NoteSequence | None = None
    problem: str | None = None  # why there is no sequence
    history: dict = field(default_factory=dict)
    command: str = ""  # the command line that makes this column's clip again (models and sample sets)

    @property
    def is_real(self) -> bool:
        return self.key == REAL

    @property
    def is_samples(self) -> bool:
        return self.system.is_samples

    @property
    def card(self) -> Card | None:
        """A checkpoint's card (None for a sample set or the real piece)."""
        return self.system.card

    @property
    def corpus(self) -> str:
        return self.system.corpus

    @property
    def piece(self) -> str:
        """The held-out piece a real column plays ("" for a model, or when there is no clip)."""
        return self.sequence.meta_dict().get("piece", "") if self.is_real and self.sequence is not None else ""

    @property
    def evaluation(self) -> dict:
        """A model's or sample set's evaluation numbers; for the real piece, the reference's (holding the
        real-data level)."""
        return (self.reference if self.is_real and self.reference is not None else self.system).evaluation


@dataclass(frozen=True)
class Comparison:
    settings: Settings
    columns: tuple[Column, ...]


def _plain(exc: Exception, action: str) -> str:
    return f"Could not {action}: {exc}"


def model_column(system: System, settings: Settings,
                 describe_error: Callable[[Exception, str], str] = _plain) -> Column:
    """A checkpoint's clip (with its loss history) or a sample set's file (the seed picks it)."""
    sid = system.id
    request = Request(model=sid, seed=settings.seed, temperature=settings.temperature, length=settings.length)
    command = request.command(out=f"{sid.replace(':', '-')}-seed{settings.seed}.mid")
    try:
        seq = make_clip(request)
        history = {} if system.card is None else load_system_model(sid).history  # cached by make_clip
    except Exception as exc:  # noqa: BLE001 — one failing model must not take the other columns down
        return Column(key=sid, system=system, command=command, problem=describe_error(exc, f"generate with {sid}"))
    return Column(key=sid, system=system, sequence=seq, history=history, command=command)


def real_column(reference: System, settings: Settings,
                describe_error: Callable[[Exception, str], str] = _plain) -> Column:
    """The opening of the held-out piece the seed picks, from the reference system's corpus."""
    system = real_system(reference.corpus)
    request = Request(model=real_system_id(reference.corpus), seed=settings.seed, length=settings.length)
    try:
        seq = make_clip(request)
    except Exception as exc:  # noqa: BLE001
        return Column(key=REAL, system=system, reference=reference,
                      problem=describe_error(exc, "load a held-out piece"))
    return Column(key=REAL, system=system, reference=reference, sequence=seq)


def compose(keys: list[str], systems: dict[str, System], settings: Settings,
            describe_error: Callable[[Exception, str], str] = _plain) -> Comparison:
    """Every column with the same settings; the real piece comes from the first model's corpus."""
    models = [k for k in keys if k != REAL]
    reference = systems[models[0]] if models else next(iter(systems.values()))
    columns = [real_column(reference, settings, describe_error) if k == REAL
               else model_column(systems[k], settings, describe_error) for k in keys]
    return Comparison(settings=settings, columns=tuple(columns))
