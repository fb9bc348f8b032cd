"""The Compare and Training pages, driven headless with AppTest (no browser, no server)."""

import io
import json
import shutil
from pathlib import Path

import pytest
import soundfile
from streamlit.testing.v1 import AppTest

from musicgen.card import Card
from musicgen.checkpoints import list_cards
from musicgen.comparison import REAL
from musicgen.synth import synth_available
from musicgen.systems import heldout_ids, real_piece_id
from musicgen.ui.compare import _matched_ogg

ROOT = Path(__file__).resolve().parent.parent
COMPARE = str(ROOT / "pages" / "2_Compare.py")
TRAINING = str(ROOT / "pages" / "3_Training.py")
TIMEOUT = 90
HAS_AUDIO = synth_available()[0]

EVALUATION = {
    "n_samples": 16, "reference": "bach-chorales test split", "overlap_mean": 0.71, "c2st_accuracy": 0.83,
    "nll_per_token": 2.44,
    "features": {"pitch_range": {"oa": 0.6, "kl": 0.2, "generated_mean": 20.1, "real_mean": 24.3},
                 "polyphony": {"oa": 0.4, "kl": 0.9, "generated_mean": 2.1, "real_mean": 3.8}},
    "real_vs_train": {"overlap_mean": 0.9, "c2st_accuracy": 0.55,
                      "features": {"pitch_range": {"oa": 0.92}, "polyphony": {"oa": 0.88}}},
}
SWEEP = [
    {"setting": {"lr": lr},
     "records": [{"step": s, "seconds": s / 10, "train_loss": 3 - s * lr, "valid_loss": 3.2 - s * lr}
                 for s in (10, 20, 30)]}
    for lr in (1e-3, 2e-3)
] + [{"setting": {"lr": 5e-3}, "label": "fast", "records": [{"step": 10, "seconds": 1.0, "valid_loss": 2.9}]}]


def _texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def _charts(at: AppTest) -> dict:
    """Plotly charts by their key, as plain plotly JSON dicts."""
    return {c.key: json.loads(c.proto.spec) for c in at.get("plotly_chart")}


def _edit(folder: Path, name: str, change) -> None:
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))


@pytest.fixture
def two_models(tmp_path, monkeypatch):
    """markov, plus a copy `markov-b` whose card has evaluation numbers and whose history has a sweep."""
    root = tmp_path / "checkpoints"
    shutil.copytree(ROOT / "checkpoints" / "markov", root / "markov")
    shutil.copytree(ROOT / "checkpoints" / "markov", root / "markov-b")
    _edit(root / "markov", "card.json", lambda c: c.update(evaluation={}))  # one model not evaluated yet
    _edit(root / "markov-b", "card.json", lambda c: c.update(id="markov-b", title="Markov B", evaluation=EVALUATION))
    _edit(root / "markov-b", "history.json", lambda h: h.update(sweep=SWEEP))
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(root))
    return root


def _compare(keys: list[str], seconds: float = 6.0) -> AppTest:
    at = AppTest.from_file(COMPARE, default_timeout=TIMEOUT).run()
    assert not at.exception
    at.multiselect(key="compare_models").set_value(keys)
    at.number_input(key="compare_seconds").set_value(seconds).run()
    [button] = [b for b in at.button if b.label == "Compare"]
    button.click().run()
    assert not at.exception
    return at


def test_compare_two_models_and_a_real_piece(two_models):
    at = _compare(["markov", "markov-b", REAL])
    assert not at.error
    if HAS_AUDIO:
        assert len(at.get("audio")) == 3
    charts = _charts(at)
    rolls = [charts[f"compare-roll-{i}"] for i in range(3)]  # one piano roll in every column
    assert {tuple(r["layout"]["xaxis"]["range"]) for r in rolls} == {(0.0, 6.0)}  # shared time axis
    assert len({tuple(r["layout"]["yaxis"]["range"]) for r in rolls}) == 1  # shared pitch axis
    assert {"compare-loss-0", "compare-loss-1"} <= set(charts) and "compare-loss-2" not in charts  # no loss for real
    assert "compare-metric-overlap_mean" in charts  # markov-b is evaluated: chart against the real-data band
    assert "not evaluated yet" in _texts(at.info).lower()  # markov is not
    piece = real_piece_id("bach-chorales", 0)
    assert piece == heldout_ids("bach-chorales")[0]  # the seed picks ids[seed % len(ids)]
    assert piece in _texts(at.caption)
    assert "--model markov-b" in _texts(at.code)


