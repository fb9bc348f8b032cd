"""The typed card: parsed and checked once, old cards migrated in one place, written back unchanged."""

import json

import pytest

from musicgen.card import CARD_SCHEMA, CardError, migrate, parse_card
from musicgen.checkpoints import checkpoints_dir, list_checkpoint_ids, read_card


def card_doc(toy_checkpoints) -> dict:
    return json.loads((toy_checkpoints["markov"] / "card.json").read_text())


def test_round_trip_is_lossless(toy_checkpoints):
    doc = card_doc(toy_checkpoints)
    card = parse_card(doc)
    assert card.to_dict() == doc
    assert list(card.to_dict()) == list(doc)  # the writer's key order
    assert parse_card(card.to_dict()) == card


@pytest.mark.parametrize("cid", list_checkpoint_ids())
def test_every_shipped_card_reads_and_round_trips(cid):
    card = read_card(checkpoints_dir() / cid)
    assert card.format_version == CARD_SCHEMA
    assert parse_card(card.to_dict()) == card
    raw = json.loads((checkpoints_dir() / cid / "card.json").read_text())
    assert card.evaluation == (raw.get("evaluation") or {})
    assert card.corpus == raw["training"]["corpus"]


def test_version_1_card_is_migrated(toy_checkpoints):
    doc = card_doc(toy_checkpoints)
    old = {**doc, "format_version": 1, "sampling": {k: v for k, v in doc["sampling"].items() if k != "accepts_primer"}}
    assert parse_card(old, accepts_primer_default=False).sampling.accepts_primer is False
    assert parse_card(old).sampling.accepts_primer is True
    assert migrate(old)["format_version"] == CARD_SCHEMA


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(format_version=CARD_SCHEMA + 1), "newer than this musicgen"),
    (lambda d: d.update(format_version=0), "older than"),
    (lambda d: d.pop("weights_sha256"), "lacks weights_sha256"),
    (lambda d: d["training"].pop("corpus"), "training lacks"),
    (lambda d: d["representation"].pop("vocab_size"), "representation needs"),
    (lambda d: d["sampling"]["defaults"].update(temprature=2), None),  # an unknown key is kept, not an error
])
def test_bad_cards_say_what_is_wrong(toy_checkpoints, change, message):
    doc = card_doc(toy_checkpoints)
    change(doc)
    if message is None:
        assert parse_card(doc).sampling.defaults.extra == {"temprature": 2}
        return
    with pytest.raises(CardError, match=message):
        parse_card(doc, where="x/card.json")


def test_not_an_object():
    with pytest.raises(CardError, match="JSON object"):
        parse_card([1, 2])


# ---- the optional `recommended` setting (`sweep --save`) -----------------------------------------------
RECOMMENDED = {"temperature": 0.9, "top_p": None, "by": "overlap_mean", "n": 32, "table": "sweep.json",
               "measured": {"overlap_mean": 0.88, "c2st_accuracy": 0.66}, "measured_at": "2026-12-01T00:00:00Z"}


def test_a_card_without_recommended_reads_as_none_and_writes_no_key(toy_checkpoints):
    doc = card_doc(toy_checkpoints)
    assert "recommended" not in doc
    card = parse_card(doc)
    assert card.recommended is None and "recommended" not in card.to_dict()
    assert parse_card({**doc, "recommended": None}).recommended is None


def test_recommended_round_trips_after_evaluation(toy_checkpoints):
    doc = {**card_doc(toy_checkpoints), "recommended": RECOMMENDED}
    card = parse_card(doc)
    assert card.recommended.temperature == 0.9 and card.recommended.top_p is None and card.recommended.n == 32
    assert card.recommended.label == "0.9"
    out = card.to_dict()
    assert out["recommended"] == RECOMMENDED
    keys = list(out)
    assert keys.index("recommended") == keys.index("evaluation") + 1
    assert parse_card(out) == card
    assert card.sampling.defaults.temperature == 1.0  # a recommendation never changes the defaults
    with_top_p = parse_card({**doc, "recommended": {"temperature": 1, "top_p": 0.95}})
    assert with_top_p.recommended.label == "1, top-p 0.95" and with_top_p.recommended.by == "overlap_mean"


@pytest.mark.parametrize("bad, message", [
    ("warm", "number temperature"), ({"top_p": 0.9}, "number temperature"), ({"temperature": "0.9"}, "number"),
    ({"temperature": 0.9, "top_p": "x"}, "top_p"), ({"temperature": 0.9, "n": 3.5}, "whole number"),
])
def test_a_malformed_recommendation_says_what_is_wrong(toy_checkpoints, bad, message):
    with pytest.raises(CardError, match=message):
        parse_card({**card_doc(toy_checkpoints), "recommended": bad})
