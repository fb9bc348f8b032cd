import json

import numpy as np
import pytest

from musicgen import evaluation as ev
from musicgen import set_metrics as sm
from musicgen.checkpoints import load_checkpoint, update_card_evaluation
from musicgen.cli import main
from musicgen.corpora import toy_corpus
from musicgen.sequence import Note, NoteSequence


# ---- MGEval -----------------------------------------------------------------------------------------
def test_overlap_of_identical_and_of_distant_samples():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    oa, kl = sm.overlap_and_kl(x, x)
    assert oa == pytest.approx(1.0, abs=1e-6) and kl == pytest.approx(0.0, abs=1e-6)
    oa, kl = sm.overlap_and_kl(x, rng.normal(size=300))
    assert oa > 0.85 and kl < 0.1
    oa, kl = sm.overlap_and_kl(x, x + 10)
    assert oa < 0.01 and kl > 5


def test_zero_variance_is_guarded():
    assert sm.overlap_and_kl(np.zeros(10), np.zeros(20)) == (1.0, 0.0)
    oa, kl = sm.overlap_and_kl(np.zeros(10), np.ones(20))
    assert oa < 0.01 and np.isfinite(kl)
    oa, kl = sm.overlap_and_kl(np.zeros(10), np.random.default_rng(1).normal(size=50))
    assert 0 <= oa <= 1 and np.isfinite(kl)
    with pytest.raises(ValueError):
        sm.overlap_and_kl(np.zeros(0), np.zeros(3))


def test_distances():
    assert sorted(sm.intra_set_distances(np.array([0.0, 1.0, 3.0])).tolist()) == [1.0, 2.0, 3.0]
    assert sm.inter_set_distances(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0], [0.0, 1.0]])).tolist() == [5.0, 1.0]


def _random_chords(i: int) -> NoteSequence:
    rng = np.random.default_rng(100 + i)
    notes = [Note(start=t * 0.07, end=t * 0.07 + 0.03, pitch=int(p)) for t in range(60)
             for p in rng.integers(30, 100, size=4)]
    return NoteSequence(notes=tuple(dict.fromkeys(notes)), qpm=60.0)


def test_compare_sets_similar_and_different():
    corpus = toy_corpus(n_pieces=24)
    a, b = list(corpus.pieces[:12]), list(corpus.pieces[12:])
    assert sm.compare_sets(a, a)["overlap_mean"] > 0.9
    same = sm.compare_sets(a, b)
    assert same["overlap_mean"] > 0.7
    assert set(same["features"]) == set(ev.FEATURES)
    far = sm.compare_sets([_random_chords(i) for i in range(12)], b)
    assert far["overlap_mean"] < 0.3 and far["c2st_accuracy"] > 0.9
    assert far["features"]["polyphony"]["generated_mean"] > 2
    assert len(far["features"]["pitch_class_histogram"]["real_mean"]) == 12
    with pytest.raises(sm.EvaluationError):
        sm.compare_sets(a[:1], b)


# ---- classifier two-sample test -----------------------------------------------------------------------
def test_c2st_separable_and_identical():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(64, 10)), rng.normal(size=(40, 10))
    assert sm.c2st_accuracy(a + 3, b) > 0.95
    assert abs(sm.c2st_accuracy(a, b) - 0.5) < 0.15
    assert sm.c2st_accuracy(a, b, seed=3) == sm.c2st_accuracy(a, b, seed=3)
    const = np.ones((8, 3))
    assert abs(sm.c2st_accuracy(const, const) - 0.5) <= 0.5  # constant features do not divide by zero


# ---- the card field and the command -------------------------------------------------------------------
@pytest.fixture(scope="module")
def toy_markov(tmp_path_factory):
    """A toy Markov checkpoint (trains in well under a second; the LSTM is not needed here)."""
    from musicgen.presets import toy_preset
    from musicgen.train import train

    return train(toy_preset("markov"), out_dir=tmp_path_factory.mktemp("eval_ckpt") / "toy-markov", progress=False)


def test_update_card_evaluation_changes_only_that_field(toy_markov, copy_checkpoint):
    folder = copy_checkpoint(toy_markov)
    before_text = (folder / "card.json").read_text()
    before = json.loads(before_text)
    update_card_evaluation(folder, {"overlap_mean": 0.5, "features": {"x": {"oa": 1.0}}})
    after = json.loads((folder / "card.json").read_text())
    assert after["evaluation"]["overlap_mean"] == 0.5
    assert list(after) == list(before)  # same keys in the same order
    assert {k: v for k, v in after.items() if k != "evaluation"} == {k: v for k, v in before.items()
                                                                   if k != "evaluation"}
    update_card_evaluation(folder, before["evaluation"])
    assert (folder / "card.json").read_text() == before_text  # formatting is the writer's own
    assert load_checkpoint(folder).card.evaluation == before["evaluation"]
    with pytest.raises(ValueError, match="null"):
        update_card_evaluation(folder, {"overlap_mean": float("nan")})
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []


@pytest.fixture
def toy_home(tmp_path, monkeypatch, toy_markov, copy_checkpoint, serve_corpus):
    copy_checkpoint(toy_markov)
    monkeypatch.setenv("MUSICGEN_CHECKPOINTS", str(tmp_path))
    serve_corpus("toy", toy_corpus(n_pieces=30))  # 3 test pieces
    return tmp_path


