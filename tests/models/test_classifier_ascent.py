"""The composer classifier (D-classifier-ascent): training steps, the loop, and the style push."""

import math
from dataclasses import replace

import pytest
import torch

from musicgen.checkpoints import checkpoints_dir, load_checkpoint
from musicgen.corpora import toy_corpus
from musicgen.corpora.music21_sources import COMPOSERS
from musicgen.midi import to_midi_bytes
from musicgen.models import build_model
from musicgen.models.classifier_ascent import ClassifierAscent
from musicgen.presets import Preset, TrainConfig
from musicgen.representations.pianoroll import PianoRoll
from musicgen.sampling import SamplingError
from musicgen.sequence import Note, NoteSequence

REP = PianoRoll()
SMALL = {"steps": 16, "d_model": 32, "heads": 2, "layers": 1, "ff": 64, "dropout": 0.0, "ascent_steps": 40,
         "default_target": "mozart", "source_corpus": "toy"}
TRAIN = TrainConfig(batch_size=16, window=16, lr=3e-3)


def register_piece(name: str, low: int, n: int = 48) -> NoteSequence:
    """Low pieces ("bach") and high pieces ("mozart"): a toy style any classifier can learn."""
    step = 60.0 / 100 / 4
    pattern = [0, 4, 7, 12, 7, 4, 2, 5]
    notes = tuple(Note(start=k * 2 * step, end=(k + 1) * 2 * step, pitch=low + pattern[k % 8]) for k in range(n))
    return NoteSequence(notes=notes, qpm=100.0, name=name)


def toy_pieces() -> list[NoteSequence]:
    return ([register_piece(f"bach/low{i}", 40 + i) for i in range(4)]
            + [register_piece(f"mozart/high{i}", 76 + i) for i in range(4)])


def new_model(seed: int = 0) -> ClassifierAscent:
    torch.manual_seed(seed)  # weight init only (tests may seed; library code never does)
    return build_model("classifier-ascent", SMALL, REP)


@pytest.fixture(scope="module")
def trained():
    model = new_model()
    batches = ClassifierAscent.make_batches(REP, toy_pieces(), train=TRAIN, augment=False)
    optimizers = model.make_optimizers(lr=TRAIN.lr)
    generator = torch.Generator().manual_seed(0)
    for _ in range(8):
        for batch in batches.epoch(generator):
            model.train_step(batch, optimizers)
    model.zero_grad(set_to_none=True)  # as a loaded checkpoint: no gradients anywhere
    return model.eval(), batches


def test_a_training_step_is_finite_and_changes_the_weights():
    model = new_model()
    batches = ClassifierAscent.make_batches(REP, toy_pieces(), train=TRAIN, augment=True)
    batch = next(batches.epoch(torch.Generator().manual_seed(0)))
    assert batch.rolls.shape == (16, 16, 128) and batch.labels.tolist().count(0) == 8  # balanced
    before = {k: v.clone() for k, v in model.state_dict().items()}
    parts = model.train_step(batch, model.make_optimizers(lr=1e-2))
    assert set(parts) == {"train_loss", "train_accuracy"} and math.isfinite(parts["train_loss"])
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_trained_classifier_tells_the_toy_styles_apart(trained):
    model, batches = trained
    report = model.eval_loss(batches.sequential())
    assert report["accuracy"] == 1.0 and report["loss"] < 0.2
    k = len(COMPOSERS)
    assert len(report["confusion"]) == k and sum(map(sum, report["confusion"])) == report["snippets"]


def test_unknown_composer_prefix_is_a_clear_error():
    with pytest.raises(ValueError, match="composer prefix"):
        ClassifierAscent.make_batches(REP, toy_corpus().pieces, train=TRAIN, augment=False)


def test_ascent_raises_the_target_probability(trained):
    model, _ = trained
    low = register_piece("bach/test", 43)
    result = model.push(low, target="mozart", strength=3.0, seed=0, length="10s")
    target = result.composers.index("mozart")
    assert result.probs_before[target] < 0.2
    assert result.probs_relaxed[target] > result.probs_before[target] + 0.2
    assert result.target_after == result.probs_after[target]
    assert result.after.meta_dict()["target"] == "mozart"


