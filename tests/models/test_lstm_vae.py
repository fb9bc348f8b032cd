"""The lstm-vae family: train step, KL schedule, determinism, continuation, interpolation (shared checks),
and its own output: beat phase and the within-frame (MADE) key-by-key distribution."""

import pytest
import torch

from musicgen.models import build_model
from musicgen.models.lstm_vae import FrameAR
from musicgen.representations import PianoRoll
from tests.models import vae_checks

FAMILY = "lstm-vae"


@pytest.mark.parametrize("check", vae_checks.SHARED_CHECKS, ids=vae_checks.check_id)
def test_shared_vae_behaviour(check):
    check(FAMILY)


def test_trained_latents_differ_between_pieces(tmp_path):
    vae_checks.check_trained_latents_differ_between_pieces(FAMILY, tmp_path)


def test_toy_model_uses_phase_and_within_frame_output():
    model, _ = vae_checks.toy_model(FAMILY)
    assert model.config.phase == 4 and model.config.frame_ar > 0 and model.within is not None
    assert model.decoder.input_size == model.config.keys + model.config.latent + 4


def _randomised_frame_ar(keys=12, units=20, hidden=8):
    torch.manual_seed(0)
    ar = FrameAR(keys, units, hidden)
    with torch.no_grad():  # out and direct start at zero; give every path weight
        for p in (ar.out, ar.direct):
            p.normal_()
    return ar


def test_within_frame_output_only_sees_lower_keys_of_its_frame():
    ar = _randomised_frame_ar()
    x, out = (torch.rand(3, 12) < 0.4).float(), torch.randn(3, 8)
    base = ar(x, out)
    for k in range(12):
        flipped = x.clone()
        flipped[:, k] = 1 - flipped[:, k]
        changed = (ar(flipped, out) - base).abs().amax(0) > 1e-6
        assert not changed[:k + 1].any(), f"key {k} leaked into keys at or below it"
        if k < 11:
            assert changed[k + 1:].any()


def test_drawing_key_by_key_matches_teacher_forced_probabilities():
    """The decode round trip: a drawn frame, scored whole by teacher forcing, gives exactly the probabilities
    its coins were compared with (sampled) or the keys above 1/2 (greedy)."""
    ar = _randomised_frame_ar()
    logits, out = torch.randn(4, 12), torch.randn(4, 8)
    with torch.no_grad():
        greedy = ar.draw(logits, out, temperature=1.0, generator=None)
        assert torch.equal((logits + ar(greedy, out) > 0).float(), greedy)
        for temperature in (1.0, 0.7):
            drawn = ar.draw(logits, out, temperature=temperature, generator=torch.Generator().manual_seed(5))
            coins = torch.rand(4, 12, generator=torch.Generator().manual_seed(5))
            p = torch.sigmoid((logits + ar(drawn, out)) / temperature)
            assert torch.equal((coins < p).float(), drawn)
            again = ar.draw(logits, out, temperature=temperature, generator=torch.Generator().manual_seed(5))
            assert torch.equal(drawn, again)


def test_teacher_forced_logits_are_causal_in_time_and_key_order():
    model, _ = vae_checks.toy_model(FAMILY)
    model.eval()
    with torch.no_grad():
        model.within.out.normal_()
        model.within.direct.normal_()
        keys = model.config.keys
        x, z = (torch.rand(2, model.config.steps, keys) < 0.2).float(), torch.randn(2, model.config.latent)
        base = model.recon_logits(x, z)
        flipped = x.clone()
        flipped[:, 5, 10] = 1 - flipped[:, 5, 10]
        diff = (model.recon_logits(flipped, z) - base).abs()
    assert float(diff[:, :5].max()) == 0.0 and float(diff[:, 5, :11].max()) == 0.0
    assert float(diff[:, 5, 11:].max()) > 0 and float(diff[:, 6:].max()) > 0


def test_first_shipped_config_still_builds_without_the_new_parts():
    """phase 0 and frame_ar 0 (the defaults) are the first model: independent coins, no beat input."""
    torch.manual_seed(0)
    model = build_model(FAMILY, {"steps": 16, "keys": 40, "pitch_low": 48, "latent": 4, "hidden": 16,
                                 "encoder_layers": 1, "decoder_layers": 1}, PianoRoll())
    assert model.within is None and model.decoder.input_size == 44
    assert "within.out" not in model.state_dict()
    [seq] = model.sample(1, length="3s", seed=0)
    assert seq == model.sample(1, length="3s", seed=0)[0]
