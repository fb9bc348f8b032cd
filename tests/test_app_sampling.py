"""AppTest: the Sampling page (sweep tables → curves, a clip at a swept point) and Generate's recommended setting."""

import json
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from musicgen import sweep
from musicgen.checkpoints import read_card
from musicgen.synth import synth_available
from musicgen.ui import sampling

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "11_Sampling.py")
GENERATE = str(ROOT / "pages" / "1_Generate.py")
TIMEOUT = 60
HAS_AUDIO = synth_available()[0]
TEMPS = (0.8, 0.9, 1.0, 1.1)


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _charts(at: AppTest) -> dict:
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def _rows(peak: float, *, parse: bool = False) -> list[dict]:
    rows = []
    for t in TEMPS:
        row = {"temperature": t, "top_p": None, "top_k": None, "n_samples": 4, "compared_samples": 4,
               "overlap_mean": round(0.9 - abs(t - peak), 3), "kl_mean": 0.1,
               "c2st_accuracy": round(0.6 + abs(t - peak), 3),
               "distinct_samples": 4, "mean_pairwise_roll_distance": round(0.8 + t / 10, 3),
               "real_mean_pairwise_roll_distance": 0.91, "seconds": 1.0}
        if parse:
            row["abc_parse_rate"] = round(1.0 - (t - 0.8) / 5, 3)
        rows.append(row)
    return rows


def _table(folder: Path, peak: float, **kw) -> dict:
    card = read_card(folder)
    doc = sweep.json_document(card, _rows(peak, **kw), 4,
                              ceiling_row={"n_samples": 4, "overlap_mean": 0.92, "kl_mean": 0.05, "c2st_accuracy": 0.5})
    sweep.write_table(doc, folder / sweep.SWEEP_JSON)
    return doc


@pytest.fixture
def swept(tmp_path, monkeypatch):
    """markov (swept, best 0.9, recommended in its card), markov-b (swept, best 1.1, an ABC-style parse rate) and
    markov-c (never swept)."""
    root = tmp_path / "checkpoints"
    for cid in ("markov", "markov-b", "markov-c"):
        shutil.copytree(ROOT / "checkpoints" / "markov", root / cid)
        card = json.loads((root / cid / "card.json").read_text())
        card.update(id=cid, title=f"Markov {cid[-1].upper()}" if cid != "markov" else card["title"])
        (root / cid / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(root))
    _table(root / "markov", 0.9)
    _table(root / "markov-b", 1.1, parse=True)
    table, card = sweep.save_to_checkpoint(sweep.load_sweep("markov"))
    assert card is not None
    return root


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def test_charts_draw_every_swept_model_against_temperature(swept):
    at = _page()
    assert not at.error
    charts = _charts(at)
    assert {"sampling_chart_overlap_mean", "sampling_chart_c2st_accuracy",
            "sampling_chart_mean_pairwise_roll_distance", "sampling_chart_abc_parse_rate"} <= set(charts)
    overlap = charts["sampling_chart_overlap_mean"]
    lines = {t["name"]: t for t in overlap["data"]}
    assert set(lines) == {read_card(swept / "markov").display_title, "Markov B", "real pieces"}
    b = lines["Markov B"]
    assert b["x"] == list(TEMPS) and b["y"] == [r["overlap_mean"] for r in _rows(1.1)]
    assert b["marker"]["symbol"][TEMPS.index(1.1)] == "star"  # the best setting is marked
    assert lines["real pieces"]["y"] == [0.92, 0.92]  # the ceiling, dotted
    layout = overlap["layout"]
    assert layout["xaxis"]["title"]["text"] == "temperature"
    assert layout["legend"]["orientation"] == "h" and layout["legend"]["yanchor"] == "bottom"  # below the plot
    assert "markov-c" not in at.multiselect(key=sampling.MODELS_KEY).options  # never swept: not offered
    # the parse-rate chart is there because markov-b reports one; markov has none and draws no line there
    [parse] = charts["sampling_chart_abc_parse_rate"]["data"]
    assert parse["name"] == "Markov B" and parse["line"]["color"] == b["line"]["color"]  # one colour per model


