"""Plotly figures of a listening study's results (pure functions; no Streamlit, no store).

Inputs are the statistics of `musicgen.listening` (`PairResult`, `WinMatrix`, `RankedSystem`,
`Identification`); `names` optionally maps a system id to the label shown (default: the id). Empty
inputs give a figure with an explanatory annotation, never an error.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from musicgen.plots import TEMPLATE, empty_figure

CHANCE_COLOR = "#888"
BAR_COLOR = "#4c78a8"
NO_VOTES = "no votes yet"


def _name(system: str, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(system, system)


def _chance_line(fig: go.Figure, *, vertical: bool) -> None:
    # Label at the bottom, inside the plot: at the default "top right" a vertical line's label sat above the
    # plot area, over the title and the page's top bar.
    kwargs = dict(line_dash="dot", line_color=CHANCE_COLOR, annotation_text="chance (50 %)",
                  annotation_position="bottom right")
    (fig.add_vline if vertical else fig.add_hline)(0.5, **kwargs)


def _finite(x: float) -> bool:
    return x is not None and math.isfinite(x)


def pair_win_rates_figure(pairs, names: Mapping[str, str] | None = None, *, title: str = "") -> go.Figure:
    """One bar per compared pair: how often the first system beat the second among decisive votes,
    with its 95 % Wilson interval; hover shows wins, ties and the binomial test's p-value."""
    rows = [p for p in pairs if p.a_rate.n > 0]
    if not rows:
        return empty_figure(NO_VOTES if not pairs else "only 'no preference' votes so far", title)
    labels = [f"{_name(p.a, names)} vs {_name(p.b, names)}" for p in rows]
    rates = np.array([p.a_rate.rate for p in rows])
    hover = [f"{_name(p.a, names)} won {p.wins_a}, {_name(p.b, names)} won {p.wins_b}, {p.ties} no preference"
             f"<br>95 % interval {p.a_rate.low:.0%}–{p.a_rate.high:.0%}<br>binomial test p = {p.a_rate.p_value:.3g}"
             for p in rows]
    fig = go.Figure(go.Bar(
        orientation="h", x=rates, y=labels, marker_color=BAR_COLOR, hovertext=hover,
        hovertemplate="%{y}: %{x:.0%}<br>%{hovertext}<extra></extra>",
        error_x=dict(type="data", symmetric=False, array=[p.a_rate.high - p.a_rate.rate for p in rows],
                     arrayminus=[p.a_rate.rate - p.a_rate.low for p in rows])))
    _chance_line(fig, vertical=True)
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=120 + 50 * len(rows),
                      xaxis=dict(title=dict(text="share of decisive votes won by the first system"), range=[0, 1],
                                 tickformat=".0%"),
                      yaxis=dict(autorange="reversed"), margin=dict(l=10, r=10, t=60 if title else 30, b=40))
    return fig


def win_matrix_figure(matrix, names: Mapping[str, str] | None = None, *, title: str = "") -> go.Figure:
    """Heatmap: cell (row i, column j) = share of decisive votes between i and j won by i, with the
    counts written in the cell (blank where the two were never compared)."""
    k = len(matrix.systems)
    if k == 0 or not (matrix.wins.sum() + matrix.ties.sum()):
        return empty_figure(NO_VOTES, title)
    labels = [_name(s, names) for s in matrix.systems]
    rates = matrix.rates()
    total = matrix.wins + matrix.wins.T
    text = [["" if i == j or total[i, j] == 0 else f"{int(matrix.wins[i, j])}/{int(total[i, j])}"
             for j in range(k)] for i in range(k)]
    fig = go.Figure(go.Heatmap(
        z=np.where(np.isnan(rates), None, rates).tolist(), x=labels, y=labels, text=text,
        texttemplate="%{text}", zmin=0, zmax=1, colorscale="RdBu", colorbar=dict(title=dict(text="win rate"),
                                                                                   tickformat=".0%"),
        hovertemplate="%{y} beat %{x}: %{text} decisive votes (%{z:.0%})<extra></extra>", hoverongaps=False))
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=160 + 60 * k,
                      xaxis=dict(title=dict(text="against"), side="bottom"),
                      yaxis=dict(title=dict(text="winner"), autorange="reversed"),
                      margin=dict(l=10, r=10, t=60 if title else 30, b=40))
    return fig


def ranking_figure(ranking, names: Mapping[str, str] | None = None, *, title: str = "") -> go.Figure:
    """Bradley–Terry strengths (log scale, geometric mean 1), best on top, with bootstrap intervals."""
    rows = [r for r in ranking if _finite(r.strength) and r.votes > 0]
    if not rows:
        return empty_figure(NO_VOTES, title)
    strengths = np.array([r.strength for r in rows])
    low = np.array([r.low if _finite(r.low) else r.strength for r in rows])
    high = np.array([r.high if _finite(r.high) else r.strength for r in rows])
    labels = [f"{r.rank}. {_name(r.system, names)}" for r in rows]
    fig = go.Figure(go.Scatter(
        x=strengths, y=labels, mode="markers", marker=dict(size=12, color=BAR_COLOR),
        error_x=dict(type="data", symmetric=False, array=np.maximum(high - strengths, 0),
                     arrayminus=np.maximum(strengths - low, 0)),
        customdata=np.stack([low, high, [r.votes for r in rows]], axis=1),
        hovertemplate="%{y}: strength %{x:.2f}<br>95 % bootstrap interval %{customdata[0]:.2f}–"
                      "%{customdata[1]:.2f}<br>%{customdata[2]} votes<extra></extra>"))
    fig.add_vline(1.0, line_dash="dot", line_color=CHANCE_COLOR, annotation_text="average")
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=120 + 50 * len(rows),
                      xaxis=dict(type="log", title=dict(text="Bradley–Terry strength (P(i beats j) = "
                                                                "sᵢ / (sᵢ + sⱼ))")),
                      yaxis=dict(autorange="reversed"), margin=dict(l=10, r=10, t=60 if title else 30, b=40))
    return fig


