"""musicgen.plots: piano roll and loss figures are plain plotly figures with the right content."""

from __future__ import annotations

import time

import numpy as np
import plotly.graph_objects as go
import pytest

from musicgen import plots
from musicgen.sequence import Note, NoteSequence


def _seq(n: int = 8) -> NoteSequence:
    return NoteSequence(notes=tuple(
        Note(start=i * 0.5, pitch=60 + (i % 5), end=i * 0.5 + 0.4, velocity=40 + 10 * i % 87) for i in range(n)
    ))


def _annotation_texts(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


@pytest.mark.parametrize("pitch,name", [(60, "C4"), (61, "C#4"), (21, "A0"), (69, "A4"), (0, "C-1"), (127, "G9")])
def test_note_name(pitch, name):
    assert plots.note_name(pitch) == name


def test_piano_roll_one_trace_without_primer():
    seq = _seq()
    fig = plots.piano_roll_figure(seq, title="sample")
    assert isinstance(fig, go.Figure) and len(fig.data) == 1
    bars = fig.data[0]
    assert bars.type == "bar" and bars.orientation == "h" and bars.name == "generated"
    assert len(bars.y) == len(seq) and list(bars.y) == seq.pitches
    assert np.allclose(bars.base, [n.start for n in seq.notes])
    assert np.allclose(bars.x, [n.duration for n in seq.notes])
    assert fig.layout.title.text == "sample" and fig.layout.barmode == "overlay"


def test_piano_roll_primer_and_generated_in_two_colours():
    seq = _seq(10)
    fig = plots.piano_roll_figure(seq, primer_notes=3)
    primer, generated = fig.data
    assert (primer.name, generated.name) == ("primer", "generated")
    assert len(primer.y) == 3 and len(generated.y) == 7
    assert list(primer.y) == [n.pitch for n in seq.notes[:3]]  # the first notes in seq.notes order
    assert primer.marker.color != generated.marker.color
    assert fig.layout.showlegend


def test_piano_roll_primer_count_is_clamped():
    assert [t.name for t in plots.piano_roll_figure(_seq(4), primer_notes=99).data] == ["primer"]
    assert [t.name for t in plots.piano_roll_figure(_seq(4), primer_notes=-1).data] == ["generated"]


def test_piano_roll_hover_names_the_note():
    seq = NoteSequence(notes=(Note(start=1.25, pitch=60, end=1.75, velocity=99),))
    bars = plots.piano_roll_figure(seq).data[0]
    text = bars.hovertext[0]
    assert "C4" in text and "1.25 s" in text and "0.50 s" in text and "99" in text
    assert "%{hovertext}" in bars.hovertemplate


def test_piano_roll_ranges_and_pitch_labels():
    fig = plots.piano_roll_figure(_seq(), time_range=(1.0, 3.0), pitch_range=(48, 72))
    assert tuple(fig.layout.xaxis.range) == (1.0, 3.0)
    assert tuple(fig.layout.yaxis.range) == (47.5, 72.5)
    assert list(fig.layout.yaxis.ticktext) == ["C3", "C4", "C5"]


def test_piano_roll_empty_sequence_is_annotated():
    fig = plots.piano_roll_figure(NoteSequence(), title="nothing yet")
    assert len(fig.data) == 0 and _annotation_texts(fig) == ["no notes"]


def test_piano_roll_thousand_notes_stays_two_traces_and_fast():
    rng = np.random.default_rng(0)
    seq = NoteSequence(notes=tuple(
        Note(start=i * 0.1, pitch=int(rng.integers(30, 90)), end=i * 0.1 + 0.3, velocity=int(rng.integers(1, 128)))
        for i in range(1000)
    ))
    start = time.perf_counter()
    fig = plots.piano_roll_figure(seq, primer_notes=100)
    fig.to_json()
    assert time.perf_counter() - start < 2.0
    assert len(fig.data) == 2 and sum(len(t.y) for t in fig.data) == 1000


HISTORY = {"records": [
    {"step": 0, "seconds": 0.0, "train_loss": 3.0, "valid_loss": None, "tag": "warmup"},
    {"step": 100, "seconds": 5.0, "train_loss": 2.0, "valid_loss": 2.5},
    {"step": 200, "seconds": 10.0, "train_loss": 1.5, "valid_loss": 2.2, "kl_loss": 0.3, "stopped": True, "epoch": 1},
]}


def test_loss_curve_one_line_per_loss_key():
    fig = plots.loss_curve_figure(HISTORY, title="lstm")
    lines = {t.name: t for t in fig.data}  # legends in words, not keys
    assert set(lines) == {"training", "held-out", "KL to the prior"}  # not step/seconds/tag/stopped/epoch
    assert list(lines["training"].x) == [0, 100, 200]
    assert list(lines["held-out"].x) == [100, 200] and list(lines["held-out"].y) == [2.5, 2.2]  # None skipped
    assert list(lines["KL to the prior"].x) == [200]
    assert fig.layout.title.text == "lstm"
    assert_legend_below(fig)


def assert_legend_below(fig):
    """The legend sits at the bottom of the figure (horizontal), where it cannot cover the title."""
    legend = fig.layout.legend
    assert legend.orientation == "h" and legend.yref == "container" and legend.y == 0 and legend.yanchor == "bottom"
    assert fig.layout.margin.b >= 60  # room for the x axis and the legend under it


def test_loss_curve_against_seconds_and_gan_parts_together():
    gan = {"records": [{"step": s, "seconds": s / 10, "g_loss": 1.0 + s, "d_loss": 0.7} for s in range(5)]}
    fig = plots.loss_curve_figure(gan, x="seconds")
    assert {t.name for t in fig.data} == {"generator", "critic"}
    assert list(fig.data[0].x) == [0.0, 0.1, 0.2, 0.3, 0.4]
    with pytest.raises(ValueError, match="x must be"):
        plots.loss_curve_figure(gan, x="epoch")


@pytest.mark.parametrize("history", [{}, {"records": []}, None, {"records": [{"step": 0, "valid_loss": None}]}])
def test_loss_curve_empty_is_annotated(history):
    fig = plots.loss_curve_figure(history)
    assert len(fig.data) == 0 and _annotation_texts(fig) == ["no training history"]


def test_overlay_one_line_per_checkpoint():
    other = {"records": [{"step": 50, "seconds": 1.0, "train_loss": 2.0, "valid_loss": 2.9}]}
    no_valid = {"records": [{"step": 50, "seconds": 1.0, "train_loss": 2.0}]}
    fig = plots.overlay_loss_figure({"lstm": HISTORY, "transformer": other, "gan": no_valid})
    assert [t.name for t in fig.data] == ["lstm", "transformer"]
    assert list(fig.data[0].y) == [2.5, 2.2]
    train = plots.overlay_loss_figure({"lstm": HISTORY, "gan": no_valid}, key="train_loss", x="seconds")
    assert [t.name for t in train.data] == ["lstm", "gan"] and list(train.data[1].x) == [1.0]
    assert train.layout.yaxis.title.text == "training loss"
    assert_legend_below(train)


def test_overlay_empty_is_annotated():
    fig = plots.overlay_loss_figure({"a": {"records": []}})
    assert len(fig.data) == 0 and _annotation_texts(fig) == ["no held-out loss recorded"]
    assert len(plots.overlay_loss_figure({}).data) == 0


def test_adversarial_figure_draws_the_critics_verdicts():
    from musicgen.plots import adversarial_figure, has_adversarial_stats

    history = {"records": [{"step": 25, "d_loss": 1.2, "d_real": 0.6, "d_fake": 0.3, "fake_spread": 1.1},
                           {"step": 50, "d_loss": 1.1, "d_real": 0.7, "d_fake": 0.2, "fake_spread": 0.9}]}
    assert has_adversarial_stats(history) and not has_adversarial_stats({"records": [{"step": 1, "train_loss": 2}]})
    fig = adversarial_figure(history)
    assert len(fig.data) == 3 and list(fig.data[0].y) == [0.6, 0.7]
    assert not any("_" in t.name or "P(real)" in t.name for t in fig.data)  # words, not keys
    assert_legend_below(fig)
    assert adversarial_figure({"records": []}).layout.annotations  # an empty figure says so


def test_the_chance_label_sits_inside_the_plot_at_the_bottom():
    # At plotly's default ("top right") the label of the vertical chance line sat above the plot area, over
    # the title and, on the Results page, under Streamlit's top bar.
    from musicgen.listening.stats import PairResult, proportion
    from musicgen.plots_listening import pair_win_rates_figure

    pair = PairResult(a="x", b="y", wins_a=7, wins_b=3, ties=1, a_rate=proportion(7, 10))
    [label] = [a for a in pair_win_rates_figure([pair], title="Win rates").layout.annotations
               if a.text == "chance (50 %)"]
    assert (label.y, label.yanchor, label.yref) == (0, "bottom", "y domain")
