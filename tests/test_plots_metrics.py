"""musicgen.plots_metrics: evaluation charts against the real-data band, and sweep curves."""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from musicgen import plots_metrics as pm

EVAL = {
    "n_samples": 16, "overlap_mean": 0.7, "c2st_accuracy": 0.8, "nll_per_token": 2.4,
    "features": {"pitch_range": {"oa": 0.6, "kl": 0.2, "generated_mean": 20.0, "real_mean": 24.0},
                 "pitch_class_histogram": {"oa": 0.5, "kl": 0.3, "generated_mean": [0.1, 0.2], "real_mean": None}},
    "real_vs_train": {"overlap_mean": 0.9, "c2st_accuracy": 0.55,
                      "features": {"pitch_range": {"oa": 0.95}}},
}


def _annotations(fig: go.Figure) -> list[str]:
    return [a.text for a in fig.layout.annotations]


def test_metric_comparison_bars_markers_and_bands():
    other = {"overlap_mean": 0.4, "real_vs_train": {"overlap_mean": 0.8}}
    fig = pm.metric_comparison_figure({"lstm": EVAL, "markov": other, "new": {}}, "overlap_mean")
    bars, real, ideal = fig.data
    assert list(bars.x) == ["lstm", "markov", "new"] and list(bars.y) == [0.7, 0.4, None]
    assert list(real.y) == [0.9, 0.8, None]
    bands = [s for s in fig.layout.shapes if s.type == "rect"]  # ideal 1 .. each model's real level
    assert [(b.y0, b.y1) for b in bands] == [(1.0, 0.9), (1.0, 0.8)]
    assert ideal.name == "ideal 1" and not _annotations(fig)  # named in the legend, not written on the bars
    assert fig.layout.title.text == "Overlap with real music"
    assert fig.layout.legend.yref == "container" and fig.layout.legend.y == 0  # below, never over the title


def test_metric_comparison_wraps_long_titles():
    long = "Transformer variational autoencoder (piano roll, negative result)"
    fig = pm.metric_comparison_figure({long: EVAL, "Markov chain (baseline)": EVAL}, "overlap_mean")
    labels = list(fig.data[0].x)
    assert all(len(line) <= 14 for label in labels for line in label.split("<br>"))
    assert labels[1] == "Markov chain<br>(baseline)" and labels[0].count("<br>") <= 3
    assert fig.layout.xaxis.tickangle == 0


def test_comparison_rows_and_row_lines():
    other = {"overlap_mean": 0.4, "real_vs_train": {"overlap_mean": 0.9}}
    rows = pm.comparison_rows({"LSTM": EVAL, "Markov": other})
    overlap = next(r for r in rows if r["metric"] == "Overlap with real music")
    assert overlap == {"metric": "Overlap with real music", "LSTM": "0.7", "Markov": "0.4", "real pieces": "0.9",
                       "ideal": "1", "better": "higher"}
    line = pm.row_line({"metric": "Overlap with real music", "this model": "0.7", "real pieces": "0.9", "ideal": "—"})
    assert line == "**Overlap with real music**: this model 0.7 · real pieces 0.9"


def test_metric_without_ideal_has_no_band():
    fig = pm.metric_comparison_figure({"lstm": EVAL}, "nll_per_token", title="NLL")
    assert len(fig.data) == 1 and not fig.layout.shapes and fig.layout.title.text == "NLL"


@pytest.mark.parametrize("evaluations", [{}, {"a": {}}, {"a": None}, {"a": {"overlap_mean": float("nan")}}])
def test_metric_comparison_empty_is_annotated(evaluations):
    fig = pm.metric_comparison_figure(evaluations, "c2st_accuracy")
    assert len(fig.data) == 0 and _annotations(fig) == ["not evaluated yet"]


def test_metric_comparison_rejects_unknown_metric():
    with pytest.raises(ValueError, match="metric must be one of"):
        pm.metric_comparison_figure({"a": EVAL}, "accuracy")


