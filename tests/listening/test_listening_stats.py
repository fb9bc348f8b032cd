"""Statistics against hand-checked values."""

import csv
import dataclasses
import io
import math
from datetime import UTC, datetime

import numpy as np
import pytest
from scipy.optimize import minimize

from musicgen.listening import (
    REAL,
    TIE,
    Vote,
    bradley_terry,
    bradley_terry_ranking,
    identification,
    pair_results,
    proportion,
    votes_csv,
    wilson_interval,
    win_matrix,
)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def vote(a, b, winner, *, kind="pair", correct=None, n=[0]):  # noqa: B006 - a counter for ids
    n[0] += 1
    return Vote(token=f"t{n[0]}", study_id="s", participant_id=f"p{n[0] % 3}", number=1, kind=kind, system_a=a,
                seed_a=n[0], settings_a={"temperature": 1.0}, system_b=b, seed_b=None if b is None else 100 + n[0],
                settings_b=None if b is None else {"piece": "bwv1"}, soundfont="FluidR3_GM.sf2", sample_rate=22050,
                served_at=NOW, id=n[0], answer="A", winner=winner, correct=correct, comment=None,
                response_seconds=3.0, voted_at=NOW)


def table(results):  # {(winner, loser): count}
    return [vote(w, l, w) for (w, l), k in results.items() for _ in range(k)]


def test_wilson_interval_by_hand():
    # 8 of 10, z = 1.959964: centre (0.8 + z²/20) / (1 + z²/10) = 0.71675,
    # half-width z·sqrt(0.8·0.2/10 + z²/400) / (1 + z²/10) = 0.22657
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.49016, abs=1e-4) and high == pytest.approx(0.94332, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_exact_binomial_test_by_hand():
    # 9 of 10 against 1/2, two-sided: 2 · (C(10,9) + C(10,10)) / 2^10 = 22/1024
    assert proportion(9, 10).p_value == pytest.approx(22 / 1024, rel=1e-12)
    assert proportion(5, 10).p_value == pytest.approx(1.0)


def test_pair_results_and_matrix_treat_ties_apart():
    votes = table({("x", "y"): 9, ("y", "x"): 1}) + [vote("x", "y", TIE), vote("y", "x", TIE)]
    [r] = pair_results(votes)
    assert (r.a, r.b, r.wins_a, r.wins_b, r.ties, r.n) == ("x", "y", 9, 1, 2, 12)
    assert r.a_rate.rate == 0.9 and r.a_rate.p_value == pytest.approx(22 / 1024)
    m = win_matrix(votes, ["x", "y"])
    assert m.wins.tolist() == [[0, 9], [1, 0]] and m.ties.tolist() == [[0, 2], [2, 0]]
    assert m.rates()[0, 1] == 0.9 and math.isnan(m.rates()[0, 0])


def test_bradley_terry_recovers_a_table_built_from_known_strengths():
    # Strengths 4 : 2 : 1. Each pair's wins equal their expectation under those strengths, so the
    # MLE is exactly (4, 2, 1), i.e. (2, 1, 1/2) at geometric mean 1:
    # a-b 2:1 (4/6 of 3), b-c 2:1 (2/3 of 3), a-c 4:1 (4/5 of 5).
    wins = np.array([[0, 2, 4], [1, 0, 2], [1, 1, 0]], dtype=float)
    assert bradley_terry(wins) == pytest.approx([2.0, 1.0, 0.5], rel=1e-8)


def test_bradley_terry_matches_a_direct_likelihood_fit():
    wins = np.array([[0, 7, 3, 5], [4, 0, 6, 2], [5, 3, 0, 8], [1, 6, 2, 0]], dtype=float)

    def nll(theta):
        d = theta[:, None] - theta[None, :]
        return float(np.sum(wins * np.logaddexp(0, -d)))

    theta = minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-10}).x
    expected = np.exp(theta - theta.mean())
    assert bradley_terry(wins) == pytest.approx(expected, rel=1e-5)


def test_two_systems_strength_ratio_is_the_win_ratio():
    s = bradley_terry(np.array([[0, 3], [1, 0]], dtype=float))
    assert s[0] / s[1] == pytest.approx(3.0) and s[0] * s[1] == pytest.approx(1.0)


