"""Plotly figures as pure functions: piano roll, loss curves, loss overlays (no Streamlit here).

Every function returns a new `go.Figure`; empty inputs give a figure with an explanatory annotation
rather than an error, so pages can show whatever they have.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np
import plotly.graph_objects as go

from musicgen.sequence import NoteSequence

PITCH_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
PRIMER_COLOR = "#7f8c9b"  # slate grey: the notes the model was given
GENERATED_COLOR = "#e4572e"  # orange-red: the notes the model wrote
TEMPLATE = "plotly_white"
_X_KEYS = ("step", "seconds")
LOSS_LABELS = {  # a history's loss keys in the words a legend shows
    "train_loss": "training",
    "valid_loss": "held-out",
    "g_loss": "generator",
    "d_loss": "critic",
    "recon_loss": "reconstruction",
    "kl_loss": "KL to the prior",
}


def loss_label(key: str) -> str:
    """A loss key in plain words for a legend or an axis: 'valid_loss' -> 'held-out'."""
    return LOSS_LABELS.get(key, key.replace("_", " "))


def legend_below(fig: go.Figure, *, bottom: int = 40) -> go.Figure:
    """A horizontal legend under the plot, at the bottom of the figure (so it can never cover the title,
    however many rows it wraps to in a narrow column); `bottom` is the margin the x axis needs above it."""
    fig.update_layout(legend=dict(orientation="h", xanchor="left", x=0, yref="container", yanchor="bottom", y=0,
                                  entrywidth=0, font=dict(size=11)),
                      margin=dict(b=bottom + 24 * _legend_rows(fig)))
    return fig


def _legend_rows(fig: go.Figure) -> int:
    """About how many rows a horizontal legend needs in a quarter-width column (two entries a row)."""
    shown = [t for t in fig.data if t.showlegend is not False and t.name]
    return max(1, math.ceil(len(shown) / 2)) if shown else 0


def note_name(pitch: int) -> str:
    """MIDI pitch -> scientific pitch name with sharps: 60 -> 'C4', 61 -> 'C#4', 21 -> 'A0'."""
    return f"{PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def empty_figure(message: str, title: str = "", height: int | None = None) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font=dict(size=16, color="#888"))
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=height,
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


# ---- piano roll --------------------------------------------------------------------------------


def _note_bars(notes, name: str, color: str) -> go.Bar:
    """All notes of one colour as one horizontal bar trace (fast for thousands of notes)."""
    hover = [
        f"{note_name(n.pitch)} (pitch {n.pitch})<br>start {n.start:.2f} s<br>"
        f"duration {n.duration:.2f} s<br>velocity {n.velocity}"
        for n in notes
    ]
    return go.Bar(
        orientation="h",
        base=np.array([n.start for n in notes]),
        x=np.array([n.duration for n in notes]),
        y=np.array([n.pitch for n in notes]),
        width=0.85,
        name=name,
        marker=dict(color=color, opacity=0.45 + 0.55 * np.array([n.velocity for n in notes]) / 127,
                    line=dict(width=0.5, color=color)),
        hovertext=hover,
        hovertemplate=f"%{{hovertext}}<extra>{name}</extra>",
    )


def piano_roll_figure(
    seq: NoteSequence,
    *,
    primer_notes: int = 0,
    title: str = "",
    time_range: tuple[float, float] | None = None,
    pitch_range: tuple[int, int] | None = None,
    height: int = 320,
) -> go.Figure:
    """Notes as horizontal bars (x = seconds, y = MIDI pitch, opacity = velocity).

    The first `primer_notes` notes of `seq.notes` are drawn as "primer", the rest as "generated";
    hovering a note shows its name (C4), start, duration and velocity.
    """
    if not seq.notes:
        return empty_figure("no notes", title, height)
    primer_notes = max(0, min(primer_notes, len(seq.notes)))
    primer, generated = seq.notes[:primer_notes], seq.notes[primer_notes:]
    fig = go.Figure()
    if primer:
        fig.add_trace(_note_bars(primer, "primer", PRIMER_COLOR))
    if generated:
        fig.add_trace(_note_bars(generated, "generated", GENERATED_COLOR))

    pitches = [n.pitch for n in seq.notes]
    low, high = pitch_range if pitch_range is not None else (max(0, min(pitches) - 2), min(127, max(pitches) + 2))
    c_pitches = [p for p in range(0, 128, 12) if low <= p <= high]
    ticks = c_pitches if len(c_pitches) >= 2 else list(range(low, high + 1, max(1, (high - low) // 6 or 1)))
    x_range = list(time_range) if time_range is not None else [0.0, seq.duration * 1.01]
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title),
        height=height,
        barmode="overlay",
        bargap=0,
        showlegend=bool(primer) and bool(generated),
        margin=dict(l=50, r=10, t=50 if title else 30, b=40),
        xaxis=dict(title=dict(text="time (s)"), range=x_range, zeroline=False),
        yaxis=dict(title=dict(text="pitch"), range=[low - 0.5, high + 0.5], tickvals=ticks,
                   ticktext=[note_name(p) for p in ticks], zeroline=False),
        hoverlabel=dict(align="left"),
    )
    return legend_below(fig, bottom=40) if primer and generated else fig


def shared_pitch_range(seqs, pad: int = 2) -> tuple[int, int] | None:
    """One pitch axis for several piano rolls shown together (lowest - pad .. highest + pad, within 0-127);
    None when none of them has a note (each roll then picks its own)."""
    pitches = [p for s in seqs for p in s.pitches]
    return (max(0, min(pitches) - pad), min(127, max(pitches) + pad)) if pitches else None


# ---- training curves ---------------------------------------------------------------------------


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def history_records(history: Mapping | list | None) -> list[dict]:
    if not history:
        return []
    records = history.get("records", []) if isinstance(history, Mapping) else history
    return [r for r in records if isinstance(r, Mapping)]


def history_points(records: list[dict], x: str, key: str) -> tuple[list[float], list[float]]:
    pairs = [(r[x], r[key]) for r in records if is_number(r.get(x)) and is_number(r.get(key))]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def _check_x(x: str) -> None:
    if x not in _X_KEYS:
        raise ValueError(f"x must be one of {_X_KEYS}, got {x!r}")


def line_trace(xs: list[float], ys: list[float], name: str) -> go.Scatter:
    return go.Scatter(x=xs, y=ys, name=name, mode="lines+markers" if len(xs) <= 50 else "lines")


def curve_layout(fig: go.Figure, title: str, x: str, y_title: str) -> go.Figure:
    fig.update_layout(
        template=TEMPLATE,
        title=dict(text=title),
        hovermode="x unified",
        xaxis=dict(title=dict(text="step" if x == "step" else "seconds of training")),
        yaxis=dict(title=dict(text=y_title)),
        margin=dict(l=50, r=10, t=50 if title else 30, b=40),
    )
    return legend_below(fig, bottom=45)


def loss_curve_figure(history: Mapping | None, *, x: str = "step", title: str = "") -> go.Figure:
    """One line per loss key of `history["records"]` (a key containing "loss": train_loss,
    valid_loss, a GAN's g_loss and d_loss together); counters such as epoch are not losses and are
    left out; None, NaN and missing values are skipped."""
    _check_x(x)
    records = history_records(history)
    keys: list[str] = []
    for record in records:
        keys += [k for k, v in record.items() if "loss" in k and k not in keys and is_number(v)]
    return _records_figure(records, {k: loss_label(k) for k in keys}, x=x, title=title, y_title="loss",
                           empty="no training history")


def _records_figure(records: list[dict], labels: Mapping[str, str], *, x: str, title: str, y_title: str,
                    empty: str) -> go.Figure:
    """One line per history key (legend: its label); a figure saying `empty` when none has points."""
    fig = go.Figure()
    for key, label in labels.items():
        xs, ys = history_points(records, x, key)
        if xs:
            fig.add_trace(line_trace(xs, ys, label))
    if not fig.data:
        return empty_figure(empty, title)
    return curve_layout(fig, title, x, y_title)


ADVERSARIAL_KEYS = {  # a GAN's training statistics (models/adversarial.py) → what they mean
    "d_real": "critic's belief that real windows are real",
    "d_fake": "critic's belief that generated windows are real",
    "fake_spread": "variety of generated ÷ real batch (near 0: collapse)",
    "valid_overlap": "overlap with validation pieces (best one ships)",
}


def has_adversarial_stats(history: Mapping | None) -> bool:
    return any(k in r for r in history_records(history) for k in ADVERSARIAL_KEYS)


def adversarial_figure(history: Mapping | None, *, x: str = "step", title: str = "") -> go.Figure:
    """The tug of war of a GAN: how sure the critic is of real and generated windows, and how varied
    the generator's batch is compared with the real one."""
    _check_x(x)
    return _records_figure(history_records(history), ADVERSARIAL_KEYS, x=x, title=title, y_title="value",
                           empty="no adversarial statistics recorded")


def overlay_loss_figure(
    histories: Mapping[str, Mapping], key: str = "valid_loss", x: str = "step", *, title: str = ""
) -> go.Figure:
    """One line per checkpoint (dict key = legend name) for one history key, to compare runs."""
    _check_x(x)
    fig = go.Figure()
    for name, history in histories.items():
        xs, ys = history_points(history_records(history), x, key)
        if xs:
            fig.add_trace(line_trace(xs, ys, str(name)))
    if not fig.data:
        return empty_figure(f"no {loss_label(key)} loss recorded", title)
    return curve_layout(fig, title, x, f"{loss_label(key)} loss")