def test_feature_overlap_bars_and_real_level():
    fig = pm.feature_overlap_figure(EVAL, title="features")
    bars, real = fig.data
    assert list(bars.y) == ["pitch range", "pitch class histogram"] and list(bars.x) == [0.6, 0.5]
    assert list(real.x) == [0.95, None]
    assert "KL 0.2" in bars.hovertext[0] and "real 24" in bars.hovertext[0]
    assert tuple(fig.layout.xaxis.range) == (0, 1.05)
    assert _annotations(pm.feature_overlap_figure({})) == ["not evaluated yet"]


def test_summary_and_feature_rows():
    rows = pm.summary_rows(EVAL)
    assert [r["metric"] for r in rows] == ["Overlap with real music", "Classifier accuracy", "Held-out NLL per token"]
    assert pm.summary_rows({"kl_mean": 0.5})[0]["ideal"] == "0"
    assert rows[0] == {"metric": "Overlap with real music", "this model": "0.7", "real pieces": "0.9", "ideal": "1"}
    assert rows[2]["real pieces"] == "—" and rows[2]["ideal"] == "—"
    assert pm.summary_rows({}) == [] and pm.summary_rows(None) == []
    features = pm.feature_rows(EVAL)
    assert features[0]["overlap (real pieces)"] == "0.95" and features[1]["mean"] == "—"  # vectors not shown


SWEEP_HISTORY = {"records": [], "sweep": [
    {"setting": {"lr": 0.001, "units": 256}, "records": [{"step": 1, "seconds": 0.5, "valid_loss": 3.0},
                                                        {"step": 2, "seconds": 1.0, "valid_loss": 2.5}]},
    {"setting": {"lr": 0.001, "units": 256}, "records": [{"step": 1, "seconds": 0.4, "valid_loss": 2.8}]},
    {"setting": {"optimizer": "sgd"}, "label": "SGD", "records": [{"step": 1, "seconds": 0.3, "train_loss": 4.0}]},
]}


def test_sweep_one_line_per_setting():
    runs = pm.sweep_runs(SWEEP_HISTORY)
    assert list(runs) == ["lr=0.001, units=256", "lr=0.001, units=256 #2", "SGD"]
    fig = pm.sweep_figure(SWEEP_HISTORY, x="seconds")
    assert [t.name for t in fig.data] == ["lr=0.001, units=256", "lr=0.001, units=256 #2"]  # SGD has no valid_loss
    assert list(fig.data[0].x) == [0.5, 1.0]
    assert [t.name for t in pm.sweep_figure(SWEEP_HISTORY, "train_loss").data] == ["SGD"]
    rows = pm.sweep_rows(SWEEP_HISTORY)
    assert rows[0]["last valid_loss"] == "2.5" and rows[0]["units"] == 256 and rows[2]["best valid_loss"] == "—"


@pytest.mark.parametrize("history", [None, {}, {"records": []}, {"sweep": "oops"}, {"sweep": [1, None]}])
def test_sweep_empty_is_annotated(history):
    assert pm.sweep_runs(history) == {}
    assert _annotations(pm.sweep_figure(history)) == ["no valid_loss in the sweep"]
    with pytest.raises(ValueError, match="x must be"):
        pm.sweep_figure(history, x="epoch")


def test_summary_rows_show_the_untrained_network_and_variety():
    ev = {"overlap_mean": 0.66, "untrained": {"overlap_mean": 0.37, "c2st_accuracy": 1.0},
          "diversity": {"mean_pairwise_roll_distance": 0.76, "real_mean_pairwise_roll_distance": 0.92}}
    rows = pm.summary_rows(ev)
    assert rows[0]["metric"] == "Overlap with real music" and rows[0]["untrained network"] == "0.37"
    assert rows[-1]["this model"] == "0.76" and rows[-1]["real pieces"] == "0.92"
    assert "untrained network" not in pm.summary_rows({"overlap_mean": 0.5})[0]
