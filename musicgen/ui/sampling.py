"""The Sampling page's parts: saved sweep tables (`sweep.py`) → curves of overlap, C2ST and diversity against
temperature, one line per model, and a clip made at any swept point with one click (on a point, or with
the controls under the charts).

The figures are pure functions of the tables (`sweep_figure`); the clip goes through `systems.make_clip`
like every other page's, at the sweep's own settings, so what plays is what was measured.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.colors
import plotly.graph_objects as go
import streamlit as st

from musicgen.plots import TEMPLATE, empty_figure, legend_below, piano_roll_figure
from musicgen.sequence import NoteSequence
from musicgen.sweep import load_sweep, swept_ids
from musicgen.systems import Request, make_clip
from musicgen.ui.cards import CORPUS_WORDS
from musicgen.ui.errors import attempt
from musicgen.ui.widgets import show_audio

MODELS_KEY = "sampling_models"
POINT_MODEL_KEY, POINT_TEMPERATURE_KEY, POINT_SEED_KEY = "sampling_point_model", "sampling_point_t", "sampling_seed"
PLAY_KEY = "sampling_play"  # a point was clicked on a chart: make its clip on this run
CLIP_KEY = "sampling_clip"  # the last clip made here (a PointClip)
SWEEP_COMMAND = "python -m musicgen sweep --model A-lstm --temperature 0.6:1.4:0.1 --n 32 --save"
REAL_COLOR = "#7f8c9b"  # slate grey, as the real-data band elsewhere
REAL_DASHES = ("dot", "dash", "dashdot")  # one per corpus when models of several corpora are drawn together
MODEL_COLORS = plotly.colors.qualitative.Plotly  # one colour per model, the same in every chart


@dataclass(frozen=True)
class Metric:
    key: str  # a row's key in sweep.json
    title: str  # short: the chart is a third of the page wide
    y_title: str
    better: str  # one line under the chart
    real_key: str | None = None  # where the real pieces' value sits (a dotted line)


METRICS = (
    Metric("overlap_mean", "Overlap with real pieces", "overlap (mean OA)",
           "Higher is better: 1 = generated pieces sit among real ones as real ones do.", "overlap_mean"),
    Metric("c2st_accuracy", "Can a classifier tell?", "C2ST accuracy",
           "Lower is better: 0.5 = a classifier cannot tell generated from real pieces.", "c2st_accuracy"),
    Metric("mean_pairwise_roll_distance", "Diversity", "piano-roll distance",
           "Near the real pieces' line is right: far below = every sample alike, above = noise.",
           "real_mean_pairwise_roll_distance"),
)
PARSE_METRIC = Metric("abc_parse_rate", "ABC tunes that parse", "share parsed",
                      "Tunes that are not valid ABC are left out of the other numbers; this is their share.")


@dataclass(frozen=True)
class Point:
    model: str
    temperature: float
    top_p: float | None = None


@dataclass(frozen=True)
class PointClip:
    point: Point
    request: Request
    sequence: NoteSequence
    row: dict


# ---- the tables -----------------------------------------------------------------------------------
def sweep_tables() -> dict[str, dict]:
    """Every checkpoint's saved sweep table, by id (read afresh each run: they are small JSON files)."""
    return {cid: doc for cid in swept_ids() if (doc := load_sweep(cid)) is not None}


def label(doc: dict) -> str:
    return f"{doc.get('title') or doc['model']} ({doc['model']})" if doc.get("title") else doc["model"]


def lines(doc: dict) -> dict[float | None, list[dict]]:
    """A table's rows as lines: one per top-p value (one line when only temperature was swept), by temperature."""
    out: dict[float | None, list[dict]] = {}
    for row in doc["rows"]:
        out.setdefault(row.get("top_p"), []).append(row)
    return {p: sorted(rows, key=lambda r: r["temperature"]) for p, rows in out.items()}


def line_name(doc: dict, top_p: float | None, n_lines: int) -> str:
    name = doc.get("title") or doc["model"]
    return f"{name}, top-p {top_p:g}" if n_lines > 1 and top_p is not None else name


def find_row(doc: dict, point: Point) -> dict | None:
    for row in doc["rows"]:
        if abs(row["temperature"] - point.temperature) < 1e-9 and row.get("top_p") == point.top_p:
            return row
    return None


