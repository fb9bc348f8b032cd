"""Plotly figures for evaluation numbers and sweeps, as pure functions (no Streamlit here).

A card's `evaluation` holds a model's set-level numbers against the held-out real pieces
(`overlap_mean`, `c2st_accuracy`, `nll_per_token`, per-feature `features`) and, in `real_vs_train`,
the same numbers for the real test pieces against the training pieces: the level a perfect model
would reach with this many samples. The charts draw that level as a band between the ideal value
and the real-data value, so a model inside the band is as close to real music as real music is.

Like `plots.py`, every function returns a new `go.Figure`, and empty input gives an annotated figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import textwrap

import plotly.graph_objects as go

from musicgen.plots import (TEMPLATE, curve_layout, empty_figure, history_points, history_records, is_number,
                            legend_below, line_trace)

MODEL_COLOR = "#e4572e"  # the generated music (as in the piano roll)
REAL_COLOR = "#2e86ab"  # the real-data level
BAND_COLOR = "rgba(46, 134, 171, 0.15)"
NOT_EVALUATED = "not evaluated yet"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str  # plain words, for charts and tables
    ideal: float | None  # the value of a model indistinguishable from real music (None: no such value)
    better: str  # "higher" or "lower"
    help: str
    axis: tuple[float, float] | None = None  # fixed y range for bounded metrics


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("overlap_mean", "Overlap with real music", 1.0, "higher",
           "Mean overlapping area of the feature distributions (MGEval): 1 = indistinguishable from the real pieces.",
           (0.0, 1.05)),
    Metric("c2st_accuracy", "Classifier accuracy", 0.5, "lower",
           "How often a small classifier tells generated from real pieces: 0.5 = it cannot tell them apart.",
           (0.0, 1.05)),
    Metric("kl_mean", "Feature KL divergence", 0.0, "lower",
           "Mean KL divergence between the generated and real feature-distance distributions: 0 = the same."),
    Metric("nll_per_token", "Held-out NLL per token", None, "lower",
           "Surprise at the real test pieces, in nats per token (likelihood models only; comparable only "
           "between models with the same note encoding)."),
)}


def metric_value(evaluation: Mapping | None, key: str) -> float | None:
    value = (evaluation or {}).get(key)
    return float(value) if is_number(value) else None


def real_value(evaluation: Mapping | None, key: str) -> float | None:
    """The real test pieces' value against the training pieces (the ceiling), or None."""
    real = (evaluation or {}).get("real_vs_train")
    return metric_value(real if isinstance(real, Mapping) else None, key)


def _number(value: Any) -> str:
    return f"{value:.3g}" if is_number(value) else "—"


def summary_rows(evaluation: Mapping | None) -> list[dict[str, str]]:
    """One row per summary metric present: its plain label, this model, real pieces, ideal; plus the
    untrained network's value where the evaluation has one (GANs) and the variety between samples."""
    untrained = (evaluation or {}).get("untrained")
    untrained = untrained if isinstance(untrained, Mapping) else None
    rows = []
    for metric in METRICS.values():
        model, real = metric_value(evaluation, metric.key), real_value(evaluation, metric.key)
        if model is None and real is None:
            continue
        row = {"metric": metric.label, "this model": _number(model)}
        if untrained is not None:
            row["untrained network"] = _number(metric_value(untrained, metric.key))
        rows.append({**row, "real pieces": _number(real), "ideal": _number(metric.ideal)})
    diversity = (evaluation or {}).get("diversity")
    if isinstance(diversity, Mapping):
        row = {"metric": "Variety between samples (0 = all the same)",
               "this model": _number(diversity.get("mean_pairwise_roll_distance"))}
        if untrained is not None:
            row["untrained network"] = "—"
        rows.append({**row, "real pieces": _number(diversity.get("real_mean_pairwise_roll_distance")),
                     "ideal": "—"})
    return rows


def row_line(row: Mapping[str, str]) -> str:
    """A table row as one markdown line that wraps in a narrow column: '**metric**: this model 0.64 ·
    real pieces 0.91 · ideal 1' (the first column is the label; dashes are left out)."""
    (_, label), *cells = row.items()
    values = " · ".join(f"{k} {v}" for k, v in cells if v != "—")
    return f"**{label}**: {values or '—'}"