def test_push_never_touches_the_shared_model(trained):
    model, _ = trained
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.sample(1, length="4s", seed=1, primer=register_piece("bach/x", 41))
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_same_seed_same_notes(trained):
    model, _ = trained
    primer = register_piece("bach/y", 42)
    a = model.sample(2, length="6s", seed=5, primer=primer, temperature=2.0)
    b = model.sample(2, length="6s", seed=5, primer=primer, temperature=2.0)
    assert [to_midi_bytes(x) for x in a] == [to_midi_bytes(x) for x in b]
    assert a[1].notes == model.sample(1, length="6s", seed=6, primer=primer, temperature=2.0)[0].notes
    assert a[0].notes != a[1].notes  # the noise differs per seed
    assert max(n.end for n in a[0].notes) <= 6.0 + 1e-9



def test_written_out_adam_matches_torch_adam_exactly():
    """The ascent's Adam (no torch.optim: its import costs seconds on a first push) is torch's, bit for bit."""
    from musicgen.models.classifier_ascent import _Adam
    g = torch.Generator().manual_seed(0)
    a = torch.rand(12, 8, generator=g)
    b = a.clone().requires_grad_(True)
    mine, theirs = _Adam(a, lr=0.05), torch.optim.Adam([b], lr=0.05)
    for _ in range(30):
        grad = torch.randn(a.shape, generator=g)
        mine.step(grad)
        b.grad = grad.clone()
        theirs.step()
    assert torch.equal(a, b.detach())


def test_push_reports_progress_once_per_step(trained):
    model, _ = trained
    seen = []
    model.push(register_piece("bach/p", 42), target="mozart", seed=0, length="4s",
               on_step=lambda done, total: seen.append((done, total)))
    n = model.config.ascent_steps
    assert seen == [(i, n) for i in range(1, n + 1)]

def test_bad_settings_are_refused(trained):
    model, _ = trained
    piece = register_piece("bach/z", 40)
    with pytest.raises(ValueError, match="unknown target"):
        model.push(piece, target="liszt")
    with pytest.raises(SamplingError):
        model.push(piece, strength=-1)
    with pytest.raises(ValueError, match="no notes"):
        model.sample(1, primer=NoteSequence())


def test_trains_through_the_one_loop_and_samples_without_a_primer(tmp_path, serve_corpus):
    from musicgen import train as train_module

    pieces = toy_pieces()
    fake = replace(toy_corpus(), pieces=tuple(pieces),
                   split={"train": [p.name for p in pieces[:3] + pieces[4:7]], "valid": [pieces[3].name],
                          "test": [pieces[7].name]})
    serve_corpus("toy", fake)
    preset = Preset(id="toy-clf", system="toy", family="classifier-ascent", title="toy", description="toy",
                    limitations="toy", corpus="toy", representation="pianoroll", model_config=SMALL,
                    train=TrainConfig(batch_size=8, window=16, lr=3e-3, max_steps=6, eval_every=3, log_every=3))
    folder = train_module.train(preset, out_dir=tmp_path / "toy-clf", progress=False)
    loaded = load_checkpoint(folder)
    assert loaded.model.config.composers == COMPOSERS
    [seq] = loaded.model.sample(1, length="5s", seed=0)  # a validation piece of the source corpus ("toy")
    assert len(seq) > 0 and seq.meta_dict()["source"] == pieces[3].name


@pytest.mark.skipif(not (checkpoints_dir() / "D-classifier-ascent").is_dir(), reason="no shipped checkpoint")
def test_shipped_checkpoint_card_reports_the_classifier():
    loaded = load_checkpoint("D-classifier-ascent")
    card = loaded.card
    assert card.system == "D-classifier-ascent" and card.family == "classifier-ascent"
    assert card.sampling.defaults.extra["target"] in card.model_config["composers"]
    assert card.limitations and card.sampling.temperature_meaning