def test_run_cli_writes_card_and_json(toy_home, capsys):
    out = toy_home / "eval.json"
    assert main(["evaluate", "--model", "toy-markov", "--n", "3", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "toy-markov" in printed and "real: train vs test" in printed
    card = json.loads((toy_home / "toy-markov" / "card.json").read_text())
    e = card["evaluation"]  # the file itself (JSON) as written
    for key in ("n_samples", "reference", "overlap_mean", "c2st_accuracy", "nll_per_token", "features",
                "real_vs_train", "seconds", "code_version"):
        assert key in e, key
    assert e["n_samples"] == 3 and e["reference"] == "test" and e["reference_pieces"] == 3
    assert 0 <= e["overlap_mean"] <= 1 and 0 <= e["c2st_accuracy"] <= 1
    assert e["nll_per_token"] == pytest.approx(card["training"]["test_nll_per_token"])
    assert {"oa", "kl", "generated_mean", "real_mean"} <= set(e["features"]["scale_consistency"])
    assert e["real_vs_train"]["n_samples"] == 3 and "overlap_mean" in e["real_vs_train"]
    doc = json.loads(out.read_text())
    assert doc["models"]["toy-markov"]["overlap_mean"] == e["overlap_mean"]
    assert "toy" in doc["ceilings"]
    load_checkpoint(toy_home / "toy-markov")  # the card still verifies


def test_no_write_leaves_the_card(toy_home, capsys):
    card = toy_home / "toy-markov" / "card.json"
    before = card.read_bytes()
    assert main(["evaluate", "--n", "2", "--no-write"]) == 0
    assert card.read_bytes() == before


def test_first_seed_evaluates_other_seeds(toy_home, capsys):
    out = toy_home / "later.json"
    assert main(["evaluate", "--model", "toy-markov", "--n", "3", "--first-seed", "100", "--no-write",
                 "--json", str(out)]) == 0
    later = json.loads(out.read_text())["models"]["toy-markov"]
    assert later["settings"]["seeds"] == [100, 102]
    assert main(["evaluate", "--model", "toy-markov", "--n", "3", "--no-write", "--json", str(out)]) == 0
    first = json.loads(out.read_text())["models"]["toy-markov"]
    assert first["settings"]["seeds"] == [0, 2] and first["features"] != later["features"]


@pytest.mark.parametrize("argv, message", [
    (["--model", "nope"], "unknown model"),
    (["--first-seed", "-1"], "--first-seed must be 0 or more"),
    (["--n", "1"], "at least 2"),
    (["--n", "-5"], "at least 2"),
])
def test_bad_input_exits_2(toy_home, capsys, argv, message):
    assert main(["evaluate", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_too_few_reference_pieces_exits_2(toy_home, serve_corpus, capsys):
    serve_corpus("toy", toy_corpus())  # one test piece
    assert main(["evaluate", "--n", "2", "--no-write"]) == 2
    assert "at least 2" in capsys.readouterr().err


def test_diversity_sees_mode_collapse():
    a = NoteSequence(notes=(Note(start=0.0, end=0.6, pitch=60), Note(start=0.6, end=1.2, pitch=62)))
    b = NoteSequence(notes=(Note(start=0.0, end=0.6, pitch=60), Note(start=0.6, end=1.2, pitch=64)))
    c = NoteSequence(notes=(Note(start=0.0, end=1.2, pitch=70),))
    assert sm.mean_pairwise_roll_distance([a, a, a]) == 0.0
    assert sm.mean_pairwise_roll_distance([a, c]) == 1.0
    assert 0.0 < sm.mean_pairwise_roll_distance([a, b]) < 1.0
    row = sm.diversity([a, a, b], [a, c])
    assert row["distinct_samples"] == 2 and row["n_samples"] == 3
    assert row["real_mean_pairwise_roll_distance"] == 1.0


# ---- sample sets (an outside model's files) -----------------------------------------------------------
def test_evaluate_a_sample_set_writes_its_card(toy_home, monkeypatch, capsys):
    from musicgen import sample_sets
    from musicgen.midi import save_midi

    monkeypatch.setenv("MUSICGEN_DATA", str(toy_home / "data"))
    folder = toy_home / "outside"
    folder.mkdir()
    for piece in toy_corpus(n_pieces=6).pieces[:4]:
        save_midi(piece.transpose(5), folder / f"{piece.name}.mid")
    sample_sets.add_sample_set("outside", folder, corpus="toy")
    out = toy_home / "eval.json"
    assert main(["evaluate", "--model", "samples:outside", "--model", "toy-markov", "--n", "6",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "6 samples asked for, but sample set outside has 4 files" in printed  # the cap is said out loud
    assert "samples:outside" in printed and "toy-markov" in printed
    doc = json.loads((toy_home / "data" / "samples" / "outside" / "sample_set.json").read_text())
    e = doc["evaluation"]
    assert e["n_samples"] == 4 and e["corpus"] == "toy" and e["reference_pieces"] == 3 and "note" in e
    assert 0 <= e["overlap_mean"] <= 1 and 0 <= e["c2st_accuracy"] <= 1 and e["kl_mean"] >= 0
    assert e["nll_per_token"] is None and "untrained" not in e
    assert e["settings"] == {"length": "30s", "seeds": [0, 3]}
    assert e["real_vs_train"]["n_samples"] == 4 and set(e["features"]) == set(ev.FEATURES)
    assert sample_sets.load_sample_set("outside").evaluation == e
    card = json.loads((toy_home / "toy-markov" / "card.json").read_text())
    assert card["evaluation"]["n_samples"] == 6  # a checkpoint still gets all it asked for
    assert json.loads(out.read_text())["models"]["samples:outside"]["overlap_mean"] == e["overlap_mean"]
    assert main(["evaluate", "--model", "samples:nope", "--n", "2"]) == 2
    assert "no sample set 'nope'" in capsys.readouterr().err
