"""Statistics of rating studies (MOS, MUSHRA-style) and of participants (screening and exclusions).

Pure functions over plain data, so they work whatever the store keeps:

* a rating is `Rating(participant, system, criterion, value, trial)`, or a tuple in that order (`trial`, the
  block a MUSHRA screen forms, may be left off for MOS);
* a participant's trials are `(participant, seconds on the trial or None)` pairs, catch trials
  `(participant, correct)` pairs, ratings for the variance screen `(participant, value)` pairs or `Rating`s.

Conventions:
* MOS (ITU-T P.800 / P.808 absolute category rating, 1–5): the mean of every rating of a system (per
  criterion) with a 95 % Student t interval, mean ± t(n−1) · s/√n;
* MUSHRA-style 0–100 ratings (ITU-R BS.1534 / BS.2132): a Friedman test across systems over the complete
  blocks (one trial of one participant in which every system was rated), then two-sided Wilcoxon
  signed-rank tests for every pair of systems over those blocks, Holm-corrected; per system the median with
  its distribution-free interval (order statistics, `scipy.stats.quantile_test`) and the mean with its t
  interval (BS.1534's summary);
* exclusions follow a stated `ExclusionRule` (catch-trial failures above a share; near-zero rating spread,
  as P.808 drops raters whose ratings barely vary) and say why each participant is left out.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

__all__ = [
    "ExclusionRule",
    "MeanScore",
    "MushraResult",
    "PairwiseTest",
    "ParticipantRecord",
    "Rating",
    "SystemRatings",
    "exclusions",
    "holm",
    "mean_opinion_scores",
    "mushra_analysis",
    "participant_records",
    "t_interval",
]


@dataclass(frozen=True)
class Rating:
    participant: str
    system: str
    criterion: str
    value: float
    trial: str = ""  # the block: one screen of one participant (MUSHRA); "" when not needed (MOS)


def as_ratings(rows: Iterable) -> list[Rating]:
    """`Rating`s from `Rating`s or tuples (participant, system, criterion, value[, trial])."""
    out = []
    for r in rows:
        if not isinstance(r, Rating):
            participant, system, criterion, value, *trial = r
            r = Rating(str(participant), str(system), str(criterion), float(value), str(trial[0]) if trial else "")
        if not math.isfinite(r.value):
            raise ValueError(f"rating of {r.system} by {r.participant} is not a number: {r.value!r}")
        out.append(r)
    return out


def _criteria(ratings: list[Rating]) -> list[str]:
    return list(dict.fromkeys(r.criterion for r in ratings))  # in the order first seen (the study's order)


def t_interval(values, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): the Student t interval of the mean (NaN bounds with fewer than two values)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan
    half = float(sps.t.ppf(0.5 + confidence / 2, len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x)))
    return mean, mean - half, mean + half


# ---- MOS ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeanScore:
    system: str
    criterion: str
    n: int
    mean: float
    sd: float  # sample standard deviation (NaN for one rating)
    low: float  # t interval of the mean
    high: float


def mean_opinion_scores(rows: Iterable, *, confidence: float = 0.95) -> list[MeanScore]:
    """MOS per (criterion, system): criteria in the order first seen, systems alphabetically."""
    ratings = as_ratings(rows)
    out = []
    for criterion in _criteria(ratings):
        by: dict[str, list[float]] = {}
        for r in ratings:
            if r.criterion == criterion:
                by.setdefault(r.system, []).append(r.value)
        for system, values in sorted(by.items()):
            mean, low, high = t_interval(values, confidence=confidence)
            sd = float(np.std(values, ddof=1)) if len(values) > 1 else math.nan
            out.append(MeanScore(system, criterion, len(values), mean, sd, low, high))
    return out


# ---- MUSHRA ---------------------------------------------------------------------------------------------
def holm(p_values: Iterable[float]) -> list[float]:
    """Holm's step-down adjusted p-values (same order as given): the i-th smallest p times (m − i + 1),
    made monotone and capped at 1 (what statsmodels' multipletests(method="holm") returns)."""
    p = np.asarray(list(p_values), dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = adjusted
    return out.tolist()


@dataclass(frozen=True)
class SystemRatings:
    system: str
    n: int
    median: float
    median_low: float  # distribution-free interval of the median (NaN when too few ratings)
    median_high: float
    mean: float
    mean_low: float  # t interval of the mean
    mean_high: float


@dataclass(frozen=True)
class PairwiseTest:
    a: str
    b: str
    n: int  # complete blocks compared
    median_difference: float  # median of a − b over the blocks
    statistic: float  # Wilcoxon signed-rank statistic (NaN when every difference is zero)
    p_value: float
    p_holm: float
    significant: bool  # p_holm < alpha


@dataclass(frozen=True)
class MushraResult:
    criterion: str
    systems: list[SystemRatings]  # over every rating (complete blocks or not)
    blocks: int  # complete blocks: the Friedman and Wilcoxon tests use these
    incomplete: int  # blocks missing a system, left out of the tests
    friedman_statistic: float | None  # None: fewer than three systems or two complete blocks
    friedman_p: float | None
    pairwise: list[PairwiseTest]
    alpha: float = 0.05


def _median_interval(values, confidence: float) -> tuple[float, float]:
    if len(values) == 0:
        return math.nan, math.nan
    ci = sps.quantile_test(np.asarray(values, dtype=float), q=float(np.median(values)), p=0.5) \
        .confidence_interval(confidence_level=confidence)
    return float(ci.low), float(ci.high)


def _wilcoxon(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    d = x - y
    if len(d) == 0 or np.all(d == 0):
        return math.nan, 1.0  # no difference at all: nothing to test
    res = sps.wilcoxon(x, y)
    return float(res.statistic), float(res.pvalue)


def mushra_analysis(rows: Iterable, *, alpha: float = 0.05, confidence: float = 0.95) -> list[MushraResult]:
    """One `MushraResult` per criterion (in the order first seen). A block is (participant, trial); a system
    rated twice in one block counts with its mean there."""
    ratings = as_ratings(rows)
    results = []
    for criterion in _criteria(ratings):
        mine = [r for r in ratings if r.criterion == criterion]
        systems = sorted({r.system for r in mine})
        per_system = []
        for s in systems:
            values = [r.value for r in mine if r.system == s]
            mean, mlow, mhigh = t_interval(values, confidence=confidence)
            low, high = _median_interval(values, confidence)
            per_system.append(SystemRatings(s, len(values), float(np.median(values)), low, high, mean, mlow, mhigh))
        cells: dict[tuple[str, str], dict[str, list[float]]] = {}
        for r in mine:
            cells.setdefault((r.participant, r.trial), {}).setdefault(r.system, []).append(r.value)
        complete = [b for b in cells.values() if len(b) == len(systems)]
        table = np.array([[float(np.mean(b[s])) for s in systems] for b in complete]).reshape(len(complete),
                                                                                              len(systems))
        f_stat = f_p = None
        if len(systems) >= 3 and len(complete) >= 2:
            if np.all(table == table[:, :1]):  # every block rated every system alike: no ranks to test
                f_stat, f_p = 0.0, 1.0
            else:
                res = sps.friedmanchisquare(*table.T)
                f_stat, f_p = float(res.statistic), float(res.pvalue)
        pairs = [(i, j) for i in range(len(systems)) for j in range(i + 1, len(systems))]
        raw = [_wilcoxon(table[:, i], table[:, j]) for i, j in pairs]
        adjusted = holm([p for _, p in raw])
        tests = [PairwiseTest(systems[i], systems[j], len(complete),
                              float(np.median(table[:, i] - table[:, j])) if len(complete) else math.nan,
                              stat, p, ph, ph < alpha)
                 for (i, j), (stat, p), ph in zip(pairs, raw, adjusted)]
        results.append(MushraResult(criterion, per_system, len(complete), len(cells) - len(complete), f_stat, f_p,
                                    tests, alpha))
    return results


# ---- participants -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParticipantRecord:
    participant: str
    trials: int  # answered trials
    median_seconds: float | None  # median time on a trial (None when no times were stored)
    catch_correct: int
    catch_total: int
    ratings: int
    rating_sd: float | None  # sample SD of the participant's ratings (None with fewer than two)
    headphones_passed: bool | None = None  # the headphone check's result (None: not taken)

    @property
    def catch_score(self) -> float | None:
        """Share of catch trials answered right (None without catch trials)."""
        return self.catch_correct / self.catch_total if self.catch_total else None


def participant_records(trials: Iterable[tuple[str, float | None]], catches: Iterable[tuple[str, bool]] = (),
                        ratings: Iterable = (), headphones: Iterable[tuple[str, bool | None]] = ()
                        ) -> list[ParticipantRecord]:
    """One record per participant seen in `trials`, `catches` or `ratings`, by id (`headphones`, the
    headphone check's (participant, passed), only adds to those)."""
    times: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    for participant, seconds in trials:
        counts[participant] = counts.get(participant, 0) + 1
        times.setdefault(participant, [])
        if seconds is not None and math.isfinite(seconds):
            times[participant].append(float(seconds))
    catch: dict[str, list[bool]] = {}
    for participant, correct in catches:
        catch.setdefault(participant, []).append(bool(correct))
    values: dict[str, list[float]] = {}
    for r in ratings:
        participant, value = (r.participant, r.value) if isinstance(r, Rating) else r
        values.setdefault(participant, []).append(float(value))
    passed = dict(headphones)
    out = []
    for p in sorted(set(counts) | set(catch) | set(values)):
        t, c, v = times.get(p, []), catch.get(p, []), values.get(p, [])
        out.append(ParticipantRecord(p, counts.get(p, 0), statistics.median(t) if t else None, sum(c), len(c),
                                     len(v), statistics.stdev(v) if len(v) > 1 else None, passed.get(p)))
    return out


@dataclass(frozen=True)
class ExclusionRule:
    """Who is left out of the statistics, stated before the study (None: that check is off).

    `max_catch_fail_share`: a participant who got more than this share of their catch trials wrong is left
    out (0: any mistake; 0.25: more than one in four). `min_rating_sd`: a participant whose ratings' standard
    deviation is below this is left out (P.808 drops raters with near-zero variance; 1e-9: only those who gave
    every clip the same score). `min_trials`: fewer answered trials than this are left out. `failed_headphones`:
a participant who failed the headphone check (a study that flags it and lets them go on) is left out."""

    max_catch_fail_share: float | None = None
    min_rating_sd: float | None = None
    min_trials: int | None = None
    failed_headphones: bool = False

    @property
    def active(self) -> bool:
        return self.failed_headphones or any(x is not None for x in (self.max_catch_fail_share, self.min_rating_sd,
                                                                     self.min_trials))

    def describe(self) -> str:
        """The rule in words, for a methods paragraph."""
        parts = []
        if self.max_catch_fail_share is not None:
            parts.append("any catch trial answered wrongly" if self.max_catch_fail_share == 0 else
                         f"more than {self.max_catch_fail_share:.0%} of their catch trials answered wrongly")
        if self.min_rating_sd is not None:
            parts.append("the same rating for every clip" if self.min_rating_sd <= 1e-6 else
                         f"ratings with a standard deviation below {self.min_rating_sd:g}")
        if self.min_trials is not None:
            parts.append(f"fewer than {self.min_trials} answered trials")
        if self.failed_headphones:
            parts.append("a failed headphone check")
        return ("participants with " + "; or ".join(parts) + " were left out") if parts else "no one was left out"


def exclusions(records: Iterable[ParticipantRecord], rule: ExclusionRule) -> dict[str, list[str]]:
    """{participant: [reasons]} for everyone the rule leaves out (participants it keeps are absent)."""
    out: dict[str, list[str]] = {}
    for r in records:
        why = []
        if rule.max_catch_fail_share is not None and r.catch_total:
            failed = r.catch_total - r.catch_correct
            if failed / r.catch_total > rule.max_catch_fail_share + 1e-12:
                why.append(f"failed {failed} of {r.catch_total} catch trials")
        if rule.min_rating_sd is not None and r.rating_sd is not None and r.rating_sd < rule.min_rating_sd:
            why.append("gave every clip the same rating" if r.rating_sd == 0 else
                       f"rating SD {r.rating_sd:.3g} below {rule.min_rating_sd:g}")
        if rule.min_trials is not None and r.trials < rule.min_trials:
            why.append(f"answered {r.trials} trials, fewer than {rule.min_trials}")
        if rule.failed_headphones and r.headphones_passed is False:
            why.append("failed the headphone check")
        if why:
            out[r.participant] = why
    return out
