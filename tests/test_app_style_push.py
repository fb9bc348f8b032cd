"""The Style push page with the shipped D-classifier-ascent checkpoint, driven headless with AppTest.

The composer corpus is replaced by a few generated pieces (in a temporary cache) so the test never
waits minutes for music21 to parse the real scores on a fresh machine.
"""

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen import corpora
from musicgen.corpora import base
from musicgen.corpora.music21_sources import COMPOSERS
from musicgen.checkpoints import checkpoints_dir
from musicgen.midi import to_midi_bytes
from musicgen.sequence import Note, NoteSequence
from musicgen.ui.style_push import PUSH_KEY

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "4_Style_push.py")
TIMEOUT = 90

pytestmark = pytest.mark.skipif(not (checkpoints_dir() / "D-classifier-ascent").is_dir(),
                                reason="the D-classifier-ascent checkpoint is not installed")


def piece(name: str, low: int, n: int = 64) -> NoteSequence:
    step = 60.0 / 100 / 4
    chord = [0, 4, 7, 12]
    notes = tuple(Note(start=k * 4 * step, end=(k + 1) * 4 * step, pitch=low + chord[(k + v) % 4] + 12 * (v % 2))
                  for k in range(n) for v in range(3))
    return NoteSequence(notes=notes, qpm=100.0, name=name)


@pytest.fixture
def composer_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICGEN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(base, "SPLITS_DIR", tmp_path / "splits")  # the committed split names real pieces
    pieces = [piece(f"{c}/toy{i}", 48 + 2 * i) for c in COMPOSERS for i in range(4)]
    monkeypatch.setitem(corpora.CORPORA, "music21-composers",
                        lambda refresh=False: base.cached_corpus("music21-composers", "toy-composers", lambda: pieces))
    return pieces


def charts(at: AppTest) -> dict:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def push(at: AppTest) -> AppTest:
    [button] = [b for b in at.button if b.label == "Push"]
    return button.click().run()


def test_page_renders_and_a_push_shows_before_and_after(composer_corpus):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert "Style push" in [t.value for t in at.title]
    at.selectbox(key="push_target").set_value("bach")
    at.slider(key="push_seconds").set_value(10.0)
    push(at)
    assert not at.exception and not at.error
    view = at.session_state[PUSH_KEY]
    assert view.result.target == "bach" and len(view.result.after) > 0
    shown = charts(at)
    assert set(shown) == {"push_probs", "push_before", "push_after"}
    assert [t["name"] for t in shown["push_probs"]["data"]] == ["before", "after"]
    assert shown["push_probs"]["data"][1]["y"] == pytest.approx(view.result.probs_after)
    first = view.result.after
    at.run()  # a rerun keeps the result
    assert at.session_state[PUSH_KEY].result.after == first


def test_an_uploaded_file_can_be_pushed_and_a_bad_one_is_explained(composer_corpus):
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    at.radio(key="push_source").set_value("file").run()
    at.file_uploader(key="push_file").set_value(("bad.mid", b"not a MIDI file", "audio/midi")).run()
    assert not at.exception and at.error  # a plain message, never a traceback
    upload = to_midi_bytes(piece("upload", 55, n=16))
    at.file_uploader(key="push_file").set_value(("mine.mid", upload, "audio/midi")).run()
    at.slider(key="push_seconds").set_value(5.0)
    push(at)
    assert not at.exception and not at.error
    assert at.session_state[PUSH_KEY].piece == "mine.mid"
    assert len(at.get("plotly_chart")) == 3
