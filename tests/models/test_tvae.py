"""The tvae family: train step, KL schedule, determinism, continuation, interpolation (shared checks)."""

import pytest

from tests.models import vae_checks

FAMILY = "tvae"


@pytest.mark.parametrize("check", [
    vae_checks.check_train_step_changes_weights_and_counts_kl_steps,
    vae_checks.check_kl_schedule_survives_a_reload,
    vae_checks.check_eval_loss_is_recon_plus_kl,
    vae_checks.check_sampling_is_deterministic_per_seed_and_in_range,
    vae_checks.check_continuation_keeps_the_primer,
    vae_checks.check_interpolation,
], ids=lambda f: f.__name__.removeprefix("check_"))
def test_shared_vae_behaviour(check):
    check(FAMILY)


def test_trained_latents_differ_between_pieces(tmp_path):
    vae_checks.check_trained_latents_differ_between_pieces(FAMILY, tmp_path)
