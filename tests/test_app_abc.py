"""The Generate page shows a C-abc tune's ABC text beside its roll, and a tune that does not parse as a warning."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen.models.char_lstm import CharLSTM
from musicgen.ui.generation import RESULT_KEY

GENERATE = str(Path(__file__).resolve().parent.parent / "pages" / "1_Generate.py")
TIMEOUT = 60
TUNE = "M:6/8\nL:1/8\nK:D\nFAA dAA|B2c d2e|fed ^cBA|d3 d2 z|"


@pytest.fixture
def abc_checkpoints(tmp_path, monkeypatch):
    from musicgen.presets import toy_preset
    from musicgen.train import train

    root = tmp_path / "checkpoints"
    train(toy_preset("char-lstm", max_steps=5), out_dir=root / "toy-char-lstm", progress=False)
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(root))
    return root


def _generate(monkeypatch, text: str) -> AppTest:
    monkeypatch.setattr(CharLSTM, "sample_texts", lambda self, n, **kw: [text] * n)
    at = AppTest.from_file(GENERATE, default_timeout=TIMEOUT).run()
    at.selectbox(key="model").set_value("toy-char-lstm").run()
    [button] = [b for b in at.button if b.label == "Generate"]
    button.click().run()
    assert not at.exception and not at.error
    return at


def test_generate_shows_the_abc_text(abc_checkpoints, monkeypatch):
    at = _generate(monkeypatch, TUNE)
    assert TUNE in [c.value for c in at.code]
    assert len(at.session_state[RESULT_KEY].sequence) == 18
    assert not at.warning
    assert "The tune ended after" in at.info[0].value  # much shorter than asked: the page says why


def test_unparseable_tune_is_a_warning_with_its_text(abc_checkpoints, monkeypatch):
    at = _generate(monkeypatch, "M:4/4\nK:C\n((((")
    assert "does not parse" in at.warning[0].value
    assert "M:4/4\nK:C\n((((" in [c.value for c in at.code]
    assert any("--model toy-char-lstm" in c.value for c in at.code)