def test_compare_a_sample_set_beside_a_model_and_a_real_piece(two_models, tmp_path, monkeypatch):
    from musicgen.corpora import toy_corpus
    from musicgen.midi import save_midi
    from musicgen.sample_sets import add_sample_set, update_evaluation

    monkeypatch.setenv("MUSICGEN_DATA", str(tmp_path / "data"))
    folder = tmp_path / "outside"
    folder.mkdir()
    for piece in toy_corpus(n_pieces=3).pieces:
        save_midi(piece, folder / f"{piece.name}.mid")
    sample_set = add_sample_set("outside", folder)  # compared with bach-chorales, like markov
    update_evaluation("outside", EVALUATION)
    at = _compare(["samples:outside", "markov", REAL])
    assert not at.error
    assert "outside (sample set)" in _texts(at.subheader)
    charts = _charts(at)
    assert {"compare-roll-0", "compare-roll-1", "compare-roll-2", "compare-loss-1"} <= set(charts)
    assert "compare-loss-0" not in charts  # a sample set was not trained here: no loss curve
    captions = _texts(at.caption)
    assert "3 MIDI files" in captions and sample_set.files[0].name in captions  # seed 0 picks the first file
    assert "The first 6 s of " + real_piece_id("bach-chorales", 0) in captions  # the real piece: its corpus
    assert "--model samples:outside --seed 0 --length 6s" in _texts(at.code)
    assert "compare-metric-overlap_mean" in charts  # the set's own evaluation, against the real-data band
    assert "evaluate` to measure this model" in _texts(at.info)  # markov: not evaluated


def test_compare_needs_two_columns_and_keeps_its_result(two_models):
    at = AppTest.from_file(COMPARE, default_timeout=TIMEOUT).run()
    at.multiselect(key="compare_models").set_value(["markov"]).run()
    assert not at.exception
    assert next(b for b in at.button if b.label == "Compare").disabled
    at = _compare(["markov", REAL])
    at.slider(key="compare_temperature").set_value(1.5).run()  # a rerun keeps the last comparison
    assert not at.exception and "compare-roll-1" in _charts(at)


def test_compare_broken_model_leaves_the_other_columns(two_models):
    weights = two_models / "markov-b" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    at = _compare(["markov", "markov-b"])
    assert "SHA-256" in _texts(at.error)
    assert "compare-roll-0" in _charts(at) and "compare-roll-1" not in _charts(at)


@pytest.mark.skipif(not HAS_AUDIO, reason="FluidSynth not installed")
def test_matched_audio_has_one_length(two_models):
    from musicgen.synth import resolve_soundfont
    from musicgen.systems import Request, make_clip

    seq = make_clip(Request(model="markov", length="4s"))
    oggs = _matched_ogg((seq, seq.first_notes(3)), 4.0, 22050, str(resolve_soundfont()))
    frames = [soundfile.info(io.BytesIO(o)).frames for o in oggs]
    assert frames == [4 * 22050] * 2


def test_pages_render_with_shipped_checkpoints():
    cards = [c for c in list_cards() if isinstance(c, Card)]
    keys = [c.id for c in cards][:2] + [REAL]  # markov, and A-lstm when it is shipped
    at = _compare(keys, seconds=5.0)
    assert not at.error
    assert {f"compare-roll-{i}" for i in range(len(keys))} <= set(_charts(at))
    training = AppTest.from_file(TRAINING, default_timeout=TIMEOUT).run()
    assert not training.exception and not training.error
    assert {f"loss-{c.id}" for c in list_cards()} | {"overlay-chart"} <= set(_charts(training))
    gans = [c.id for c in cards if c.family in ("gan-lstm", "gan-dense", "crnngan", "dcgan")]
    assert {f"gan-{cid}" for cid in gans} <= set(_charts(training))  # the critic's verdicts per GAN


def test_training_overlay_hint_evaluation_and_sweep(two_models):
    at = AppTest.from_file(TRAINING, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    charts = _charts(at)
    assert {"loss-markov", "loss-markov-b", "overlay-chart"} <= set(charts)
    assert [t["name"] for t in charts["overlay-chart"]["data"]] == ["markov"]  # one checkpoint until more are picked
    assert at.selectbox(key="overlay_group").value.startswith("Prediction loss on note events")
    at.multiselect(key=f"overlay_ids-{at.selectbox(key='overlay_group').value}").set_value(["markov", "markov-b"]).run()
    assert [t["name"] for t in _charts(at)["overlay-chart"]["data"]] == ["markov", "markov-b"]
    assert "not evaluated yet" in _texts(at.info).lower()  # markov's evaluation is empty
    assert at.dataframe  # markov-b's numbers
    assert "train-eval-markov-b-features" in charts
    sweep = charts["sweep-markov-b"]  # one line per setting
    assert [t["name"] for t in sweep["data"]] == ["lr=0.001", "lr=0.002", "fast"]
    assert "bach" in _texts(at.markdown).lower() and "`markov`" in _texts(at.markdown)  # data and preset

    at.segmented_control(key="training_x").set_value("seconds").run()
    assert not at.exception
    assert _charts(at)["loss-markov"]["layout"]["xaxis"]["title"]["text"] == "seconds of training"


def test_training_survives_broken_history_and_weights(two_models):
    (two_models / "markov-b" / "history.json").write_text("{ not json")
    weights = two_models / "markov" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    at = AppTest.from_file(TRAINING, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "history.json cannot be read" in _texts(at.warning)
    assert "loss-markov" in _charts(at)
