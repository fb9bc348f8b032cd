"""Widgets that several pages share: the model picker, the seed with its "New seed" button, the
held-out-piece-or-upload picker, and the audio player
(or just the rendered clip, for a player of the page's own such as `ui.playhead`).

Each takes the widget keys it uses from the caller, so a page's keys (and its tests) stay its own.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import streamlit as st

from musicgen.card import Card
from musicgen.importing import SUPPORTED_SUFFIXES, read_first
from musicgen.sequence import NoteSequence
from musicgen.synth import synth_available
from musicgen.systems import System, get_system, heldout_piece
from musicgen.ui.errors import attempt
from musicgen.ui.resources import audio_bytes, heldout_ids, load_model

SEED_MAX = 2**32 - 1
SEED_HELP = "The same seed and settings always give the same notes."
HELDOUT, UPLOAD = "test", "file"
SOURCES = {HELDOUT: "A held-out piece", UPLOAD: "My music file"}
UPLOAD_TYPES = [s.lstrip(".") for s in SUPPORTED_SUFFIXES]  # MIDI, ABC, MusicXML (musicgen.importing)


# ---- the model -------------------------------------------------------------------------------------
def model_picker(cards: dict[str, Card | System], *, key: str, describe: bool = False) -> tuple[Card | System, bool]:
    """A "Model" select box over `cards` (by title): checkpoint cards, or systems (checkpoints and sample
    sets); (the chosen one, whether it loads: a checkpoint's weights, a sample set's card and files).

    A model that does not load shows why (st.error) and the caller disables its action button."""
    def title(cid: str) -> str:
        chosen = cards[cid]
        return chosen.title if isinstance(chosen, System) else chosen.display_title

    model_id = st.selectbox("Model", list(cards), key=key, format_func=title)
    card = cards[model_id]
    if describe:
        st.caption(card.description)
    if isinstance(card, System) and card.card is None:  # a sample set: read its card and check its files again
        loaded = attempt(f"load {model_id}", get_system, model_id) is not None
    else:
        loaded = attempt(f"load {model_id}", load_model, model_id) is not None
    return card, loaded


# ---- the seed ---------------------------------------------------------------------------------------
def _new_seed(key: str) -> None:
    st.session_state[key] = secrets.randbelow(SEED_MAX + 1)  # never the global RNG


def seed_input(key: str, *, help: str = SEED_HELP, new_seed: bool = True) -> int:  # noqa: A002 (Streamlit's name)
    """The seed (0 until changed) in `st.session_state[key]`, with a "New seed" button beside it: an icon (a
    die) with a tooltip, so it fits a narrow column (a worded label was cut to "N." at 1400 px)."""
    st.session_state.setdefault(key, 0)
    if not new_seed:
        return int(st.number_input("Seed", 0, SEED_MAX, step=1, key=key, help=help))
    seed_col, button_col = st.columns([5, 1], vertical_alignment="bottom", gap="small")
    seed = seed_col.number_input("Seed", 0, SEED_MAX, step=1, key=key, help=help)
    button_col.button("", on_click=_new_seed, args=(key,), icon=":material/casino:", key=f"{key}_new",
                      help="New seed: pick a random one")
    return int(seed)


# ---- a piece: held out, or uploaded -------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """A piece the user chose: a held-out piece of the model's corpus, or an uploaded music file."""
    source: str  # HELDOUT | UPLOAD
    label: str  # the held-out piece id, or the uploaded file's name
    notes: NoteSequence | None = None  # the upload's notes; the held-out piece's when loaded

    @property
    def primer(self) -> str:
        """The Request's primer spec for this piece (`test:<id>` or `file:<name>`)."""
        return f"{self.source}:{self.label}"


@st.cache_data(show_spinner=False, max_entries=8)
def _parse_upload(data: bytes, name: str) -> NoteSequence:
    seq, count = read_first(data, name)
    if count > 1:  # a multi-tune ABC file: its first readable tune, and the page says which
        seq = seq.with_meta(upload_note=f"the first readable of its {count} tunes, {seq.name.rpartition('#')[2]}")
    return seq


def parse_upload(uploaded) -> NoteSequence | None:
    """An `st.file_uploader` file (MIDI, ABC or MusicXML; a multi-tune ABC file gives its first readable
    tune, noted in meta `upload_note`) → NoteSequence, or None after an `st.error` naming the problem."""
    if uploaded is None:
        return None
    return attempt("read the uploaded file", _parse_upload, uploaded.getvalue(), uploaded.name)


def source_choice(label: str, *, key: str, options: dict[str, str] = SOURCES, help: str | None = None) -> str:  # noqa: A002
    """Where the piece comes from: one of `options` (HELDOUT, UPLOAD, and any the caller adds)."""
    return st.radio(label, list(options), format_func=options.get, horizontal=True, key=key, help=help)


def piece_input(corpus: str, source: str, *, piece_key: str, file_key: str, upload_hint: str,
                no_pieces: str = "upload a music file instead",
                heldout_label: str = "Held-out piece (never seen in training)",
                index: int = 0, load: bool = True) -> Piece | None:
    """The held-out piece (a select box over `corpus`'s test split) or the upload `source` names;
    None, after saying why, until there is one. `load`: also read the held-out piece's notes."""
    if source == HELDOUT:
        ids = attempt("list the held-out pieces", heldout_ids, corpus)
        if not ids:
            if ids is not None:
                st.error(f"{corpus} has no held-out pieces; {no_pieces}.")
            return None
        piece_id = st.selectbox(heldout_label, ids, index=index % len(ids), key=piece_key)
        if not load:
            return Piece(HELDOUT, piece_id)
        notes = attempt("load the held-out piece", heldout_piece, corpus, piece_id)
        return Piece(HELDOUT, piece_id, notes) if notes is not None else None
    uploaded = st.file_uploader("MIDI, ABC or MusicXML file", type=UPLOAD_TYPES, key=file_key)
    upload = parse_upload(uploaded)
    if upload is None:
        if uploaded is None:
            st.info(upload_hint)
        return None
    note = upload.meta_dict().get("upload_note")
    st.caption(f"Read {len(upload)} notes, {upload.duration:.1f} s from {uploaded.name}"
               + (f" ({note})." if note else "."))
    return Piece(UPLOAD, uploaded.name, upload)


# ---- audio ------------------------------------------------------------------------------------------
def clip_audio(seq: NoteSequence) -> bytes | None:
    """The clip as OGG for a player; None (after a warning with the install command) when there is no audio."""
    ok, message = synth_available()
    if not ok:
        st.warning(f"Audio is off on this server: {message}. The piano roll and the MIDI download still work.",
                   icon=":material/volume_off:")
        return None
    with st.spinner("Rendering audio…"):
        return attempt("render the audio", audio_bytes, seq, "ogg")


def show_audio(seq: NoteSequence) -> bool:
    """The OGG player; False (after a warning with the install command) when there is no audio."""
    ogg = clip_audio(seq)
    if ogg is None:
        return False
    st.audio(ogg, format="audio/ogg")
    return True
