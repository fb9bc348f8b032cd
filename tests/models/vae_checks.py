"""Checks every piano-roll VAE family passes (used by test_lstm_vae.py and test_tvae.py)."""

from __future__ import annotations

import torch

from musicgen.corpora import toy_corpus
from musicgen.models import build_model
from musicgen.models.vae_common import morph_clip
from musicgen.presets import toy_preset
from musicgen.representations import PianoRoll
from musicgen.train import make_data


def toy_model(family: str, **config):
    preset = toy_preset(family)
    torch.manual_seed(0)
    return build_model(family, {**preset.model_config, **config}, PianoRoll()), preset


def check_train_step_changes_weights_and_counts_kl_steps(family: str) -> None:
    model, preset = toy_model(family)
    _, train_b, _, _ = make_data(preset, model.representation)
    batch = next(iter(train_b.epoch(torch.Generator().manual_seed(0))))
    assert batch.shape == (preset.train.batch_size, preset.train.window, 128)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    opt = model.make_optimizers(lr=1e-2)
    parts = model.train_step(batch, opt)
    assert {"train_loss", "recon_loss", "kl_loss", "kl_weight"} <= set(parts)
    assert parts["train_loss"] > 0 and parts["kl_loss"] >= 0
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert len(changed) > len(before) // 2
    assert int(model.kl_step) == 1
    assert parts["kl_weight"] == 0.0  # β starts at 0 and rises with the saved step counter


def check_kl_schedule_survives_a_reload(family: str) -> None:
    model, _ = toy_model(family, kl_warmup=10, kl_max=0.5)
    model.kl_step.fill_(4)
    assert model.kl_weight() == 0.2
    again, _ = toy_model(family, kl_warmup=10, kl_max=0.5)
    again.load_inference_state_dict(model.inference_state_dict())
    assert again.kl_weight() == 0.2
    model.kl_step.fill_(100)
    assert model.kl_weight() == 0.5


def check_eval_loss_is_recon_plus_kl(family: str) -> None:
    model, preset = toy_model(family)
    *_, test_b = make_data(preset, model.representation)
    parts = model.eval_loss(test_b.sequential())
    assert abs(parts["loss"] - parts["recon_loss"] - parts["kl_loss"]) < 1e-5
    assert parts["windows"] >= 1


def check_sampling_is_deterministic_per_seed_and_in_range(family: str) -> None:
    model, _ = toy_model(family)
    a = model.sample(2, length="6s", seed=3)
    assert a == model.sample(2, length="6s", seed=3)
    assert a != model.sample(2, length="6s", seed=4)
    low, keys = model.config.pitch_low, model.config.keys
    for seq in a:
        assert len(seq) > 0 and seq.duration <= 6.0 + 1e-6
        assert all(low <= n.pitch < low + keys for n in seq.notes)
    [by_notes] = model.sample(1, length="25n", seed=1)
    assert len(by_notes) == 25


def check_continuation_keeps_the_primer(family: str) -> None:
    model, _ = toy_model(family)
    primer = toy_corpus().pieces[0].slice_time(0.0, 3.0)
    out = model.continue_piece(primer, length="4s", seed=2)
    assert out.notes[:len(primer)] == primer.notes or set(primer.notes) <= set(out.notes)
    assert out.meta_dict()["primer_notes"] == str(len(primer))
    assert out.duration > primer.duration
    assert out == model.continue_piece(primer, length="4s", seed=2)


def check_interpolation(family: str) -> None:
    model, _ = toy_model(family)
    a, b = toy_corpus().pieces[0], toy_corpus().pieces[4]
    latents = model.interpolation_latents(a, b, 5)
    model.eval()  # as interpolate encodes (a Transformer's eval fast path differs in the last digits)
    with torch.inference_mode():
        za, zb = model.encode_piece(a), model.encode_piece(b)
    assert torch.allclose(latents[0], za) and torch.allclose(latents[-1], zb)
    assert torch.allclose(latents[2], (za + zb) / 2, atol=1e-6)
    steps = model.interpolate(a, b, 5, seed=7)
    assert len(steps) == 5 and steps == model.interpolate(a, b, 5, seed=7)
    assert [s.meta_dict()["alpha"] for s in steps] == ["0.000", "0.250", "0.500", "0.750", "1.000"]
    window = model.config.steps * model.representation.step_seconds(a.qpm)
    assert all(s.duration <= window + 1e-6 for s in steps)
    morph = morph_clip(steps, window_seconds=window)
    assert len(morph) == sum(len(s) for s in steps)
    assert morph.duration <= 5 * window + 1e-6


def check_trained_latents_differ_between_pieces(family: str, tmp_path) -> None:
    """Against posterior collapse (measured before BN-VAE: every piece got the same mean)."""
    from musicgen.checkpoints import load_checkpoint
    from musicgen.train import train

    model = load_checkpoint(train(toy_preset(family), out_dir=tmp_path / family, progress=False)).model.eval()
    with torch.inference_mode():
        means = torch.stack([model.encode_piece(p) for p in toy_corpus().pieces])
    assert float(means.std(0).mean()) > 0.1


# Every VAE family runs these (test_lstm_vae.py, test_tvae.py), one test each.
SHARED_CHECKS = [check_train_step_changes_weights_and_counts_kl_steps, check_kl_schedule_survives_a_reload,
                 check_eval_loss_is_recon_plus_kl, check_sampling_is_deterministic_per_seed_and_in_range,
                 check_continuation_keeps_the_primer, check_interpolation]


def check_id(check) -> str:
    return check.__name__.removeprefix("check_")
