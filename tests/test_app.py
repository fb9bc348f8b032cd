"""The Streamlit pages, driven headless with AppTest (no browser, no server)."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen.checkpoints import list_cards
from musicgen.synth import synth_available
from musicgen.ui.generation import RESULT_KEY, VIEW_KEY
from musicgen.ui.playhead import ROLL_TITLE

ROOT = Path(__file__).resolve().parent.parent
HOME = str(ROOT / "app.py")
GENERATE = str(ROOT / "pages" / "1_Generate.py")
TIMEOUT = 60


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _button(at: AppTest, label: str):
    [button] = [b for b in at.button if b.label == label]
    return button


def _generate_page(model: str = "markov") -> AppTest:
    at = AppTest.from_file(GENERATE, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.selectbox(key="model").set_value(model).run()
    return at


@pytest.fixture
def broken_checkpoints(tmp_path, monkeypatch):
    """A checkpoints folder with markov's weights truncated and a card that is not JSON."""
    root = tmp_path / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "markov", root / "markov")
    weights = root / "markov" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    (root / "garbled").mkdir()
    (root / "garbled" / "card.json").write_text("{ not json")
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(root))
    return root


def test_home_lists_every_model():
    at = AppTest.from_file(HOME, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not at.error
    shown = _texts(at.subheader) + _texts(at.markdown)
    for card in list_cards():
        assert getattr(card, "display_title", card.id) in shown  # a broken checkpoint shows its id
    assert "Meta" in _texts(at.caption)  # says it is not Meta's MusicGen
    # what to do comes first, then the models; numbers only where a model has them (no "—" rows)
    assert [h.value for h in at.header] == ["Where to go next", "The models"]
    assert not at.metric and "—" not in _texts(at.markdown)
    at.switch_page("pages/1_Generate.py").run()  # the multipage app finds the Generate page
    assert not at.exception
    assert "Generate" in _texts(at.title)


def test_generate_markov_plays_plots_and_reproduces():
    at = _generate_page()
    assert not at.error
    _button(at, "Generate").click().run()
    assert not at.exception
    assert not at.error
    if synth_available()[0]:  # the player sits over the roll, with a playhead (ui.playhead), not in st.audio
        [player] = at.get("iframe")
        assert player.proto.alt == ROLL_TITLE and "data:audio/ogg;base64," in player.proto.srcdoc
        assert player.proto.srcdoc.count('class="note"') == len(at.session_state[RESULT_KEY].sequence)
        assert {d.label for d in at.get("download_button")} == {"Download MIDI", "Download WAV"}
    assert len(at.get("plotly_chart")) == 2  # piano roll + loss curve
    command = at.code[0].value
    assert "--seed 0" in command and "--model markov" in command
    first = at.session_state[RESULT_KEY].sequence

    # a rerun (any widget change) keeps the last result; same settings give the same notes
    at.slider(key="temperature").set_value(1.5).run()
    assert at.session_state[RESULT_KEY].sequence == first
    again = _generate_page()
    _button(again, "Generate").click().run()
    assert again.session_state[RESULT_KEY].sequence == first


def test_score_tab_engraves_the_clip_with_a_musicxml_download():
    at = _generate_page()
    _button(at, "Generate").click().run()
    assert [t.label for t in at.tabs] == ["Piano roll", "Score"]
    assert not at.get("image")  # engraved only when the Score tab is opened
    at.session_state[VIEW_KEY] = "Score"  # what clicking the tab does
    at.run()
    assert not at.exception and not at.error
    [score] = [t for t in at.tabs if t.label == "Score"]
    pages = [e for e in score.children.values() if e.type == "image"]
    assert 1 <= len(pages) <= 3 and all(p.proto.imgs[0].url.startswith("data:image/svg+xml") for p in pages)
    assert "Download MusicXML" in [d.label for d in at.get("download_button")]
    assert "sixteenths" in _texts(at.caption)


def test_new_seed_changes_the_command():
    at = _generate_page()
    [new_seed] = [b for b in at.button if b.key == "seed_new"]
    assert new_seed.label == "" and "New seed" in new_seed.help  # an icon with a tooltip: fits any column
    new_seed.click().run()
    seed = at.session_state["seed"]
    _button(at, "Generate").click().run()
    assert not at.exception
    assert f"--seed {seed} " in at.code[0].value


def test_heldout_primer_is_continued():
    at = _generate_page()
    at.radio(key="primer_kind").set_value("test").run()
    assert not at.exception and not at.error
    piece = at.selectbox(key="primer_piece").value
    _button(at, "Generate").click().run()
    assert not at.exception and not at.error
    assert f"--primer test:{piece}" in at.code[0].value
    assert int(at.session_state[RESULT_KEY].sequence.meta_dict()["primer_notes"]) > 0
    assert "primer" in _texts(at.caption)


def test_garbage_midi_upload_shows_an_error_and_the_page_keeps_working():
    at = _generate_page()
    _button(at, "Generate").click().run()
    assert at.session_state[RESULT_KEY] is not None
    at.radio(key="primer_kind").set_value("file").run()
    assert len(at.get("plotly_chart")) == 2  # no upload yet: the last result stays
    garbage = b"D!\xcauq_\x00\x9f\x01 not a MIDI file"
    at.file_uploader(key="primer_file").set_value(("tune.mid", garbage, "audio/midi")).run()
    assert not at.exception
    [error] = at.error
    assert "tune.mid is not a MIDI file" in error.value
    assert "\\x" not in error.value and "b'" not in error.value and "\n" not in error.value  # words, not bytes
    assert RESULT_KEY not in at.session_state and not at.get("plotly_chart")  # the stale result is gone
    assert _button(at, "Generate").disabled
    at.radio(key="primer_kind").set_value("none").run()
    _button(at, "Generate").click().run()
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2


def test_abc_upload_is_a_primer_and_a_broken_one_says_why():
    from tests.test_importing import TUNES

    at = _generate_page()
    at.radio(key="primer_kind").set_value("file").run()
    broken = b"X:7\nT:Broken\nK:C\n[[[[CDE\n\n"
    at.file_uploader(key="primer_file").set_value(("bad.abc", broken, "text/vnd.abc")).run()
    assert not at.exception
    assert "bad.abc#X:7: music21 could not read this tune" in _texts(at.error)
    assert _button(at, "Generate").disabled

    # a tune book whose first tune is broken: its first readable tune is the primer, and the page says so
    at.file_uploader(key="primer_file").set_value(("book.abc", broken + TUNES.encode(), "text/vnd.abc")).run()
    assert not at.exception and not at.error
    assert "Read 16 notes, 4.0 s from book.abc (the first readable of its 5 tunes, X:1)." in _texts(at.caption)
    _button(at, "Generate").click().run()
    assert not at.exception and not at.error
    assert "--primer file:book.abc" in at.code[0].value
    assert int(at.session_state[RESULT_KEY].sequence.meta_dict()["primer_notes"]) > 0


def test_broken_checkpoints_warn_on_home_and_error_on_generate(broken_checkpoints):
    home = AppTest.from_file(HOME, default_timeout=TIMEOUT).run()
    assert not home.exception
    warnings = _texts(home.warning)
    assert "SHA-256" in warnings  # truncated weights
    assert "not valid JSON" in warnings  # unreadable card

    at = AppTest.from_file(GENERATE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "cannot be loaded" in _texts(at.error)
    assert _button(at, "Generate").disabled


def test_no_checkpoints_at_all(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(tmp_path))
    home = AppTest.from_file(HOME, default_timeout=TIMEOUT).run()
    assert not home.exception
    assert "musicgen train" in _texts(home.info)
    at = AppTest.from_file(GENERATE, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "musicgen train" in _texts(at.error)


def test_without_fluidsynth_the_roll_and_midi_remain(monkeypatch):
    import musicgen.ui.widgets as widgets

    message = "FluidSynth library not found: install it with `sudo apt-get install libfluidsynth3`"
    monkeypatch.setattr(widgets, "synth_available", lambda: (False, message))
    at = _generate_page()
    _button(at, "Generate").click().run()
    assert not at.exception and not at.error
    assert "sudo apt-get install libfluidsynth3" in _texts(at.warning)
    assert not at.get("audio") and not at.get("iframe")  # no player: the plotly roll alone
    assert len(at.get("plotly_chart")) == 2
    assert [d.label for d in at.get("download_button")] == ["Download MIDI"]


def _attempt_script():
    import streamlit as st

    from musicgen.sampling import SamplingError
    from musicgen.ui.errors import attempt

    def out_of_range():
        raise SamplingError("temperature must be between 0.05 and 5.0, got 9")

    def bug():
        raise KeyError("internal detail")

    assert attempt("generate", out_of_range) is None
    assert attempt("generate", bug) is None
    st.write("still running")


def test_attempt_turns_errors_into_messages():
    at = AppTest.from_function(_attempt_script, default_timeout=TIMEOUT).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert "out of range" in errors[0] and "between 0.05 and 5.0" in errors[0]
    assert "KeyError" in errors[1] and "server log" in errors[1] and "internal detail" not in errors[1]
    assert "still running" in _texts(at.markdown)
