import json

import pytest

from musicgen.card import CARD_SCHEMA
from musicgen.checkpoints import BrokenCheckpoint, CheckpointError, list_cards, load_checkpoint, sha256_file


def test_round_trip_card_fields(toy_checkpoints):
    ck = load_checkpoint(toy_checkpoints["lstm"])
    assert ck.card.format_version == CARD_SCHEMA and ck.card.id == "toy-lstm" and ck.card.family == "lstm"
    assert ck.card.system and ck.card.description and ck.card.limitations and ck.card.model_config
    assert ck.card.weights_sha256 == sha256_file(toy_checkpoints["lstm"] / "model.safetensors")
    assert ck.card.representation.vocab_size == ck.model.representation.vocab_size
    assert ck.card.training.corpus == "toy" and ck.card.sampling.accepts_primer
    assert ck.history["records"] and "valid_loss" in ck.history["records"][-1]


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "model.safetensors").unlink(), "missing"),
    (lambda d: (d / "model.safetensors").write_bytes((d / "model.safetensors").read_bytes()[:100]), "SHA-256"),
    (lambda d: (d / "card.json").unlink(), "card.json is missing"),
    (lambda d: (d / "card.json").write_text("{not json"), "not valid JSON"),
])
def test_damaged_checkpoints_give_clear_errors(toy_checkpoints, copy_checkpoint, damage, message):
    folder = copy_checkpoint(toy_checkpoints["lstm"])
    damage(folder)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(folder)


def test_weights_that_do_not_fit_the_card(toy_checkpoints, copy_checkpoint):
    folder = copy_checkpoint(toy_checkpoints["lstm"])
    card = json.loads((folder / "card.json").read_text())
    card["model_config"]["hidden"] = 99  # hash still matches, shapes do not
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(folder)


def test_wrong_format_version_and_unknown_id(toy_checkpoints, copy_checkpoint):
    folder = copy_checkpoint(toy_checkpoints["markov"])
    card = json.loads((folder / "card.json").read_text())
    card["format_version"] = 999
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="format version 999 is newer"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint("no-such-model")


def test_list_cards_reports_broken_ones(tmp_path, monkeypatch, toy_checkpoints, copy_checkpoint):
    folder = copy_checkpoint(toy_checkpoints["markov"])
    (folder / "card.json").write_text("[")
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(folder.parent))
    [card] = [c for c in list_cards() if c.id == folder.name]
    assert isinstance(card, BrokenCheckpoint) and "not valid JSON" in card.error
