"""The tvae family: train step, KL schedule, determinism, continuation, interpolation (shared checks)."""

import pytest

from tests.models import vae_checks

FAMILY = "tvae"


@pytest.mark.parametrize("check", vae_checks.SHARED_CHECKS, ids=vae_checks.check_id)
def test_shared_vae_behaviour(check):
    check(FAMILY)


def test_trained_latents_differ_between_pieces(tmp_path):
    vae_checks.check_trained_latents_differ_between_pieces(FAMILY, tmp_path)
