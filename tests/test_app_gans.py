"""The GANs in the app: generated from noise alone (no primer offered), losses and the critic's curves."""

from streamlit.testing.v1 import AppTest

from tests.test_app import GENERATE, TIMEOUT, _button, _texts
from musicgen.ui.generation import RESULT_KEY


def test_gan_generates_without_a_primer_choice():
    at = AppTest.from_file(GENERATE, default_timeout=TIMEOUT).run()
    at.selectbox(key="model").set_value("B-gan").run()
    assert not at.exception and not at.error
    assert not [r for r in at.radio if r.key == "primer_kind"]  # a GAN cannot continue a primer
    assert "cannot continue a primer" in _texts(at.caption)
    _button(at, "Generate").click().run()
    assert not at.exception and not at.error
    seq = at.session_state[RESULT_KEY].sequence
    assert len(seq) > 0 and seq.duration <= 30.0 + 1e-6
    assert "--model B-gan" in at.code[0].value and "--primer" not in at.code[0].value