def test_play_makes_a_clip_at_the_chosen_point(swept):
    at = _page()
    assert at.select_slider(key=sampling.POINT_TEMPERATURE_KEY).value == 0.9  # starts at the model's best
    at.selectbox(key=sampling.POINT_MODEL_KEY).set_value("markov-b").run()
    assert at.select_slider(key=sampling.POINT_TEMPERATURE_KEY).value == 1.1
    at.select_slider(key=sampling.POINT_TEMPERATURE_KEY).set_value(0.8).run()
    [play] = [b for b in at.button if b.label == "Play"]
    play.click().run()
    assert not at.exception and not at.error
    made = at.session_state[sampling.CLIP_KEY]
    assert (made.point.model, made.point.temperature, made.request.temperature) == ("markov-b", 0.8, 0.8)
    assert len(made.sequence) > 0 and made.request.length == "30s"
    assert "--temperature 0.8" in _texts(at.code) and "--model markov-b" in _texts(at.code)
    assert "overlap 0.600" in _texts(at.caption)  # the sweep's numbers at that point
    if HAS_AUDIO:
        assert len(at.get("audio")) == 1
    assert "sampling_roll" in _charts(at)


def test_a_click_on_a_chart_point_plays_it(swept):
    """What the chart's on_select callback does with Streamlit's selection state: fill the controls and play."""
    at = _page()
    traces = sampling.sweep_figure(sweep_tables := sampling.sweep_tables(), sampling.METRICS[0])[1]
    assert [t.model if t else None for t in traces] == ["markov", "markov-b", None]
    selection = {"selection": {"points": [{"curve_number": 1, "point_index": 0, "x": 0.8, "y": 0.6}],
                               "point_indices": [0], "box": [], "lasso": []}}
    assert sampling.point_from_selection(selection, traces) == sampling.Point("markov-b", 0.8, None)
    assert sampling.point_from_selection({"selection": {"points": [{"curve_number": 2, "x": 1.0}]}}, traces) is None
    assert sampling.point_from_selection({}, traces) is None
    at.session_state[sampling.POINT_MODEL_KEY] = "markov-b"  # as the callback leaves them
    at.session_state[sampling.POINT_TEMPERATURE_KEY] = 0.8
    at.session_state[sampling.PLAY_KEY] = sampling.Point("markov-b", 0.8, None)
    at.run()
    assert not at.exception and not at.error
    assert at.session_state[sampling.CLIP_KEY].point == sampling.Point("markov-b", 0.8, None)
    assert sampling.PLAY_KEY not in at.session_state  # played once, not on every rerun
    assert set(sweep_tables) == {"markov", "markov-b"}


def test_without_tables_the_page_says_how_to_make_one(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "markov", root / "markov")
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(root))
    at = _page()
    assert "no model has a sweep table" in _texts(at.info).lower()
    assert "python -m musicgen sweep" in _texts(at.code) and "--save" in _texts(at.code)
    assert not at.get("plotly_chart")


def test_generate_offers_the_recommended_setting(swept):
    at = AppTest.from_file(GENERATE, default_timeout=TIMEOUT).run()
    at.selectbox(key="model").set_value("markov").run()
    assert not at.exception
    assert "recommended: 0.9 (measured by sweep)" in _texts(at.caption)
    assert "Recommended for this model: 0.9" in at.slider(key="temperature").help
    assert at.slider(key="temperature").value == 1.0  # the default stays the default
    [use] = [b for b in at.button if b.label == "Use recommended"]
    use.click().run()
    assert not at.exception and not at.warning
    assert at.slider(key="temperature").value == pytest.approx(0.9)
    at.selectbox(key="model").set_value("markov-c").run()  # never swept: no hint
    assert "recommended" not in _texts(at.caption) and not [b for b in at.button if b.label == "Use recommended"]
