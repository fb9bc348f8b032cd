"""`python -m musicgen sweep`: ranges, the best-setting rule, a tiny sweep on a toy Markov checkpoint, CLI errors."""

import json

import pytest

from musicgen import evaluation as ev
from musicgen import sweep
from musicgen.checkpoints import load_checkpoint, read_card
from musicgen.cli import main
from musicgen.corpora import toy_corpus


# ---- ranges -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, values", [
    ("0.6:1.4:0.1", (0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4)),  # stop included, no 0.8999999999999999
    ("0.7:1.3:0.1", (0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3)),
    ("0.5:1.0:0.25", (0.5, 0.75, 1.0)),
    ("0.5:1.1:0.25", (0.5, 0.75, 1.0)),  # a stop between steps is not reached
    ("1:1:0.1", (1.0,)),
    ("0.8,1.0", (0.8, 1.0)),
    (" 0.9 ", (0.9,)),
    ("1.0,0.8,1.0", (1.0, 0.8)),  # a repeat is one setting; the order is the user's
])
def test_parse_values(text, values):
    assert sweep.parse_values(text) == values


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("0.6:1.4", "three numbers"), ("1.4:0.6:0.1", "stop is below start"),
    ("0.6:1.4:0", "more than 0"), ("0.6:1.4:-0.1", "more than 0"), ("a,b", "not a number"),
    ("0.1:5:0.001", "at most"), ("0:1:0.5", "out of range"), ("9", "out of range"), ("nan", "numbers only"),
])
def test_bad_ranges(text, message):
    with pytest.raises(sweep.SweepError, match=message):
        sweep.parse_values(text)


def test_top_p_range():
    assert sweep.parse_values("0.8:1.0:0.1", name="top_p") == (0.8, 0.9, 1.0)
    with pytest.raises(sweep.SweepError, match="top-p"):
        sweep.parse_values("0,0.5", name="top_p")
    grid = sweep.settings_grid((0.8, 1.0), (0.9, None))
    assert [(s.temperature, s.top_p) for s in grid] == [(0.8, 0.9), (1.0, 0.9), (0.8, None), (1.0, None)]


# ---- the rule -----------------------------------------------------------------------------------------
def _row(t, overlap, c2st, *, distinct=32, n=32, parse=None, top_p=None):
    row = {"temperature": t, "top_p": top_p, "n_samples": n, "overlap_mean": overlap, "c2st_accuracy": c2st,
           "distinct_samples": distinct}
    if parse is not None:
        row["abc_parse_rate"] = parse
    return row


def test_best_is_highest_overlap():
    rows = [_row(0.8, 0.80, 0.70), _row(0.9, 0.86, 0.75), _row(1.0, 0.83, 0.60)]
    assert sweep.best_row(rows)["temperature"] == 0.9


def test_near_tie_goes_to_lower_c2st_then_to_the_default():
    rows = [_row(0.8, 0.860, 0.75), _row(0.9, 0.855, 0.65), _row(1.0, 0.80, 0.55)]
    assert sweep.best_row(rows)["temperature"] == 0.9  # within 0.01 of the best overlap, easier to mistake for real
    rows = [_row(0.8, 0.86, 0.70), _row(1.1, 0.86, 0.70), _row(1.3, 0.86, 0.70)]
    assert sweep.best_row(rows, default_temperature=1.0)["temperature"] == 1.1


def test_floors_rule_out_broken_or_repetitive_settings():
    rows = [_row(0.6, 0.95, 0.5, distinct=10), _row(1.4, 0.94, 0.5, parse=0.5), _row(1.0, 0.80, 0.7, parse=0.97),
            {**_row(1.2, None, None), "error": "need at least 2 pieces"}]
    assert sweep.best_row(rows)["temperature"] == 1.0
    assert sweep.best_row([rows[0], rows[1], rows[3]]) is None


# ---- a tiny sweep -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_markov(tmp_path_factory):
    from musicgen.presets import toy_preset
    from musicgen.train import train

    return train(toy_preset("markov"), out_dir=tmp_path_factory.mktemp("sweep_ckpt") / "toy-markov", progress=False)


@pytest.fixture
def toy_home(tmp_path, monkeypatch, toy_markov, copy_checkpoint, serve_corpus):
    copy_checkpoint(toy_markov)
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(tmp_path))
    serve_corpus("toy", toy_corpus(n_pieces=30))  # 3 test pieces
    return tmp_path


