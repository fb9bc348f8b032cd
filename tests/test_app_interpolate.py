"""The Interpolate page with a toy lstm-vae checkpoint (trained in seconds), driven headless with AppTest."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen.corpora import toy_corpus
from musicgen.midi import to_midi_bytes
from musicgen.presets import toy_preset
from musicgen.train import train
from musicgen.ui.interpolate import INTERP_KEY

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "8_Interpolate.py")
TIMEOUT = 90


@pytest.fixture(scope="module")
def vae_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("vae_ckpts")
    train(toy_preset("lstm-vae"), out_dir=root / "toy-lstm-vae", progress=False)
    return root


@pytest.fixture
def vae_app(vae_root, tmp_path, monkeypatch):
    """Only the toy VAE is installed; its corpus ('toy') is served from a temporary cache."""
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(vae_root))
    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    return at


def interpolate(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label == "Interpolate"]
    return button.click().run()


def chart_keys(at: AppTest) -> list[str]:
    return [c.key for c in at.get("plotly_chart")]


def test_each_step_and_the_whole_morph_are_shown_in_order(vae_app):
    at = vae_app
    assert "Interpolate" in [t.value for t in at.title]
    at.slider(key="interp_steps").set_value(4)
    interpolate(at)
    assert not at.exception and not at.error
    view = at.session_state[INTERP_KEY]
    assert len(view.steps) == 4 and view.settings.steps == 4
    assert [s.meta_dict()["step"] for s in view.steps] == ["1", "2", "3", "4"]
    assert chart_keys(at) == ["interp_morph", "interp_step_0", "interp_step_1", "interp_step_2", "interp_step_3"]
    morph = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "4 steps" in morph["layout"]["title"]["text"]
    assert len(view.morph) == sum(len(s) for s in view.steps)
    first = view.steps
    at.run()  # a rerun (e.g. a download click) keeps the result
    assert at.session_state[INTERP_KEY].steps == first


def test_same_seed_same_morph_and_a_new_seed_changes_it(vae_app):
    at = vae_app
    interpolate(at)
    first = at.session_state[INTERP_KEY].morph
    interpolate(at)
    assert at.session_state[INTERP_KEY].morph == first
    at.number_input(key="interp_seed").set_value(5).run()
    interpolate(at)
    assert at.session_state[INTERP_KEY].morph != first


def test_an_upload_can_be_an_endpoint_and_a_broken_one_is_explained(vae_app):
    at = vae_app
    at.radio(key="interp_source_b").set_value("file").run()
    at.file_uploader(key="interp_file_b").set_value(("bad.mid", b"not a MIDI file", "audio/midi")).run()
    assert not at.exception and at.error  # a plain message, never a traceback
    assert next(b for b in at.button if b.label == "Interpolate").disabled
    upload = to_midi_bytes(toy_corpus().pieces[3])
    at.file_uploader(key="interp_file_b").set_value(("mine.mid", upload, "audio/midi")).run()
    assert not at.error
    interpolate(at)
    assert not at.exception and not at.error
    assert at.session_state[INTERP_KEY].labels[1] == "mine.mid"


def test_without_a_latent_model_the_page_says_what_to_train(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(tmp_path))
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "musicgen train D-lstm-vae" in "\n".join(e.value for e in at.error)
