"""The character-level ABC LSTM (family char-lstm, system C-abc)."""
import pytest
import torch

from musicgen.checkpoints import load_checkpoint
from musicgen.corpora import toy_corpus
from musicgen.models import build_model
from musicgen.models.char_lstm import CharLSTM, tune_stream, tune_to_sequence
from musicgen.presets import PRESETS, toy_preset
from musicgen.representations.abc import BOS, EOS, AbcText, sequence_to_abc
from musicgen.sampling import Length, SamplingError

REP = AbcText()
TUNE = "M:6/8\nL:1/8\nK:D\nFAA dAA|B2c d2e|fed ^cBA|d3 d2 z|"


@pytest.fixture(scope="module")
def toy_abc(tmp_path_factory):
    from musicgen.train import train

    return train(toy_preset("char-lstm"), out_dir=tmp_path_factory.mktemp("abc") / "toy-char-lstm", progress=False)


def test_train_step_changes_weights_and_lowers_the_loss():
    torch.manual_seed(0)
    model = build_model("char-lstm", CharLSTM.toy_config, REP)
    pieces = toy_corpus().subset("train")
    batches = CharLSTM.make_batches(REP, pieces, train=toy_preset("char-lstm").train, augment=False)
    opts = model.make_optimizers(lr=1e-2)
    before_w = model.head.weight.detach().clone()
    before = model.eval_loss(batches.sequential())["loss"]
    g = torch.Generator().manual_seed(0)
    for _ in range(3):
        for batch in batches.epoch(g):
            out = model.train_step(batch, opts)
    assert set(out) == {"train_loss"}
    assert not torch.equal(before_w, model.head.weight)
    assert model.eval_loss(batches.sequential())["loss"] < before - 1.0


def test_stream_is_tunes_between_start_and_end_marks():
    seq = toy_corpus().pieces[0]
    stream = tune_stream(REP, [seq, seq])
    text = sequence_to_abc(seq)
    assert stream[0] == BOS and stream[len(text) + 1] == EOS and len(stream) == 2 * (len(text) + 2)
    assert REP.decode_text(stream[1:]) == text


def test_same_seed_same_tune_and_checkpoint_round_trip(toy_abc):
    model = load_checkpoint(toy_abc).model
    card = load_checkpoint(toy_abc).card
    assert card.family == "char-lstm" and card.representation.config["chars"] == REP.config.chars
    a = model.sample(3, length="10s", seed=4)
    b = model.sample(3, length="10s", seed=4)
    assert [s.meta for s in a] == [s.meta for s in b] and [s.notes for s in a] == [s.notes for s in b]
    assert [s.meta_dict()["abc"] for s in a] != [s.meta_dict()["abc"] for s in model.sample(3, length="10s", seed=5)]
    for seq in a:  # every sample is either notes with their text or a reported failure, never an exception
        meta = seq.meta_dict()
        assert "abc" in meta and (len(seq) > 0) != ("abc_error" in meta)
        assert all(n.start < 10.0 for n in seq.notes)
    with pytest.raises(SamplingError):
        model.sample(1, temperature=0.0)


def test_unparseable_tune_is_reported_not_raised(toy_abc, monkeypatch):
    model = load_checkpoint(toy_abc).model
    monkeypatch.setattr(model, "sample_texts", lambda n, **kw: ["((((", TUNE][:n])
    bad, good = model.sample(2, length="30s", seed=0)
    assert len(bad) == 0 and "abc_error" in bad.meta_dict() and bad.meta_dict()["abc"] == "(((("
    assert len(good) == 18 and good.meta_dict()["abc"] == TUNE
    kept, extras = model.evaluation_extras([bad, good])
    assert kept == [good] and extras["abc_parse_rate"] == 0.5


def test_length_cuts_a_tune():
    assert len(tune_to_sequence(TUNE, length=Length(4, "notes"), qpm=120.0)) == 4
    seq = tune_to_sequence(TUNE, length=Length(1.0, "seconds"), qpm=120.0)
    assert len(seq) == 4 and max(n.start for n in seq.notes) < 1.0


def test_primer_becomes_the_start_of_the_text(toy_abc):
    model = load_checkpoint(toy_abc).model
    primer = toy_corpus().pieces[0].first_notes(6)
    texts = model.sample_texts(2, seed=1, prefix_text=sequence_to_abc(primer))
    assert all(t.startswith(sequence_to_abc(primer)) for t in texts)
    [seq] = model.sample(1, length="60s", seed=1, primer=primer)
    assert seq.meta_dict()["abc"].startswith(sequence_to_abc(primer))
    if len(seq):
        assert seq.meta_dict()["primer_notes"] == "6"


def test_preset_is_registered_with_card_text():
    p = PRESETS["C-abc"]
    assert p.family == "char-lstm" and p.corpus == "irish-abc" and p.representation == "abc"
    assert p.train.threads == 1 and p.description and p.limitations
