"""The four adversarial families (A-gan, B-gan, E-crnngan, D-dcgan) on toy data: a train step moves
both networks, sampling is deterministic per seed and decodes to valid notes, and the checkpoint holds
the generator only."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from musicgen.midi import to_midi_bytes
from musicgen.models import build_model
from musicgen.models.adversarial import AdversarialModel
from musicgen.presets import toy_preset
from musicgen.representations import representation_from_card
from musicgen.sampling import SamplingError
from musicgen.train import make_data

FAMILIES = ["gan-lstm", "gan-dense", "crnngan", "dcgan"]


def toy_model(family: str):
    preset = toy_preset(family)
    torch.manual_seed(0)
    rep = representation_from_card(preset.representation, preset.representation_config)
    return build_model(family, preset.model_config, rep), preset


@pytest.mark.parametrize("family", FAMILIES)
def test_train_step_changes_both_networks(family):
    model, preset = toy_model(family)
    _, train_b, _, _ = make_data(preset, model.representation)
    batch = next(iter(train_b.epoch(torch.Generator().manual_seed(0))))
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    ema_before = [p.detach().clone() for p in model.generator_ema.parameters()]
    parts = model.train_step(batch, model.make_optimizers(lr=1e-3))
    assert {"d_loss", "g_loss", "d_real", "d_fake", "fake_spread"} <= set(parts)
    assert all(np.isfinite(v) for v in parts.values())
    assert any(not torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d_before, model.discriminator.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(ema_before, model.generator_ema.parameters()))


@pytest.mark.parametrize("family", FAMILIES)
def test_sampling_is_deterministic_per_seed_and_valid_midi(family):
    model, _ = toy_model(family)
    a = model.sample(2, length="8s", temperature=1.0, seed=5)
    assert a == model.sample(2, length="8s", temperature=1.0, seed=5)
    assert a != model.sample(2, length="8s", temperature=1.0, seed=6)
    for seq in a:
        assert seq.duration <= 8.0 + 1e-6
        assert all(0 <= n.pitch <= 127 and n.end > n.start for n in seq.notes)
        assert to_midi_bytes(seq)[:4] == b"MThd"
    [by_notes] = model.sample(1, length="12n", seed=1)
    assert len(by_notes) <= 12


@pytest.mark.parametrize("family", FAMILIES)
def test_temperature_scales_the_noise(family):
    """Through `sample`: the generator's input at temperature T is T × its input at 1 (same seed)."""
    model, _ = toy_model(family)
    seen = []
    hook = model.inference_generator().register_forward_pre_hook(lambda _m, args: seen.append(args[0].clone()))
    try:
        model.sample(2, length="4s", temperature=1.0, seed=3)
        model.sample(2, length="4s", temperature=0.5, seed=3)
    finally:
        hook.remove()
    first, second = seen[0], seen[len(seen) // 2]
    assert len(seen) % 2 == 0 and first.abs().sum() > 0
    assert torch.allclose(second, 0.5 * first)
    model.eval()  # and no noise at all: every sample is the same window
    out = model.inference_generator()(model.noise(4, torch.Generator().manual_seed(0)) * 0.0)
    assert torch.allclose(out[0], out[1])


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_is_the_generator_only_and_reloads(family):
    model, _ = toy_model(family)
    state = model.inference_state_dict()
    assert set(state) == set(model.generator.state_dict())
    again, _ = toy_model(family)
    with torch.no_grad():
        for p in again.generator.parameters():
            p.add_(1.0)
    again.load_inference_state_dict(state)
    assert again.sample(1, length="5s", seed=2) == model.sample(1, length="5s", seed=2)


def test_a_primer_is_refused_with_a_clear_message():
    model, _ = toy_model("gan-dense")
    primer = model.sample(1, length="3s", seed=0)[0]
    with pytest.raises(SamplingError, match="cannot continue a primer"):
        model.sample(1, length="5s", seed=0, primer=primer)


def test_eval_loss_reports_discriminator_accuracy():
    model, preset = toy_model("gan-dense")
    *_, test_b = make_data(preset, model.representation)
    parts = model.eval_loss(test_b.sequential())
    assert parts["loss"] > 0 and 0.0 <= parts["d_accuracy"] <= 1.0


@pytest.mark.parametrize("family", FAMILIES)
def test_r1_penalty_is_the_squared_input_gradient_and_shapes_the_critic_step(family):
    def first_step(r1_gamma: float):
        model, preset = toy_model(family)
        model.config = dataclasses.replace(model.config, r1_gamma=r1_gamma)
        _, train_b, _, _ = make_data(preset, model.representation)
        batch = next(iter(train_b.epoch(torch.Generator().manual_seed(0))))
        torch.manual_seed(1)
        parts = model.train_step(batch, model.make_optimizers(lr=1e-3))
        return model, batch, parts

    plain, batch, plain_parts = first_step(0.0)
    penalised, _, parts = first_step(10.0)
    assert "r1" not in plain_parts and parts["r1"] > 0
    assert any(not torch.equal(a, b) for a, b in zip(plain.discriminator.parameters(),
                                                     penalised.discriminator.parameters()))
    # The penalty is the per-piece squared norm of d(logit)/d(input), by hand:
    real = penalised.normalise(batch).detach()
    pieces = []
    for one in real:
        x = one[None].clone().requires_grad_(True)
        penalised.discriminator.eval()  # per-piece gradients need batch-independent normalisation
        logit, _ = penalised.discriminate(x)
        grad, = torch.autograd.grad(logit.sum(), x)
        pieces.append(grad.pow(2).sum())
    x = real.clone().requires_grad_(True)
    logits, _ = penalised.discriminate(x)
    expected = torch.stack(pieces).sum() if penalised.config.loss_sum else torch.stack(pieces).mean()
    assert torch.allclose(penalised._r1_penalty(logits, x), expected, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("family", ["gan-lstm", "gan-dense", "dcgan"])
def test_output_bias_starts_a_roll_generator_nearly_silent(family):
    preset = toy_preset(family)
    rep = representation_from_card(preset.representation, preset.representation_config)
    cells = {}
    for bias in (None, -3.0):
        torch.manual_seed(0)
        model = build_model(family, {**preset.model_config, "output_bias": bias}, rep)
        model.eval()
        with torch.no_grad():
            cells[bias] = model.generator(model.noise(8, torch.Generator().manual_seed(0)))
    assert float(cells[None].mean()) > 0.3  # torch's default: grey cells around 0.5
    assert float(cells[-3.0].mean()) < 0.1  # nearly silent, as real rolls mostly are
    assert float((cells[-3.0] >= 0.5).float().mean()) < 0.05


def test_keep_best_ships_the_snapshot_that_scored_best_on_validation(monkeypatch):
    model, preset = toy_model("gan-dense")
    model = build_model("gan-dense", {**preset.model_config, "keep_best": True}, model.representation)
    _, train_b, valid_b, _ = make_data(preset, model.representation)
    optimizers = model.make_optimizers(lr=1e-3)
    scores = iter([0.3, 0.6, 0.4])
    monkeypatch.setattr(type(model), "_overlap_with", lambda self, real, n=32: next(scores))
    snapshots = []
    batches = iter(train_b.epoch(torch.Generator().manual_seed(0)))
    for _ in range(3):
        model.train_step(next(batches), optimizers)
        assert "overlap" in model.eval_loss(valid_b.sequential())
        snapshots.append({k: v.clone() for k, v in model.inference_state_dict().items()})
    model.finish_training()
    shipped = model.inference_state_dict()
    assert all(torch.equal(shipped[k], snapshots[1][k]) for k in shipped)  # the 0.6 one, not the last
    assert not all(torch.equal(shipped[k], snapshots[2][k]) for k in shipped)
    assert model.training_summary()["selected_step"] == 2
    assert model.training_summary()["selected_valid_overlap"] == 0.6
    # Evaluations after training (the final valid/test scores) do not move the selection.
    monkeypatch.setattr(type(model), "_overlap_with", lambda self, real, n=32: 0.99)
    model.eval_loss(valid_b.sequential())
    assert model.training_summary()["selected_step"] == 2
    assert dataclasses.asdict(model.config)["keep_best"] is True


def test_keep_best_through_the_training_loop_records_and_reports_the_selection(tmp_path):
    from musicgen.train import train

    preset = toy_preset("gan-dense", max_steps=20, eval_every=5)
    preset = dataclasses.replace(preset, model_config={**preset.model_config, "keep_best": True})
    folder = train(preset, out_dir=tmp_path / "ck", progress=False)
    card = json.loads((folder / "card.json").read_text())
    history = json.loads((folder / "history.json").read_text())
    overlaps = {r["step"]: r["valid_overlap"] for r in history["records"] if "valid_overlap" in r}
    assert set(overlaps) >= {5, 10, 15, 20} and all(0.0 <= v <= 1.0 for v in overlaps.values())
    best = max(overlaps[s] for s in (5, 10, 15, 20))
    assert card["training"]["selected_valid_overlap"] == pytest.approx(best, abs=1e-4)
    assert overlaps[card["training"]["selected_step"]] == pytest.approx(best, abs=1e-4)



def test_crnngan_minibatch_std_lets_the_critic_see_the_batch():
    preset = toy_preset("crnngan")
    rep = representation_from_card(preset.representation, preset.representation_config)
    x = torch.randn(4, 16, 4)
    varied = x.clone()
    varied[1:] = x[1:] * 3.0  # the same first window, in a more varied batch
    for on in (False, True):
        torch.manual_seed(0)
        model = build_model("crnngan", {**preset.model_config, "minibatch_std": on}, rep)
        with torch.no_grad():
            same = torch.isclose(model.discriminate(x)[0][0], model.discriminate(varied)[0][0])
        assert bool(same) is (not on)


def test_crnngan_writes_a_long_piece_as_one_continuous_line():
    model, _ = toy_model("crnngan")
    model.eval()
    [chunks] = model.generate_chunks(1, 3, torch.Generator().manual_seed(0), 1.0)
    assert len(chunks) == 1  # one line, not three unrelated windows
    assert len(chunks[0]) > model.config.steps  # longer than a training window
    [windows] = AdversarialModel.generate_chunks(model, 1, 3, torch.Generator().manual_seed(0), 1.0)
    assert len(windows) == 3  # what the other families do