# ---- the figures (pure) ---------------------------------------------------------------------------
def sweep_figure(tables: dict[str, dict], metric: Metric) -> tuple[go.Figure, list[Point | None]]:
    """One line per model (and top-p) of `metric` against temperature, the best setting ringed, the real pieces'
    value dotted; and, per trace, what a click on it means (a model's line → its model; None for real lines)."""
    fig, traces = go.Figure(), []
    for index, doc in enumerate(tables.values()):
        color = MODEL_COLORS[index % len(MODEL_COLORS)]
        per_line = lines(doc)
        best = doc.get("best") or {}
        for top_p, rows in per_line.items():
            xs = [r["temperature"] for r in rows if r.get(metric.key) is not None]
            ys = [r[metric.key] for r in rows if r.get(metric.key) is not None]
            if not xs:
                continue
            is_best = [best.get("temperature") == x and best.get("top_p") == top_p for x in xs]
            fig.add_trace(go.Scatter(
                x=xs, y=ys, name=line_name(doc, top_p, len(per_line)), mode="lines+markers",
                customdata=[[doc["model"], top_p]] * len(xs), line=dict(color=color),
                marker=dict(size=[13 if b else 7 for b in is_best], color=color,
                            symbol=["star" if b else "circle" for b in is_best]),
                hovertemplate=f"{metric.y_title} %{{y:.3f}} at temperature %{{x:g}}<extra>%{{fullData.name}}</extra>"))
            traces.append(Point(doc["model"], xs[0], top_p))
    real = {}  # one dotted line per corpus (each model is compared with its own corpus's pieces)
    for doc in tables.values():
        value = _real_value(doc, metric)
        if value is not None and doc.get("corpus") not in real:
            real[doc.get("corpus")] = value
    xs_all = sorted({r["temperature"] for doc in tables.values() for r in doc["rows"]})
    for i, (corpus, value) in enumerate(real.items()):
        name = "real pieces" if len(real) == 1 else f"real {CORPUS_WORDS.get(corpus, corpus).split(' (')[0]}"
        fig.add_trace(go.Scatter(x=[xs_all[0], xs_all[-1]], y=[value, value], name=name, mode="lines",
                                 line=dict(color=REAL_COLOR, dash=REAL_DASHES[i % len(REAL_DASHES)]),
                                 hoverinfo="skip"))
        traces.append(None)
    if not fig.data:
        return empty_figure(f"no {metric.y_title} in these tables", metric.title), []
    fig.update_layout(template=TEMPLATE, title=dict(text=metric.title), hovermode="closest",
                      xaxis=dict(title=dict(text="temperature")), yaxis=dict(title=dict(text=metric.y_title)),
                      margin=dict(l=55, r=10, t=50, b=45), height=380, clickmode="event+select")
    return legend_below(fig, bottom=45), traces


def _real_value(doc: dict, metric: Metric) -> float | None:
    if metric.real_key is None:
        return None
    if metric.key == "mean_pairwise_roll_distance":  # the real pieces' own spread, the same in every row
        values = [r.get(metric.real_key) for r in doc["rows"] if r.get(metric.real_key) is not None]
        return values[0] if values else None
    ceiling = doc.get("real_vs_train") or {}  # training pieces against the test pieces: the best a model can do
    return ceiling.get(metric.real_key)


def point_from_selection(selection, traces: list[Point | None]) -> Point | None:
    """The swept point a chart click selected (Streamlit's selection state), or None."""
    points = (selection or {}).get("selection", {}).get("points") or []
    for p in points:
        number = p.get("curve_number")
        if isinstance(number, int) and 0 <= number < len(traces) and traces[number] is not None:
            return Point(traces[number].model, float(p["x"]), traces[number].top_p)
    return None


# ---- the page's parts -------------------------------------------------------------------------------
def model_choice(tables: dict[str, dict]) -> dict[str, dict]:
    """The models to draw (all that have a table, at first)."""
    ids = list(tables)
    chosen = st.multiselect("Models", ids, default=ids, key=MODELS_KEY, format_func=lambda cid: label(tables[cid]),
                            help="Every checkpoint with a saved sweep table (`sweep --save`).")
    return {cid: tables[cid] for cid in chosen}


def _clicked(chart_key: str, traces: list[Point | None]) -> None:
    """A chart's on_select callback (before the page runs): the clicked point fills the controls and plays."""
    point = point_from_selection(st.session_state.get(chart_key), traces)
    if point is None:
        return
    st.session_state[POINT_MODEL_KEY] = point.model
    st.session_state[POINT_TEMPERATURE_KEY] = point.temperature
    st.session_state[PLAY_KEY] = point


def show_charts(tables: dict[str, dict]) -> None:
    metrics = list(METRICS) + ([PARSE_METRIC] if any(r.get("abc_parse_rate") is not None
                                                     for d in tables.values() for r in d["rows"]) else [])
    columns = st.columns(3, gap="medium")
    for i, metric in enumerate(metrics):
        fig, traces = sweep_figure(tables, metric)
        key = f"sampling_chart_{metric.key}"
        with columns[i % 3]:
            st.plotly_chart(fig, key=key, on_select=lambda k=key, t=traces: _clicked(k, t), selection_mode="points",
                            config={"displaylogo": False})
            st.caption(metric.better)


