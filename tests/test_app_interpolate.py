"""The Interpolate page with a toy lstm-vae checkpoint (trained in seconds), driven headless with AppTest."""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen.checkpoints import checkpoints_dir, load_checkpoint
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
    assert view.settings.decoding == "deterministic"  # the most likely notes: the walk, not the coins
    assert chart_keys(at) == ["interp_morph", "interp_step_0", "interp_step_1", "interp_step_2", "interp_step_3"]
    morph = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert "4 steps" in morph["layout"]["title"]["text"]
    assert len(view.morph) == sum(len(s) for s in view.steps)
    first = view.steps
    at.run()  # a rerun (e.g. a download click) keeps the result
    assert at.session_state[INTERP_KEY].steps == first


@pytest.mark.skipif(not (checkpoints_dir() / "D-lstm-vae").is_dir(), reason="D-lstm-vae is not installed")
def test_a_morph_morphs_neighbouring_steps_differ_and_the_ends_are_their_pieces():
    """Issue 17: with one seed's coins at every step, steps 1-3 of a 4-step morph of the page's default
    pieces were identical (44 notes each). The page's default (deterministic) decoding must morph."""
    from musicgen import systems
    model = load_checkpoint("D-lstm-vae").model
    model_corpus = "bach-chorales"  # its training corpus
    ids = systems.heldout_ids(model_corpus)
    a, b = (systems.heldout_piece(model_corpus, i) for i in ids[:2])  # the page's default pair
    for n in (4, 5):
        notes = [s.notes for s in model.interpolate(a, b, n, temperature=0.8)]
        assert all(x != y for x, y in zip(notes, notes[1:])), f"neighbouring steps identical ({n} steps)"
        ends = model.interpolate(a, b, 2, temperature=0.8)  # each end is its own piece's latent, decoded
        assert (notes[0], notes[-1]) == (ends[0].notes, ends[1].notes)
        assert notes[0] != notes[-1]


def test_same_seed_same_morph_and_a_new_seed_changes_it(vae_app):
    at = vae_app
    at.radio(key="interp_decoding").set_value("sampled").run()
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
