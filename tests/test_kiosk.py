"""Kiosk mode (issue 17): the picker (pure) and the kiosk screen of app.py driven headless with AppTest."""

import dataclasses
import random
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen import kiosk, systems
from musicgen.card import Card
from musicgen.checkpoints import list_cards
from musicgen.ui import kiosk as ui_kiosk

TIMEOUT = 120
APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="module")
def shipped() -> list[Card]:
    return [c for c in list_cards() if isinstance(c, Card)]


def test_picker_plays_the_best_evaluated_note_models(shipped):
    chosen = kiosk.candidates(shipped)
    assert [c.id for c in chosen] == ["transformer-large", "transformer", "B-lstm"]  # by overlap_mean, note models only
    assert all(c.representation.name == "notes" and kiosk.score(c) is not None for c in chosen)
    rng = random.Random(0)
    picks = [kiosk.pick(shipped, turn, rng) for turn in range(6)]
    assert [p.model for p in picks] == ["transformer-large", "transformer", "B-lstm"] * 2  # they take turns
    assert picks[0].title == "Music Transformer (large)"
    for p in picks:
        p.request.validate()
        assert 0.9 <= p.request.temperature <= 1.0
        assert 20 <= float(p.request.length.removesuffix("s")) <= 30
    assert len({p.request.seed for p in picks}) == len(picks)  # a fresh seed every press


def test_picker_falls_back_without_evaluations(shipped):
    bare = [dataclasses.replace(c, evaluation={}) for c in shipped]
    chosen = kiosk.candidates(bare)
    assert chosen and all(c.representation.name == "notes" for c in chosen)
    assert {c.id for c in chosen} == {c.id for c in shipped if c.representation.name == "notes"}
    assert kiosk.pick(bare, 0, random.Random(1)).score is None
    others = [c for c in bare if c.representation.name != "notes"]
    assert sorted(c.id for c in kiosk.candidates(others)) == sorted(c.id for c in others)
    with pytest.raises(ValueError):
        kiosk.pick([], 0, random.Random(1))


def _kiosk_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["kiosk"] = "1"
    return at.run()


def _button(at: AppTest):
    [button] = [b for b in at.button if b.label == ui_kiosk.BUTTON]
    return button


def _texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_kiosk_screen_plays_a_piece():
    at = _kiosk_app()
    assert not at.exception
    assert "Where to go next" not in "\n".join(h.value for h in at.header)  # not the home page
    _button(at).click().run()
    assert not at.exception
    assert "Music Transformer (large)" in _texts(at)  # the best model goes first
    assert at.get("plotly_chart")  # the piano roll
    assert ui_kiosk.CALM not in _texts(at)
    _button(at).click().run()
    assert "Small Music Transformer" in _texts(at)  # the next press: the next model


def test_kiosk_recovers_from_errors(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(systems, "make_clip", broken)
    at = _kiosk_app()
    _button(at).click().run()
    assert not at.exception
    assert ui_kiosk.CALM in _texts(at)
    assert not at.get("plotly_chart")
    assert "boom" not in _texts(at) and "RuntimeError" not in _texts(at)