def test_cli_sweep_writes_json_and_csv_and_is_reproducible(toy_home, capsys):
    out = toy_home / "tables" / "toy.json"
    card_before = (toy_home / "toy-markov" / "card.json").read_bytes()
    assert main(["sweep", "--model", "toy-markov", "--temperature", "0.8:1.2:0.2", "--n", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "best:" in printed and "(default)" in printed and f"wrote {out}" in printed
    doc = json.loads(out.read_text())
    assert [r["temperature"] for r in doc["rows"]] == [0.8, 1.0, 1.2]
    assert doc["n_samples"] == 3 and doc["seeds"] == [0, 2] and doc["model"] == "toy-markov"
    for row in doc["rows"]:
        for key in ("overlap_mean", "kl_mean", "c2st_accuracy", "distinct_samples", "mean_pairwise_roll_distance",
                    "seconds"):
            assert key in row, key
    assert doc["best"] in doc["rows"] and doc["rule"] == sweep.RULE
    assert doc["real_vs_train"]["n_samples"] == 3
    csv_lines = out.with_suffix(".csv").read_text().splitlines()
    assert csv_lines[0].startswith("temperature,top_p") and len(csv_lines) == 4
    assert sum(line.split(",")[sweep.CSV_COLUMNS.index("best")] == "1" for line in csv_lines[1:]) == 1
    assert (toy_home / "toy-markov" / "card.json").read_bytes() == card_before  # no --save: the card is untouched

    # the same seeds at every setting: a rerun gives the same numbers, and the default row is `evaluate`'s
    again = sweep.run_sweep("toy-markov", sweep.settings_grid((1.0,)), 3)
    same = next(r for r in doc["rows"] if r["temperature"] == 1.0)
    assert {k: v for k, v in again["rows"][0].items() if k != "seconds"} == {k: v for k, v in same.items()
                                                                             if k != "seconds"}
    evaluated = ev.evaluate_model(load_checkpoint(toy_home / "toy-markov"), 3)
    assert (same["overlap_mean"], same["c2st_accuracy"]) == (evaluated["overlap_mean"], evaluated["c2st_accuracy"])
    assert same["mean_pairwise_roll_distance"] == evaluated["diversity"]["mean_pairwise_roll_distance"]


def test_save_writes_the_table_beside_the_checkpoint_and_the_recommendation_into_its_card(toy_home, capsys):
    before = json.loads((toy_home / "toy-markov" / "card.json").read_text())
    assert main(["sweep", "--model", "toy-markov", "--temperature", "0.9,1.1", "--n", "2", "--save"]) == 0
    assert "card.json" in capsys.readouterr().out
    doc = sweep.load_sweep("toy-markov")
    assert doc is not None and (toy_home / "toy-markov" / "sweep.csv").exists()
    assert sweep.swept_ids() == ["toy-markov"]
    after = json.loads((toy_home / "toy-markov" / "card.json").read_text())
    rec = after["recommended"]
    assert rec["temperature"] == doc["best"]["temperature"] and rec["n"] == 2 and rec["by"] == "overlap_mean"
    assert {k: v for k, v in after.items() if k != "recommended"} == before  # nothing else changed
    card = load_checkpoint(toy_home / "toy-markov").card  # still verifies, and the field is typed
    assert card.recommended.temperature == rec["temperature"] and card.sampling.defaults.temperature == 1.0
    # `evaluate` rewrites the card: the recommendation survives it
    assert main(["evaluate", "--model", "toy-markov", "--n", "2"]) == 0
    assert read_card(toy_home / "toy-markov").recommended == card.recommended


@pytest.mark.parametrize("argv, message", [
    (["--model", "nope"], "unknown model"),
    (["--model", "real:toy"], "unknown model"),
    (["--model", "toy-markov", "--temperature", "1.4:0.6:0.1"], "stop is below start"),
    (["--model", "toy-markov", "--temperature", "0.6:1.4"], "three numbers"),
    (["--model", "toy-markov", "--temperature", "x"], "not a number"),
    (["--model", "toy-markov", "--top-p", "2"], "out of range"),
    (["--model", "toy-markov", "--n", "1"], "at least 2"),
    (["--temperature", "1"], "--model"),
])
def test_bad_input_exits_2_with_one_line(toy_home, capsys, argv, message):
    try:
        code = main(["sweep", *argv])
    except SystemExit as e:  # argparse's own errors (a missing --model) exit from the parser
        code = e.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_sample_set_or_real_music_has_no_settings():
    with pytest.raises(sweep.SweepError, match="no sampling settings"):
        sweep.run_sweep("real:bach-chorales", sweep.settings_grid((1.0,)), 2)