def comparison_rows(evaluations: Mapping[str, Mapping | None]) -> list[dict[str, str]]:
    """One row per summary metric that some model has: each model's value (dict key = column name, e.g.
    its title), the real pieces' level (one value when the models share it, else per model) and the ideal."""
    rows = []
    for metric in METRICS.values():
        values = {name: metric_value(e, metric.key) for name, e in evaluations.items()}
        reals = [r for e in evaluations.values() if (r := real_value(e, metric.key)) is not None]
        if all(v is None for v in values.values()) and not reals:
            continue
        shared = {_number(r) for r in reals}
        rows.append({"metric": metric.label, **{n: _number(v) for n, v in values.items()},
                     "real pieces": shared.pop() if len(shared) == 1 else " / ".join(_number(r) for r in reals) or "—",
                     "ideal": _number(metric.ideal), "better": metric.better})
    return rows


def feature_rows(evaluation: Mapping | None) -> list[dict[str, str]]:
    """One row per feature: overlap and KL against the real pieces, means, and the real-data overlap."""
    features = (evaluation or {}).get("features")
    real = ((evaluation or {}).get("real_vs_train") or {}).get("features") or {}
    if not isinstance(features, Mapping):
        return []
    rows = []
    for name, numbers in features.items():
        numbers = numbers if isinstance(numbers, Mapping) else {}
        ceiling = real.get(name) if isinstance(real.get(name), Mapping) else {}
        rows.append({"feature": name.replace("_", " "), "overlap": _number(numbers.get("oa")),
                     "overlap (real pieces)": _number(ceiling.get("oa")), "KL": _number(numbers.get("kl")),
                     "mean": _number(numbers.get("generated_mean")), "real mean": _number(numbers.get("real_mean"))})
    return rows


def wrap_label(text: str, width: int = 14, lines: int = 4) -> str:
    """A long axis label broken into short lines (`<br>`), at most `lines` of them (the rest as '…')."""
    parts = textwrap.wrap(str(text), width) or [""]
    if len(parts) > lines:
        parts = parts[:lines]
        parts[-1] = parts[-1][: width - 1] + "…"
    return "<br>".join(parts)