def test_ranking_orders_systems_with_seeded_bootstrap_intervals():
    votes = table({("a", "b"): 8, ("b", "a"): 2, ("b", "c"): 7, ("c", "b"): 3, ("a", "c"): 9, ("c", "a"): 1})
    ranking = bradley_terry_ranking(votes, n_boot=300, seed=1)
    assert [r.system for r in ranking] == ["a", "b", "c"] and [r.rank for r in ranking] == [1, 2, 3]
    for r in ranking:
        assert r.low <= r.strength <= r.high and r.votes == 20
    assert bradley_terry_ranking(votes, n_boot=300, seed=1) == ranking  # seeded: reproducible
    undefeated = bradley_terry_ranking(table({("a", "b"): 5}), n_boot=50)
    assert all(math.isfinite(r.strength) for r in undefeated)  # the prior keeps it finite


def test_identification_rate_for_pair_and_identify_studies():
    pair = [vote(REAL, "m", REAL), vote("m", REAL, REAL), vote(REAL, "m", "m"), vote("m", REAL, TIE),
            vote("m", "n", "m")]
    ident = identification(pair)
    assert (ident.overall.k, ident.overall.n) == (2, 3) and set(ident.by_system) == {"m"}
    game = [vote(REAL, None, None, kind="identify", correct=True), vote("m", None, None, kind="identify",
                                                                       correct=False),
            vote("m", None, None, kind="identify", correct=True)]
    ident = identification(game)
    assert ident.overall.rate == pytest.approx(2 / 3) and ident.by_system[REAL].rate == 1.0
    assert identification([vote("m", "n", "m")]) is None


def test_csv_export_has_every_vote_and_its_provenance():
    votes = [vote("m", REAL, "m"), vote("m", None, None, kind="identify", correct=True)]
    rows = list(csv.DictReader(io.StringIO(votes_csv(votes))))
    assert len(rows) == 2
    assert rows[0]["system_a"] == "m" and rows[0]["system_b"] == REAL and rows[0]["winner"] == "m"
    assert rows[0]["settings_b"] == '{"piece": "bwv1"}' and rows[0]["soundfont"] == "FluidR3_GM.sf2"
    assert rows[0]["voted_at"] == "2026-01-02T03:04:05+00:00" and rows[1]["correct"] == "True"
    assert rows[1]["system_b"] == "" and rows[1]["seed_b"] == ""


def test_position_bias_is_a_binomial_test_of_left_choices():
    from musicgen.listening import position_bias
    from scipy.stats import binomtest

    answers = ["A"] * 14 + ["B"] * 6 + ["none"] * 5  # ties are not a side
    votes = [dataclasses.replace(vote("x", "y", {"A": "x", "B": "y"}.get(a, "tie")), answer=a) for a in answers]
    bias = position_bias(votes)
    assert (bias.k, bias.n) == (14, 20)
    assert bias.p_value == pytest.approx(binomtest(14, 20, 0.5).pvalue)  # scipy's exact test: 0.1153
    assert bias.p_value == pytest.approx(0.11531829833984375)


def test_votes_for_power_matches_the_textbook_sample_size():
    from musicgen.listening import votes_for_power

    # One-sample binomial test, H0 p = 0.5 vs p = 0.6, two-sided alpha 0.05, power 0.8: n = 194 (the normal
    # approximation with the null variance under z_a and the alternative's under z_b, e.g. Chow, Shao & Wang).
    assert votes_for_power(0.6) == votes_for_power(0.4) == 194
    assert votes_for_power(0.7) == 47 and votes_for_power(0.5) is None and votes_for_power(float("nan")) is None
    assert votes_for_power(0.6, power=0.9) > 194


def test_identification_counts_only_pair_and_identify_votes():
    # a rating vote of a real clip has no winner: it is not a pair vote that the real piece lost
    rated = dataclasses.replace(vote(REAL, None, None), kind="mos", answer="4")
    assert identification([rated]) is None


def test_csv_export_keeps_criteria_answers_and_further_clips():
    rows = list(csv.DictReader(io.StringIO(votes_csv([vote("m", REAL, "m")]))))
    assert {"more_clips", "answers", "catch_answer"} <= set(rows[0]) and rows[0]["answers"] == ""
    if "answers" in {f.name for f in dataclasses.fields(Vote)}:
        v = dataclasses.replace(vote("m", REAL, "m"), answers={"musical": "A", "coherent": "none"},
                                more_clips=[["x", 3, {"temperature": 1.0}]])
        [row] = csv.DictReader(io.StringIO(votes_csv([v])))
        assert row["answers"] == '{"coherent": "none", "musical": "A"}'
        assert row["more_clips"] == '[["x", 3, {"temperature": 1.0}]]'