def point_controls(tables: dict[str, dict]) -> tuple[Point, int, bool]:
    """Model, swept temperature and seed for a clip, and whether Play was pressed."""
    ids = list(tables)
    if st.session_state.get(POINT_MODEL_KEY) not in ids:
        st.session_state[POINT_MODEL_KEY] = ids[0]
    model_col, t_col, seed_col, button_col = st.columns([3, 4, 2, 2], vertical_alignment="bottom")
    model = model_col.selectbox("Model", ids, key=POINT_MODEL_KEY, format_func=lambda cid: label(tables[cid]),
                                on_change=lambda: st.session_state.pop(POINT_TEMPERATURE_KEY, None))  # → its best
    doc = tables[model]
    temps = sorted({r["temperature"] for r in doc["rows"]})
    if st.session_state.get(POINT_TEMPERATURE_KEY) not in temps:
        best = (doc.get("best") or {}).get("temperature")
        st.session_state[POINT_TEMPERATURE_KEY] = best if best in temps else temps[len(temps) // 2]
    temperature = t_col.select_slider("Temperature", temps, key=POINT_TEMPERATURE_KEY, format_func=lambda t: f"{t:g}")
    st.session_state.setdefault(POINT_SEED_KEY, 0)
    seed = seed_col.number_input("Seed", 0, 2**31 - 1, step=1, key=POINT_SEED_KEY,
                                 help="The sweep measured seeds 0 to n-1 at every temperature.")
    played = button_col.button("Play", type="primary", icon=":material/play_arrow:", key="sampling_play_button",
                               width="stretch")
    top_ps = sorted({r.get("top_p") for r in doc["rows"] if r["temperature"] == temperature},
                    key=lambda p: (p is None, p or 0))
    top_p = top_ps[0] if top_ps else None
    if len(top_ps) > 1:
        top_p = st.selectbox("Top-p", top_ps, key="sampling_point_top_p",
                             format_func=lambda p: "off" if p is None else f"{p:g}")
    return Point(model, float(temperature), top_p), int(seed), played


def make_point_clip(doc: dict, point: Point, seed: int) -> PointClip:
    """The clip at a swept point: the sweep's settings (its top-k, 30 s) and the seed."""
    row = find_row(doc, point) or {}
    request = Request(model=point.model, seed=seed, temperature=point.temperature,
                      top_k=row.get("top_k", (doc.get("default") or {}).get("top_k")), top_p=point.top_p,
                      length=f"{doc.get('clip_seconds', 30):g}s")
    return PointClip(point=point, request=request, sequence=make_clip(request), row=row)


def play_into_state(tables: dict[str, dict], point: Point, seed: int) -> None:
    doc = tables.get(point.model)
    if doc is None:
        return
    with st.spinner("Composing…"):
        made = attempt("make the clip", make_point_clip, doc, point, seed)
    if made is not None:
        st.session_state[CLIP_KEY] = made


def _num(row: dict, key: str, spec: str = ".3f") -> str:
    value = row.get(key)
    return format(value, spec) if isinstance(value, (int, float)) else "—"


def show_clip(tables: dict[str, dict], made: PointClip) -> None:
    doc = tables.get(made.point.model, {})
    row = made.row
    where = f"temperature {made.point.temperature:g}" + (f", top-p {made.point.top_p:g}" if made.point.top_p else "")
    st.subheader(f"{doc.get('title') or made.point.model} at {where}, seed {made.request.seed}", anchor=False)
    parsed = row.get("abc_parse_rate")
    st.caption(f"At this setting the sweep measured overlap {_num(row, 'overlap_mean')}, C2ST "
               f"{_num(row, 'c2st_accuracy')}, diversity {_num(row, 'mean_pairwise_roll_distance')}"
               + (f", {parsed:.0%} of tunes parsed" if isinstance(parsed, (int, float)) else "")
               + f" over {doc.get('n_samples', '?')} samples.")
    if not len(made.sequence):
        why = made.sequence.meta_dict().get("abc_error")
        st.warning("This seed gave no notes" + (f" (the tune is not valid ABC: {why})" if why else "")
                   + ". Try another seed: at this temperature that is part of what the sweep measured.")
        return
    show_audio(made.sequence)
    st.plotly_chart(piano_roll_figure(made.sequence, title=""), key="sampling_roll", config={"displaylogo": False})
    st.code(made.request.command(), language="bash")


def no_tables() -> None:
    st.info("No model has a sweep table yet. Make one (a few minutes per model) and reload this page:",
            icon=":material/query_stats:")
    st.code(SWEEP_COMMAND, language="bash")
