"""Rating statistics (MOS, MUSHRA) and participant screening, against hand-computed and scipy values."""

import math

import numpy as np
import pytest
from scipy import stats as sps

from musicgen.listening.ratings import (
    ExclusionRule,
    Rating,
    exclusions,
    holm,
    mean_opinion_scores,
    mushra_analysis,
    participant_records,
    t_interval,
)


def test_t_interval_by_hand_and_against_scipy():
    # 1..5: mean 3, s = sqrt(2.5), se = s/sqrt(5) = 0.70711, t(4, 0.975) = 2.776445: half-width 1.963243
    mean, low, high = t_interval([1, 2, 3, 4, 5])
    assert mean == 3 and low == pytest.approx(1.036757, abs=1e-6) and high == pytest.approx(4.963243, abs=1e-6)
    x = [4, 5, 3, 4, 4, 2, 5, 5, 3, 4]
    ref = sps.ttest_1samp(x, 0).confidence_interval(0.95)
    assert t_interval(x)[1:] == pytest.approx((ref.low, ref.high), rel=1e-12)
    assert math.isnan(t_interval([3])[1]) and math.isnan(t_interval([])[0])


def test_mos_per_system_and_criterion():
    rows = [("p1", "lstm", "musical", 4), ("p2", "lstm", "musical", 5), ("p3", "lstm", "musical", 3),
            ("p1", "markov", "musical", 2), ("p2", "markov", "musical", 2),
            ("p1", "lstm", "coherent", 3), Rating("p2", "lstm", "coherent", 5)]
    scores = mean_opinion_scores(rows)
    assert [(s.criterion, s.system, s.n) for s in scores] == [("musical", "lstm", 3), ("musical", "markov", 2),
                                                            ("coherent", "lstm", 2)]
    lstm = scores[0]
    assert lstm.mean == 4 and lstm.sd == 1  # 4, 5, 3: s = 1; half-width t(2) · 1/sqrt(3) = 4.302653 / 1.732051
    assert lstm.high - lstm.mean == pytest.approx(2.484138, abs=1e-6)
    markov = scores[1]
    assert markov.mean == 2 and markov.sd == 0 and markov.low == markov.high == 2
    with pytest.raises(ValueError, match="not a number"):
        mean_opinion_scores([("p1", "x", "c", float("nan"))])


def test_holm_by_hand():
    # sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → 0.06 (monotone);
    # statsmodels' multipletests(method="holm") gives the same
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.01, 0.2, 0.2, 0.03, 0.9]) == pytest.approx([1.0, 0.06, 0.8, 0.8, 0.15, 1.0])
    assert holm([]) == []


def _mushra_rows(table, systems, criterion="overall"):
    return [Rating(f"p{b}", s, criterion, v, trial="t1") for b, row in enumerate(table) for s, v in zip(systems, row)]


def test_friedman_by_hand_when_every_block_ranks_alike():
    # 4 blocks, 3 systems, ranks 1, 2, 3 in every block: chi² = 12/(n k (k+1)) ΣR² − 3n(k+1)
    # = 12/48 · (16 + 64 + 144) − 48 = 8, and with 2 degrees of freedom p = exp(−8/2)
    table = [[10, 20, 30], [40, 50, 60], [5, 55, 95], [0, 1, 2]]
    [r] = mushra_analysis(_mushra_rows(table, ["a", "b", "c"]))
    assert r.blocks == 4 and r.incomplete == 0
    assert r.friedman_statistic == pytest.approx(8.0) and r.friedman_p == pytest.approx(math.exp(-4))


def test_friedman_and_wilcoxon_match_scipy_with_holm():
    rng = np.random.default_rng(3)
    table = np.clip(rng.normal([40, 55, 70], 15, size=(12, 3)).round(), 0, 100)
    rows = _mushra_rows(table, ["a", "b", "c"])
    rows.append(Rating("p99", "a", "overall", 50, trial="t1"))  # an incomplete block: left out of the tests
    [r] = mushra_analysis(rows)
    assert r.blocks == 12 and r.incomplete == 1
    ref = sps.friedmanchisquare(*table.T)
    assert r.friedman_statistic == pytest.approx(ref.statistic) and r.friedman_p == pytest.approx(ref.pvalue)
    raw = [sps.wilcoxon(table[:, i], table[:, j]).pvalue for i, j in ((0, 1), (0, 2), (1, 2))]
    assert [t.p_value for t in r.pairwise] == pytest.approx(raw)
    assert [t.p_holm for t in r.pairwise] == pytest.approx(holm(raw))
    assert [(t.a, t.b) for t in r.pairwise] == [("a", "b"), ("a", "c"), ("b", "c")]
    assert r.pairwise[1].median_difference == pytest.approx(np.median(table[:, 0] - table[:, 2]))
    a = r.systems[0]
    assert a.n == 13 and a.median == np.median([*table[:, 0], 50])


