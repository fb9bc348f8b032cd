"""Kiosk mode (`?kiosk=1` on the home URL, or `MUSICGEN_KIOSK=1`): one screen for a museum or a classroom.

Big type, one big "Play me something new" button, the model that wrote the piece in plain words, its audio
and piano roll; no sidebar, toolbar or header. "Keep playing" (or `&auto=1`) starts the next piece when the
current one ends: a fragment ticks every few seconds and reruns the page once the clip is over. Which model
and settings come from `musicgen.kiosk` (the best evaluated note models in turn, a fresh seed each press).

The screen recovers by itself: any error while making or drawing a piece is logged, the page says "Let's try
another one" and the next model and seed are tried; it never shows a traceback. Without FluidSynth the roll
is shown with a short note. (Like every `st.navigation` app, Streamlit serves `pages/*.py` by URL until
navigation has run once in the server; a kiosk browser that only opens `?kiosk=1` never sees them.)
"""

from __future__ import annotations

import html
import logging
import os
import random
import time

import streamlit as st

from musicgen import kiosk, systems
from musicgen.plots import piano_roll_figure
from musicgen.synth import SynthUnavailableError
from musicgen.ui.cards import usable_cards
from musicgen.ui.chrome import hide_app_chrome
from musicgen.ui.resources import audio_bytes

log = logging.getLogger("musicgen.ui.kiosk")

ENV = "MUSICGEN_KIOSK"
ON = ("1", "true", "yes", "on")
BUTTON = "Play me something new"
AUTO = "Keep playing: a new piece when this one ends"
CALM = "That one didn't work out. Let's try another one…"
NO_SOUND = "No sound on this screen today, but here are the notes."
TRIES = 4  # models/seeds tried per press before giving up calmly
GAP_SECONDS = 3.0  # after a clip ends, before the next starts (the audio starts a moment after the page)
RETRY_SECONDS = 15.0  # keep playing: after a press where nothing worked
TICK_SECONDS = 2.0  # keep playing: how often the page checks whether the clip is over

PIECE, TURN, TROUBLE, NEXT_AT = "kiosk_piece", "kiosk_turn", "kiosk_trouble", "kiosk_next_at"
_rng = random.SystemRandom()  # a fresh seed every press

STYLE = """
[data-testid="stMainBlockContainer"], .block-container { padding-top: 2rem; max-width: 1300px; }
.kiosk-title { font-size: 3.6rem !important; font-weight: 700; line-height: 1.1 !important; margin: 0 !important; }
.kiosk-lead { font-size: 1.7rem !important; margin: .4rem 0 1rem 0 !important; }
.kiosk-by { font-size: 2.6rem !important; line-height: 1.2 !important; margin: .6rem 0 0 0 !important; }
.kiosk-sub, .kiosk-note, .kiosk-calm { font-size: 1.5rem !important; margin: .3rem 0 !important; }
.st-key-kiosk_play button { font-size: 2.4rem; padding: 1.2rem 3rem; border-radius: 1.2rem; min-height: 5.5rem; }
.st-key-kiosk_play button p, .st-key-kiosk_play button [data-testid="stIconMaterial"] { font-size: 2.4rem !important; }
.st-key-kiosk_auto p { font-size: 1.3rem !important; }
"""


def kiosk_on() -> bool:
    """Kiosk mode: `?kiosk=1` in the URL or MUSICGEN_KIOSK=1 in the server's environment."""
    return str(st.query_params.get("kiosk", "")).lower() in ON or os.environ.get(ENV, "").lower() in ON


def _big(text: str, cls: str) -> None:
    st.markdown(f'<p class="{cls}">{text}</p>', unsafe_allow_html=True)


def make_piece(cards) -> dict:
    """One finished piece (notes, audio or a note why there is none, roll, who made it), trying up to
    TRIES models/seeds; a piece with `failed` set when none worked. Never raises."""
    trouble = False
    for _ in range(TRIES):
        turn = st.session_state.get(TURN, 0)
        st.session_state[TURN] = turn + 1  # the next press (or try) goes to the next model
        try:
            choice = kiosk.pick(cards, turn, _rng)
            seq = systems.make_clip(choice.request)
            if not seq.notes:
                raise ValueError(f"{choice.model} wrote no notes")
            try:
                audio, note = audio_bytes(seq), None
            except SynthUnavailableError as exc:
                log.warning("kiosk: no audio (%s)", exc)
                audio, note = None, NO_SOUND
            figure = piano_roll_figure(seq, height=380)
            return {"title": choice.title, "model": choice.model, "request": choice.request, "audio": audio,
                    "note": note, "figure": figure, "seconds": float(seq.duration), "trouble": trouble}
        except Exception:  # the kiosk never shows a traceback: log it and try the next model and seed
            log.exception("kiosk: could not make a piece (try %d)", turn)
            trouble = True
    return {"failed": True, "trouble": True}


def _show(piece: dict) -> None:
    if piece.get("trouble"):
        _big(CALM, "kiosk-calm")
    if piece.get("failed"):
        _big("Press the button and we'll try again.", "kiosk-sub")
        return
    _big(f"This piece was written by <b>{html.escape(piece['title'])}</b>", "kiosk-by")
    _big("a small computer model that learned by studying real music, then wrote these notes itself, just now.",
         "kiosk-sub")
    if piece["audio"] is not None:
        st.audio(piece["audio"], format="audio/ogg", autoplay=True)
    else:
        _big(piece["note"], "kiosk-note")
    st.plotly_chart(piece["figure"], key="kiosk-roll", config={"displayModeBar": False})


def _tick() -> None:
    """Keep playing: once the clip (plus a short gap) is over, rerun the page, which starts the next one."""
    if time.time() >= st.session_state.get(NEXT_AT, 0.0) - 0.5:
        st.rerun()


def _new_piece(cards) -> None:
    with st.spinner("Writing a new piece…"):
        piece = make_piece(cards)
    st.session_state[PIECE] = piece
    wait = RETRY_SECONDS if piece.get("failed") else piece["seconds"] + GAP_SECONDS
    st.session_state[NEXT_AT] = time.time() + wait


def kiosk_page() -> None:
    """The kiosk screen (registered alone, hidden navigation, by app.py when `kiosk_on()`)."""
    hide_app_chrome(STYLE)
    _big("Music written by a computer", "kiosk-title")
    _big("Press the button: a small model writes a brand-new piece for you.", "kiosk-lead")
    try:
        cards = list(usable_cards().values())
    except Exception:
        log.exception("kiosk: could not read the model cards")
        cards = []
    if not cards:
        _big("No music models are installed on this screen yet.", "kiosk-sub")
        return
    pressed = st.button(BUTTON, type="primary", key="kiosk_play", icon=":material/music_note:")
    auto = st.toggle(AUTO, key="kiosk_auto", value=str(st.query_params.get("auto", "")).lower() in ON)
    due = auto and time.time() >= st.session_state.get(NEXT_AT, 0.0) - 0.5
    if pressed or due:
        _new_piece(cards)
    piece = st.session_state.get(PIECE)
    if piece is not None:
        try:
            _show(piece)
        except Exception:
            log.exception("kiosk: could not show the piece")
            st.session_state[PIECE] = {"failed": True, "trouble": True}
            st.session_state[NEXT_AT] = time.time() + GAP_SECONDS
            _big(CALM, "kiosk-calm")
    if auto:
        st.fragment(_tick, run_every=TICK_SECONDS)()
