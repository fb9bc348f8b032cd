"""The four adversarial families (A-gan, B-gan, E-crnngan, D-dcgan) on toy data: a train step moves
both networks, sampling is deterministic per seed and decodes to valid notes, and the checkpoint holds
the generator only."""

import numpy as np
import pytest
import torch

from musicgen.midi import to_midi_bytes
from musicgen.models import build_model
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
    model, _ = toy_model(family)
    model.eval()  # as when sampling: no dropout, batch norm on its running averages
    cold = model.noise(4, torch.Generator().manual_seed(0)) * 0.0
    out = model.inference_generator()(cold)
    assert torch.allclose(out[0], out[1])  # no noise → every sample is the same window


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
