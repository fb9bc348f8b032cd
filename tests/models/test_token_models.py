"""Contract tests every token family must pass (LSTM, Markov)."""
import pytest
import torch

from musicgen.batches import TokenBatches
from musicgen.checkpoints import load_checkpoint
from musicgen.corpora import toy_corpus
from musicgen.midi import to_midi_bytes
from musicgen.models import MODELS, build_model
from musicgen.presets import toy_preset
from musicgen.representations.notes import NoteTokens
from musicgen.sampling import SamplingError

REP = NoteTokens()
FAMILIES = ["lstm", "markov"]


def toy_batches():
    return TokenBatches.from_pieces(REP, toy_corpus().subset("train"), window=32, batch_size=8, augment=False)


def test_registry_is_explicit():
    assert set(FAMILIES) <= set(MODELS)
    for fam, cls in MODELS.items():
        assert cls.family == fam and cls.temperature_meaning


def test_lstm_training_steps_lower_the_loss():
    torch.manual_seed(0)
    model = build_model("lstm", toy_preset("lstm").model_config, REP)
    opts = model.make_optimizers(lr=1e-2)
    batches = toy_batches()
    before = model.eval_loss(batches.sequential())["loss"]
    g = torch.Generator().manual_seed(0)
    for _ in range(4):
        for batch in batches.epoch(g):
            out = model.train_step(batch, opts)
    after = model.eval_loss(batches.sequential())["loss"]
    assert set(out) == {"train_loss"}
    assert after < before - 1.0, (before, after)


def test_markov_counts_give_lower_loss_than_uniform():
    import math
    model = build_model("markov", {"order": 2}, REP)
    batches = toy_batches()
    uniform = math.log(REP.vocab_size)
    for batch in batches.epoch(torch.Generator().manual_seed(0)):
        model.train_step(batch, {})
    model.finish_training()
    assert model.eval_loss(batches.sequential())["loss"] < uniform / 3


@pytest.mark.parametrize("family", FAMILIES)
def test_same_seed_same_notes_and_lengths(toy_checkpoints, family):
    model = load_checkpoint(toy_checkpoints[family]).model
    a = model.sample(2, length="6s", seed=5, temperature=1.0)
    b = model.sample(2, length="6s", seed=5, temperature=1.0)
    assert [to_midi_bytes(x) for x in a] == [to_midi_bytes(x) for x in b]
    assert a[0].notes != model.sample(1, length="6s", seed=6)[0].notes
    for seq in a:
        assert 0 < len(seq) and seq.duration <= 6 + 4.0  # last note may ring on
        assert max(n.start for n in seq.notes) < 6.0
    by_notes = model.sample(1, length="25n", seed=1, top_k=5, top_p=0.9)[0]
    assert len(by_notes) == 25


@pytest.mark.parametrize("family", FAMILIES)
def test_primer_is_continued(toy_checkpoints, family):
    model = load_checkpoint(toy_checkpoints[family]).model
    primer = toy_corpus().pieces[0].first_notes(8)
    [seq] = model.sample(1, length="4s", seed=0, primer=primer)
    assert int(seq.meta_dict()["primer_notes"]) == 8
    assert [n.pitch for n in seq.notes[:8]] == [n.pitch for n in primer.notes]
    assert seq.duration > primer.duration


@pytest.mark.parametrize("family", FAMILIES)
def test_bad_sampling_params_raise(toy_checkpoints, family):
    model = load_checkpoint(toy_checkpoints[family]).model
    with pytest.raises(SamplingError):
        model.sample(1, length="5s", temperature=0)
    with pytest.raises(SamplingError):
        model.sample(1, length="-1s")
