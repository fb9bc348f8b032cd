"""Kiosk mode's choices (no Streamlit here): which model plays next, and with which settings.

A kiosk (a museum screen, a classroom) has one button, "Play me something new". Each press should give a
good piece, so the kiosk plays only the *note models* (next-note token models: `representation.name ==
"notes"`) with the best evaluation, ranked by their card's `overlap_mean` (how much their samples' features
overlap real held-out pieces', from `python -m musicgen evaluate`), the best `TOP` of them in turn. When no
note model is evaluated it falls back to every note model (by id), and with no note model at all to every
card. Each press draws a fresh seed, a temperature near 1 and a length of 20–30 s from the caller's `random.Random`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Iterable

from musicgen.card import Card
from musicgen.systems import Request

NOTE_REPRESENTATION = "notes"
TOP = 3  # how many of the best note models take turns
TEMPERATURE_RANGE = (0.9, 1.0)
SECONDS_RANGE = (20, 30)
SEED_LIMIT = 2**31  # seeds below this (every seed the CLI accepts is below 2^63)


@dataclass(frozen=True)
class Choice:
    """One kiosk piece: which model, its title in plain words and the request that makes the notes."""
    model: str
    title: str
    request: Request
    score: float | None = None  # the card's overlap_mean (None: not evaluated, a fallback choice)


def score(card: Card) -> float | None:
    """The card's `evaluation.overlap_mean`, or None when not evaluated (or not a number)."""
    value = (card.evaluation or {}).get("overlap_mean")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def is_note_model(card: Card) -> bool:
    return card.representation.name == NOTE_REPRESENTATION


def candidates(cards: Iterable[Card], top: int = TOP) -> list[Card]:
    """The models the kiosk plays, best first: the `top` evaluated note models by overlap_mean; with none
    evaluated, every note model (by id); with no note model, every card (by id)."""
    cards = list(cards)
    notes = [c for c in cards if is_note_model(c)]
    evaluated = sorted((c for c in notes if score(c) is not None), key=lambda c: (-score(c), c.id))
    if evaluated:
        return evaluated[:max(1, top)]
    return sorted(notes or cards, key=lambda c: c.id)


def settings(card: Card, rng: random.Random, *, seed: int | None = None) -> Request:
    """A fresh request for `card`: a new seed, temperature in TEMPERATURE_RANGE, SECONDS_RANGE seconds,
    the card's own top-k/top-p."""
    d = card.sampling.defaults
    low, high = TEMPERATURE_RANGE
    return Request(model=card.id, seed=rng.randrange(SEED_LIMIT) if seed is None else seed,
                   temperature=round(rng.uniform(low, high), 2), length=f"{rng.randint(*SECONDS_RANGE)}s",
                   top_k=d.top_k, top_p=d.top_p)


def pick(cards: Iterable[Card], turn: int, rng: random.Random, *, top: int = TOP) -> Choice:
    """The piece for press number `turn` (0, 1, …): the candidates take turns, best first, each press with
    fresh settings; a failed piece moves on with `turn + 1`. Raises ValueError when there is no card."""
    chosen = candidates(cards, top)
    if not chosen:
        raise ValueError("no model is installed")
    card = chosen[turn % len(chosen)]
    return Choice(model=card.id, title=card.display_title, request=settings(card, rng), score=score(card))