def identification_figure(identification, names: Mapping[str, str] | None = None, *,
                          title: str = "") -> go.Figure:
    """How often listeners told the real music from each model's (50 %: no better than a coin), with
    95 % Wilson intervals; the first bar is all models together."""
    if identification is None or identification.overall.n == 0:
        return empty_figure("no votes involving real pieces yet", title)
    items = [("all", identification.overall)] + [(_name(s, names), p) for s, p in identification.by_system.items()
                                                 if p.n > 0]
    rates = np.array([p.rate for _, p in items])
    fig = go.Figure(go.Bar(
        x=[label for label, _ in items], y=rates, marker_color=BAR_COLOR,
        error_y=dict(type="data", symmetric=False, array=[p.high - p.rate for _, p in items],
                     arrayminus=[p.rate - p.low for _, p in items]),
        customdata=[[p.k, p.n, p.p_value] for _, p in items],
        hovertemplate="%{x}: %{y:.0%} right (%{customdata[0]} of %{customdata[1]})<br>"
                      "binomial test p = %{customdata[2]:.3g}<extra></extra>"))
    _chance_line(fig, vertical=False)
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=360,
                      yaxis=dict(title=dict(text="told person from machine correctly"), range=[0, 1],
                                 tickformat=".0%"),
                      margin=dict(l=10, r=10, t=60 if title else 30, b=40))
    return fig


def live_tally_figure(counts: Mapping[str, int], labels: Mapping[str, str], *, title: str = "") -> go.Figure:
    """A live vote's bars, one per answer in `counts` order, each with its count written above it (big
    enough to read from the back of a room)."""
    names = [labels.get(a, a) for a in counts]
    values = [int(v) for v in counts.values()]
    fig = go.Figure(go.Bar(x=names, y=values, text=[str(v) for v in values], textposition="outside",
                           textfont={"size": 28}, marker_color=["#1f77b4", "#ff7f0e", "#9e9e9e"][:len(values)],
                           cliponaxis=False))
    top = max(values + [1])
    fig.update_layout(template=TEMPLATE, title=title, height=380, margin={"t": 60, "b": 40, "l": 40, "r": 20},
                      yaxis={"range": [0, top * 1.25], "title": "votes", "dtick": max(1, math.ceil(top / 5))},
                      xaxis={"tickfont": {"size": 22}}, showlegend=False)
    return fig


def mean_scores_figure(scores, names: Mapping[str, str] | None = None, *, title: str = "") -> go.Figure:
    """MOS per system (1–5), one bar group per criterion, with 95 % t intervals (`ratings.MeanScore`s)."""
    rows = [s for s in scores if s.n > 0]
    if not rows:
        return empty_figure("no ratings yet", title)
    fig = go.Figure()
    for criterion in dict.fromkeys(s.criterion for s in rows):
        mine = [s for s in rows if s.criterion == criterion]
        fig.add_trace(go.Bar(
            name=criterion, x=[_name(s.system, names) for s in mine], y=[s.mean for s in mine],
            error_y=dict(type="data", symmetric=False,
                         array=[s.high - s.mean if _finite(s.high) else 0 for s in mine],
                         arrayminus=[s.mean - s.low if _finite(s.low) else 0 for s in mine]),
            customdata=[[s.n, s.low, s.high] for s in mine],
            hovertemplate=f"{criterion}<br>%{{x}}: MOS %{{y:.2f}} (n = %{{customdata[0]}})<br>"
                          "95 % interval %{customdata[1]:.2f}–%{customdata[2]:.2f}<extra></extra>"))
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=380, barmode="group",
                      yaxis=dict(title=dict(text="mean opinion score (1 = bad, 5 = excellent)"), range=[1, 5.2]),
                      showlegend=len(fig.data) > 1, margin=dict(l=10, r=10, t=60 if title else 30, b=40))
    return fig


def mushra_figure(result, names: Mapping[str, str] | None = None, *, title: str = "") -> go.Figure:
    """0–100 ratings of one criterion (`ratings.MushraResult`): per system the median with its distribution-free
    95 % interval (bars) and the mean (diamond)."""
    rows = [s for s in (result.systems if result is not None else []) if s.n > 0]
    if not rows:
        return empty_figure("no ratings yet", title)
    labels = [_name(s.system, names) for s in rows]
    med = np.array([s.median for s in rows])
    low = np.array([s.median_low if _finite(s.median_low) else s.median for s in rows])
    high = np.array([s.median_high if _finite(s.median_high) else s.median for s in rows])
    fig = go.Figure([
        go.Bar(name="median", x=labels, y=med, marker_color=BAR_COLOR,
               error_y=dict(type="data", symmetric=False, array=high - med, arrayminus=med - low),
               customdata=np.stack([low, high, [s.n for s in rows]], axis=1),
               hovertemplate="%{x}: median %{y:.0f} (n = %{customdata[2]})<br>95 % interval "
                             "%{customdata[0]:.0f}–%{customdata[1]:.0f}<extra></extra>"),
        go.Scatter(name="mean", x=labels, y=[s.mean for s in rows], mode="markers",
                   marker=dict(symbol="diamond", size=11, color="#e45756"),
                   hovertemplate="%{x}: mean %{y:.1f}<extra></extra>")])
    fig.update_layout(template=TEMPLATE, title=dict(text=title), height=380,
                      yaxis=dict(title=dict(text="rating (0 = bad, 100 = excellent)"), range=[0, 100]),
                      margin=dict(l=10, r=10, t=60 if title else 30, b=40))
    return fig