def metric_comparison_figure(
    evaluations: Mapping[str, Mapping | None], metric: str, *, title: str = "", height: int = 360
) -> go.Figure:
    """One bar per model (dict key = its label, e.g. the model's title) for one summary metric, with each
    model's real-data band.

    The band runs from the metric's ideal value to what the real test pieces reach against the training
    pieces; a dashed line marks the ideal (named in the legend, not written on the bars). Labels are
    wrapped onto short lines so that four of them fit under a quarter-width chart. Models without the
    number get no bar.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {tuple(METRICS)}, got {metric!r}")
    spec = METRICS[metric]
    names = [wrap_label(n) for n in evaluations]
    values = [metric_value(e, metric) for e in evaluations.values()]
    reals = [real_value(e, metric) for e in evaluations.values()]
    if all(v is None for v in values + reals):
        return empty_figure(NOT_EVALUATED, title or spec.label, height)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=values, name="model", marker_color=MODEL_COLOR, width=0.5,
                         hovertemplate="%{x}: %{y:.3g}<extra></extra>"))
    if any(r is not None for r in reals):
        fig.add_trace(go.Scatter(x=names, y=reals, name="real pieces (test vs train)", mode="markers",
                                 marker=dict(symbol="diamond", size=11, color=REAL_COLOR),
                                 hovertemplate="real pieces: %{y:.3g}<extra></extra>"))
    if spec.ideal is not None:
        for i, real in enumerate(reals):
            if real is not None:
                fig.add_shape(type="rect", x0=i - 0.45, x1=i + 0.45, y0=spec.ideal, y1=real, xref="x", yref="y",
                              fillcolor=BAND_COLOR, line=dict(width=0), layer="below")
        fig.add_hline(y=spec.ideal, line=dict(dash="dash", color="#888", width=1))
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"ideal {spec.ideal:g}",
                                 line=dict(dash="dash", color="#888", width=1), hoverinfo="skip"))
    lines = max(label.count("<br>") + 1 for label in names)
    fig.update_layout(template=TEMPLATE, title=dict(text=title or spec.label), height=height + 14 * lines,
                      yaxis=dict(title=dict(text=f"{spec.better} is better"), range=spec.axis),
                      xaxis=dict(type="category", tickangle=0, automargin=True),
                      margin=dict(l=50, r=10, t=50))
    return legend_below(fig, bottom=30 + 14 * lines)


def feature_overlap_figure(evaluation: Mapping | None, *, title: str = "", height: int | None = None) -> go.Figure:
    """Per feature: the model's overlap with the real pieces (bar) and the real pieces' own (diamond)."""
    features = (evaluation or {}).get("features")
    names = [n for n, v in features.items() if isinstance(v, Mapping)] if isinstance(features, Mapping) else []
    if not names:
        return empty_figure(NOT_EVALUATED, title, height)
    real = ((evaluation or {}).get("real_vs_train") or {}).get("features") or {}
    labels = [n.replace("_", " ") for n in names]
    oa = [metric_value(features[n], "oa") for n in names]
    hover = [f"KL {_number(features[n].get('kl'))}<br>mean {_number(features[n].get('generated_mean'))}"
             f" (real {_number(features[n].get('real_mean'))})" for n in names]
    fig = go.Figure(go.Bar(y=labels, x=oa, orientation="h", name="model", marker_color=MODEL_COLOR,
                           hovertext=hover, hovertemplate="%{y}: overlap %{x:.3g}<br>%{hovertext}<extra></extra>"))
    ceiling = [metric_value(real.get(n) if isinstance(real, Mapping) else None, "oa") for n in names]
    if any(c is not None for c in ceiling):
        fig.add_trace(go.Scatter(y=labels, x=ceiling, mode="markers", name="real pieces (test vs train)",
                                 marker=dict(symbol="diamond", size=9, color=REAL_COLOR),
                                 hovertemplate="%{y}: real pieces %{x:.3g}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=height or 160 + 22 * len(names),
                      xaxis=dict(title=dict(text="overlap with real pieces (1 = same)"), range=[0, 1.05]),
                      yaxis=dict(autorange="reversed"), barmode="overlay",
                      margin=dict(l=10, r=10, t=50 if title else 30, b=40))
    return legend_below(fig, bottom=45)


# ---- hyperparameter sweeps ---------------------------------------------------------------------


def sweep_label(entry: Mapping) -> str:
    """A sweep entry's legend name: its `label`, else its setting as `lr=0.001, units=256`."""
    if entry.get("label"):
        return str(entry["label"])
    setting = entry.get("setting") if isinstance(entry.get("setting"), Mapping) else {}
    return ", ".join(f"{k}={v:g}" if is_number(v) else f"{k}={v}" for k, v in setting.items()) or "run"


def sweep_runs(history: Mapping | None) -> dict[str, dict]:
    """`history["sweep"]` as {label: {"records": [...], "setting": {...}}}; labels made unique."""
    sweep = (history or {}).get("sweep") if isinstance(history, Mapping) else None
    runs: dict[str, dict] = {}
    for entry in sweep if isinstance(sweep, list) else []:
        if not isinstance(entry, Mapping):
            continue
        label, n = sweep_label(entry), 2
        while label in runs:
            label, n = f"{sweep_label(entry)} #{n}", n + 1
        runs[label] = {"records": history_records(entry), "setting": dict(entry.get("setting") or {})}
    return runs


def sweep_rows(history: Mapping | None, key: str = "valid_loss") -> list[dict[str, Any]]:
    """One row per setting: its values, the last and the best `key`."""
    rows = []
    for label, run in sweep_runs(history).items():
        _, ys = history_points(run["records"], "step", key)
        rows.append({"run": label, **run["setting"],
                     f"last {key}": _number(ys[-1]) if ys else "—", f"best {key}": _number(min(ys)) if ys else "—"})
    return rows


def sweep_figure(history: Mapping | None, key: str = "valid_loss", x: str = "step", *, title: str = "") -> go.Figure:
    """One line per sweep setting for one loss key (against steps or seconds)."""
    if x not in ("step", "seconds"):
        raise ValueError(f"x must be one of ('step', 'seconds'), got {x!r}")
    fig = go.Figure()
    for label, run in sweep_runs(history).items():
        xs, ys = history_points(run["records"], x, key)
        if xs:
            fig.add_trace(line_trace(xs, ys, label))
    if not fig.data:
        return empty_figure(f"no {key} in the sweep", title)
    return curve_layout(fig, title, x, key)