def test_wilcoxon_textbook_example():
    # scipy's documented example (Cushny & Peebles via Fisher): statistic 24, exact two-sided p = 0.041259765625
    d = [6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75]
    rows = _mushra_rows([[x, 0] for x in d], ["x", "y"])
    [r] = mushra_analysis(rows)
    [t] = r.pairwise
    assert t.statistic == 24 and t.p_value == pytest.approx(0.041259765625) and t.p_holm == t.p_value
    assert r.friedman_statistic is None  # two systems: the Wilcoxon test is the whole story


def test_median_interval_from_order_statistics():
    # n = 10: P(B ≤ 1) = 11/1024 ≤ 0.025 < P(B ≤ 2) = 56/1024, so the 95 % interval is x(2)..x(9)
    rows = [Rating(f"p{i}", "a", "c", v, trial="t") for i, v in enumerate(range(1, 11))]
    [r] = mushra_analysis(rows)
    [s] = r.systems
    assert (s.median, s.median_low, s.median_high) == (5.5, 2, 9)


def test_identical_ratings_give_no_evidence_of_difference():
    [r] = mushra_analysis(_mushra_rows([[50, 50, 50]] * 4, ["a", "b", "c"]))
    assert r.friedman_p == 1.0 and all(t.p_value == 1.0 and not t.significant for t in r.pairwise)


def test_criteria_are_analysed_apart():
    rows = _mushra_rows([[1, 2], [3, 4]], ["a", "b"], "musical") + _mushra_rows([[5, 5]], ["a", "b"], "coherent")
    assert [r.criterion for r in mushra_analysis(rows)] == ["musical", "coherent"]


def test_participant_records_time_catch_and_variance():
    trials = [("p1", 10.0), ("p1", 20.0), ("p1", 40.0), ("p2", None), ("p2", 8.0)]
    catches = [("p1", True), ("p1", False), ("p2", True), ("p3", False)]
    ratings = [("p1", 3), ("p1", 3), ("p2", 1), ("p2", 5), Rating("p3", "a", "c", 2)]
    recs = {r.participant: r for r in participant_records(trials, catches, ratings)}
    assert list(recs) == ["p1", "p2", "p3"]
    p1, p2, p3 = recs["p1"], recs["p2"], recs["p3"]
    assert (p1.trials, p1.median_seconds, p1.catch_score, p1.rating_sd) == (3, 20.0, 0.5, 0.0)
    assert (p2.trials, p2.median_seconds, p2.catch_score) == (2, 8.0, 1.0)
    assert p2.rating_sd == pytest.approx(math.sqrt(8))  # 1 and 5: s² = 8
    assert (p3.trials, p3.median_seconds, p3.catch_score, p3.rating_sd) == (0, None, 0.0, None)


def test_exclusions_follow_the_stated_rule_and_say_why():
    recs = participant_records([("good", 5), ("flat", 5), ("careless", 5), ("quick", 5)] + [("good", 5)] * 3,
                               [("good", True), ("good", True), ("careless", True), ("careless", False),
                                ("flat", True)],
                               [("good", 1), ("good", 4), ("flat", 3), ("flat", 3), ("careless", 2), ("careless", 5)])
    rule = ExclusionRule(max_catch_fail_share=0.25, min_rating_sd=1e-9, min_trials=2)
    out = exclusions(recs, rule)
    assert out == {"careless": ["failed 1 of 2 catch trials", "answered 1 trials, fewer than 2"],
                   "flat": ["gave every clip the same rating", "answered 1 trials, fewer than 2"],
                   "quick": ["answered 1 trials, fewer than 2"]}
    assert exclusions(recs, ExclusionRule(max_catch_fail_share=0.5)) == {}  # 1 of 2 wrong is not more than half
    assert exclusions(recs, ExclusionRule()) == {} and not ExclusionRule().active
    assert "more than 25% of their catch trials" in rule.describe()
    assert ExclusionRule(max_catch_fail_share=0).describe().startswith("participants with any catch trial")


def test_a_failed_headphone_check_excludes_only_when_the_rule_says_so():
    recs = participant_records([("a", 5), ("b", 5), ("c", 5)], headphones=[("a", False), ("b", True), ("z", False)])
    assert [r.headphones_passed for r in recs] == [False, True, None]  # "z" never answered a trial: no record
    assert exclusions(recs, ExclusionRule()) == {}
    rule = ExclusionRule(failed_headphones=True)
    assert exclusions(recs, rule) == {"a": ["failed the headphone check"]}
    assert rule.active and rule.describe() == "participants with a failed headphone check were left out"


def test_a_small_rating_spread_below_the_threshold_is_named():
    recs = participant_records([("a", 1)], ratings=[("a", 3), ("a", 3.1)])
    assert exclusions(recs, ExclusionRule(min_rating_sd=0.5)) == {"a": ["rating SD 0.0707 below 0.5"]}
    assert ExclusionRule(min_rating_sd=1e-9).describe() == "participants with the same rating for every clip were left out"
