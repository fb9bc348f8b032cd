"""The playhead component's HTML (ui.playhead): the notes as SVG rectangles, offline, and blind without a roll."""

from __future__ import annotations

import base64
import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from musicgen.plots import GENERATED_COLOR, PRIMER_COLOR
from musicgen.sequence import Note, NoteSequence
from musicgen.synth import synth_available
from musicgen.ui.generation import RESULT_KEY, VIEW_KEY
from musicgen.ui.playhead import PLAYER_TITLE, ROLL_TITLE, component_height, playhead_html

GENERATE = str(Path(__file__).resolve().parent.parent / "pages" / "1_Generate.py")
AUDIO = b"OggS\x00\x02fake audio bytes"
SEQ = NoteSequence((Note(start=0.0, end=0.5, pitch=60, velocity=100), Note(start=0.5, end=1.0, pitch=64),
                    Note(start=1.0, end=2.5, pitch=67, velocity=20)), name="secret-piece-bwv999",
                   meta=(("model", "A-lstm"), ("seed", "424242")))
DATA_URL = re.compile(r"data:[\w/]+;base64,[A-Za-z0-9+/=]*")


def _rects(doc: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([\w-]+)="([^"]*)"', r)) for r in re.findall(r"<rect [^>]*>", doc)]


def test_notes_are_svg_rects_in_seconds_and_pitch_rows_with_the_primer_grey():
    doc = playhead_html(AUDIO, notes=SEQ, primer_notes=1)
    rects = _rects(doc)
    assert [(r["x"], r["width"], r["data-pitch"]) for r in rects] == [("0", "0.5", "60"), ("0.5", "0.5", "64"),
                                                                    ("1", "1.5", "67")]
    assert [r["fill"] for r in rects] == [PRIMER_COLOR, GENERATED_COLOR, GENERATED_COLOR]
    assert float(rects[0]["fill-opacity"]) > float(rects[2]["fill-opacity"])  # louder notes are darker
    # rows run top (highest pitch + 2) to bottom (lowest - 2): the viewBox is seconds × pitch rows
    assert 'viewBox="0 0 2.5 12"' in doc and [r["y"] for r in rects] == ["9", "5", "2"]
    assert ">C4</span>" in doc  # the C rows are labelled
    assert f'src="data:audio/ogg;base64,{base64.b64encode(AUDIO).decode()}"' in doc
    assert 'id="playhead"' in doc and "requestAnimationFrame" in doc and "currentTime" in doc


def test_it_works_offline():
    for doc in (playhead_html(AUDIO, notes=SEQ), playhead_html(AUDIO)):
        assert re.findall(r'src="(.{5})', doc) == ["data:"]  # the audio is inline, nothing else is loaded
        rest = DATA_URL.sub("", doc)  # base64 may spell anything; the markup around it may not fetch
        assert not re.search(r"https?:|//[\w.]+/|@import|<link|url\(", rest), rest


def test_without_notes_it_is_a_player_and_a_track_that_give_nothing_away():
    doc = playhead_html(AUDIO, "audio/ogg")
    assert "<svg" not in doc and "<rect" not in doc and 'id="playhead"' in doc
    other = playhead_html(b"OggS other clip, another model", "audio/ogg")
    assert DATA_URL.sub("", doc) == DATA_URL.sub("", other)  # all that differs between two clips is the audio
    text = DATA_URL.sub("", doc)
    for identity in ("secret-piece", "bwv999", "A-lstm", "424242", "seed", "model", "soundfont"):
        assert identity not in text


def test_the_height_is_fixed_and_room_enough():
    assert component_height(roll=True) > component_height(roll=False) >= 40 + 12
    assert component_height(roll=True, roll_height=100) == component_height(roll=True) - 140


def _blind_script():
    import streamlit as st

    from musicgen.ui.playhead import playhead

    playhead(st.session_state["clip"], "audio/ogg")


def test_on_a_page_the_blind_player_is_one_iframe_named_generically():
    at = AppTest.from_function(_blind_script)
    at.session_state["clip"] = AUDIO
    at.run()
    assert not at.exception
    [frame] = at.get("iframe")
    assert frame.proto.alt == PLAYER_TITLE and frame.proto.srcdoc == playhead_html(AUDIO, "audio/ogg")


def test_generate_plays_over_the_roll_and_over_the_score():
    at = AppTest.from_file(GENERATE, default_timeout=60).run()
    at.selectbox(key="model").set_value("markov").run()
    [button] = [b for b in at.button if b.label == "Generate"]
    button.click().run()
    assert not at.exception and not at.error
    if not synth_available()[0]:
        assert not at.get("iframe")
        return
    [roll] = at.get("iframe")
    seq = at.session_state[RESULT_KEY].sequence
    assert roll.proto.alt == ROLL_TITLE and len(_rects(roll.proto.srcdoc)) == len(seq)
    assert [e.label for e in at.get("expander")][-1].startswith("Zoom in")  # the plotly roll, folded
    at.session_state[VIEW_KEY] = "Score"
    at.run()
    [player] = at.get("iframe")  # the Score tab keeps a player (no roll: the score is the picture there)
    assert player.proto.alt == PLAYER_TITLE and "<svg" not in player.proto.srcdoc
