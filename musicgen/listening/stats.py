"""Statistics of a study's votes: pair results, win matrix, Bradley–Terry ranking, identification rate, CSV.

Pure functions of a list of `Vote`s (from `VoteStore.votes(study_id)`). Conventions:
* a "no preference" vote is a tie: counted in `n` and `ties`, left out of win rates and binomial tests
  (the decisive votes are the trials), and counted as half a win each way in Bradley–Terry;
* intervals are Wilson score intervals and p-values exact two-sided binomial tests (scipy.stats.binomtest)
  against 50 %;
* Bradley–Terry strengths are fitted with Hunter's MM algorithm and scaled to a geometric mean of 1, so
  P(i beats j) = s_i / (s_i + s_j); intervals are percentile bootstraps over votes with a fixed seed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, norm

from musicgen.listening.store import TIE, Vote
from musicgen.listening.study import REAL


@dataclass(frozen=True)
class Proportion:
    """k successes of n, with a Wilson interval and an exact two-sided binomial test against 1/2."""

    k: int
    n: int
    low: float
    high: float
    p_value: float

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else float("nan")


def proportion(k: int, n: int, *, confidence: float = 0.95) -> Proportion:
    if n == 0:
        return Proportion(0, 0, 0.0, 1.0, 1.0)
    test = binomtest(int(k), int(n), 0.5)
    ci = test.proportion_ci(confidence_level=confidence, method="wilson")
    return Proportion(int(k), int(n), float(ci.low), float(ci.high), float(test.pvalue))


def wilson_interval(k: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    p = proportion(k, n, confidence=confidence)
    return p.low, p.high


@dataclass(frozen=True)
class PairResult:
    a: str
    b: str
    wins_a: int
    wins_b: int
    ties: int
    a_rate: Proportion  # wins of a among the decisive votes, interval and test

    @property
    def n(self) -> int:
        return self.wins_a + self.wins_b + self.ties


def _pair_votes(votes: list[Vote]) -> list[Vote]:
    return [v for v in votes if v.kind == "pair"]


def systems_of(votes: list[Vote]) -> list[str]:
    return sorted({s for v in votes for s in (v.system_a, v.system_b) if s is not None})


def pair_results(votes: list[Vote], *, confidence: float = 0.95) -> list[PairResult]:
    """One row per compared pair (a < b alphabetically)."""
    tally: dict[tuple[str, str], list[int]] = {}
    for v in _pair_votes(votes):
        a, b = sorted((v.system_a, v.system_b))
        t = tally.setdefault((a, b), [0, 0, 0])
        t[2 if v.winner == TIE else 0 if v.winner == a else 1] += 1
    return [PairResult(a, b, wa, wb, ties, proportion(wa, wa + wb, confidence=confidence))
            for (a, b), (wa, wb, ties) in sorted(tally.items())]


@dataclass(frozen=True)
class WinMatrix:
    systems: list[str]
    wins: np.ndarray  # wins[i, j]: votes where systems[i] beat systems[j]
    ties: np.ndarray  # ties[i, j] == ties[j, i]

    def rates(self) -> np.ndarray:
        """wins[i, j] / decisive votes between i and j (NaN where never compared)."""
        total = self.wins + self.wins.T
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, self.wins / total, np.nan)


def win_matrix(votes: list[Vote], systems: list[str] | None = None) -> WinMatrix:
    systems = list(systems or systems_of(votes))
    index = {s: i for i, s in enumerate(systems)}
    wins, ties = np.zeros((len(systems),) * 2), np.zeros((len(systems),) * 2)
    for v in _pair_votes(votes):
        i, j = index[v.system_a], index[v.system_b]
        if v.winner == TIE:
            ties[i, j] += 1
            ties[j, i] += 1
        elif v.winner == v.system_a:
            wins[i, j] += 1
        else:
            wins[j, i] += 1
    return WinMatrix(systems, wins, ties)


def bradley_terry(wins: np.ndarray, *, prior: float = 0.0, tol: float = 1e-10, max_iter: int = 100_000) -> np.ndarray:
    """Bradley–Terry strengths from wins[i, j] (ties as half wins), by Hunter's (2004) MM algorithm.

    `prior` adds that many virtual wins each way to every compared pair, so an undefeated or winless
    system gets a finite strength. Strengths have geometric mean 1; a system never compared is NaN.
    """
    w = np.asarray(wins, dtype=float)
    n = w + w.T
    w = w + prior * (n > 0)
    n = w + w.T
    compared = n.sum(axis=1) > 0
    if not compared.any():  # no votes at all: every strength is unknown
        return np.full(len(compared), np.nan)
    w, n = w[np.ix_(compared, compared)], n[np.ix_(compared, compared)]
    won = w.sum(axis=1)
    p = np.ones(len(w))
    for _ in range(max_iter):
        denom = (n / (p[:, None] + p[None, :])).sum(axis=1)
        new = won / denom
        with np.errstate(divide="ignore"):
            new = new / np.exp(np.mean(np.log(new[new > 0]))) if (new > 0).any() else new
        done = np.max(np.abs(new - p)) < tol * max(1.0, np.max(p))
        p = new
        if done:
            break
    out = np.full(len(compared), np.nan)
    out[compared] = p
    return out


@dataclass(frozen=True)
class RankedSystem:
    rank: int
    system: str
    strength: float  # Bradley–Terry strength (geometric mean of all systems = 1)
    low: float
    high: float
    votes: int  # pair votes this system took part in


def bradley_terry_ranking(votes: list[Vote], systems: list[str] | None = None, *, n_boot: int = 500,
                          seed: int = 0, confidence: float = 0.95, prior: float = 0.1) -> list[RankedSystem]:
    """Systems best first, with percentile bootstrap intervals (votes resampled with replacement)."""
    m = win_matrix(votes, systems)
    k = len(m.systems)
    if k == 0:
        return []
    half = m.wins + m.ties / 2
    fit = bradley_terry(half, prior=prior)
    # Resampling votes = a multinomial draw over the (i, j, outcome) cells, each cell a count of votes.
    cells = [(i, j, 1.0) for i in range(k) for j in range(k) if i != j] + \
            [(i, j, 0.5) for i in range(k) for j in range(i + 1, k)]
    counts = np.array([m.wins[i, j] if f == 1.0 else m.ties[i, j] for i, j, f in cells])
    boots = np.full((n_boot, k), np.nan)
    total = int(counts.sum())
    if total and n_boot:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(total, counts / total, size=n_boot)
        tables = np.zeros((n_boot, k, k))
        for c, (i, j, f) in enumerate(cells):
            tables[:, i, j] += f * draws[:, c]
            if f == 0.5:
                tables[:, j, i] += f * draws[:, c]
        for b in range(n_boot):
            boots[b] = bradley_terry(tables[b], prior=prior, tol=1e-7)
    alpha = (1 - confidence) / 2
    with np.errstate(all="ignore"):
        low = np.nanquantile(boots, alpha, axis=0) if total else np.full(k, np.nan)
        high = np.nanquantile(boots, 1 - alpha, axis=0) if total else np.full(k, np.nan)
    n_votes = (m.wins + m.wins.T + m.ties).sum(axis=1)
    order = sorted(range(k), key=lambda i: -np.nan_to_num(fit[i], nan=-1.0))
    return [RankedSystem(r + 1, m.systems[i], float(fit[i]), float(low[i]), float(high[i]), int(n_votes[i]))
            for r, i in enumerate(order)]


@dataclass(frozen=True)
class Identification:
    """How often listeners told a person's music from a machine's (50 %: they could not)."""

    overall: Proportion
    by_system: dict[str, Proportion]  # per model (pair) or per system (identify): correct calls


def identification(votes: list[Vote], *, confidence: float = 0.95) -> Identification | None:
    """Pair votes between `real` and a model (correct: the real piece was chosen; ties left out), or
    identify votes (correct: person/machine right). None when the votes involve no real pieces."""
    outcomes: list[tuple[str, bool]] = []
    for v in votes:
        if v.kind == "identify":
            outcomes.append((v.system_a, bool(v.correct)))
        elif v.kind == "pair" and REAL in (v.system_a, v.system_b) and v.winner != TIE:
            model = v.system_b if v.system_a == REAL else v.system_a
            outcomes.append((model, v.winner == REAL))
    if not outcomes:
        return None
    groups: dict[str, list[bool]] = {}
    for system, ok in outcomes:
        groups.setdefault(system, []).append(ok)
    by = {s: proportion(sum(oks), len(oks), confidence=confidence) for s, oks in sorted(groups.items())}
    return Identification(proportion(sum(ok for _, ok in outcomes), len(outcomes), confidence=confidence), by)


CSV_COLUMNS = ("id", "study_id", "participant_id", "number", "kind", "token", "system_a", "seed_a", "settings_a",
               "system_b", "seed_b", "settings_b", "soundfont", "sample_rate", "answer", "winner", "correct",
               "comment", "response_seconds", "listen_seconds", "served_at", "voted_at", "more_clips", "answers",
               "catch_answer")  # the last three: mushra's further clips, answers per criterion, a catch trial's key


def position_bias(votes: list[Vote], *, confidence: float = 0.95) -> Proportion:
    """How often the decisive pair votes chose the clip on the left (A), with its interval and binomial test
    against 1/2. Sides are drawn at random per trial, so a rate far from 50 % is a bias of the listeners (or
    of the page), not of the systems."""
    decisive = [v for v in _pair_votes(votes) if v.answer in ("A", "B")]
    return proportion(sum(v.answer == "A" for v in decisive), len(decisive), confidence=confidence)


def votes_for_power(rate: float, *, alpha: float = 0.05, power: float = 0.8) -> int | None:
    """Decisive votes a pair needs for a two-sided binomial test at `alpha` to detect a true win rate `rate`
    (vs 1/2) with probability `power`: the normal approximation n = ((z_a/2 * 0.5 + z_b * sqrt(r(1-r))) /
    (r - 0.5))^2 (e.g. r = 0.6: 194). None when there is no effect to detect (r = 0.5) or no rate."""
    if rate is None or not np.isfinite(rate) or abs(rate - 0.5) < 1e-9 or not 0 < rate < 1:
        return None
    z_a, z_b = norm.ppf(1 - alpha / 2), norm.ppf(power)
    return int(math.ceil(((z_a * 0.5 + z_b * math.sqrt(rate * (1 - rate))) / (rate - 0.5)) ** 2))


def votes_csv(votes: list[Vote]) -> str:
    """Every vote with its provenance, one row each (settings as JSON, times as ISO 8601 UTC)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for v in votes:
        row = []
        for c in CSV_COLUMNS:
            value = getattr(v, c, None)  # a column the vote does not have (an older record) stays empty
            if isinstance(value, (dict, list)):
                value = json.dumps(value, sort_keys=True)
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            row.append("" if value is None else value)
        writer.writerow(row)
    return out.getvalue()
