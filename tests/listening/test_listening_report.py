"""The study report: analysis with and without exclusions, adapters from votes, the self-contained HTML."""

import base64
import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from musicgen import listening as L
from musicgen.listening import report as R
from musicgen.listening.ratings import ExclusionRule
from musicgen.listening.store import TrialRecord, Vote

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SF = "/usr/share/sounds/sf2/FluidR3_GM.sf2"


def _settings(system: str, **extra) -> dict:
    base = {"corpus": "bach-chorales", "piece": "bwv1", "seconds": 10.0} if system == L.REAL else \
        {"seconds": 10.0, "temperature": 1.0, "top_k": None, "top_p": None, "primer": "none",
         "weights_sha256": "ab" * 32}
    return {**base, **extra}


def add_pair_vote(store, study_id: str, pid: str, number: int, a: str, b: str, answer: str, *, seconds=6.0,
                  catch: bool = False) -> Vote:
    """A served trial and its vote, written straight to the store (no models or audio needed)."""
    token = f"{study_id}-{pid}-{number}"
    sa = _settings(a, catch=True, broken=True) if catch else _settings(a)  # A: the scrambled clip
    sb = _settings(b, catch=True) if catch else _settings(b)
    store.insert_trial(TrialRecord(token, study_id, pid, number, "pair", a, number, sa, b, 100 + number, sb,
                                   SF, 22050, T0 + timedelta(minutes=number)))
    return store.record_vote(token, answer, response_seconds=seconds)


def pair_study(store, study_id: str = "demo") -> L.StudySpec:
    """Three participants vote on markov vs real; `careless` fails its catch trial; `tie` only says no
    preference."""
    spec = store.save_study(L.StudySpec.from_dict({
        "id": study_id, "title": "Bach <test> & co", "systems": ["markov", "real"], "trials_per_participant": 4,
        "clip": {"seconds": 10, "temperature": 0.9}}))
    n = 0
    for pid, answers in (("alice", "BBBA"), ("bob", "BBAB"), ("careless", "AAAA")):
        for answer in answers:
            n += 1
            add_pair_vote(store, study_id, pid, n, "markov", "real", answer, seconds=4.0 + n)
    n += 1
    add_pair_vote(store, study_id, "alice", n, "real", "real", "B", catch=True)  # right: B is the intact one
    n += 1
    add_pair_vote(store, study_id, "careless", n, "real", "real", "A", catch=True)  # chose the scrambled clip
    return spec


@pytest.fixture
def store(tmp_path):
    s = L.VoteStore(f"sqlite:///{tmp_path / 'votes.db'}")
    yield s
    s.close()


def test_analysis_excludes_by_the_rule_and_reports_both(store):
    pair_study(store)
    a = R.analyse_study(store, "demo", n_boot=50)
    assert a.catch_votes == 2 and len(a.everyone.votes) == 12
    assert a.excluded == {"careless": ["failed 1 of 1 catch trials"]}
    recs = {r.participant: r for r in a.records}
    assert recs["alice"].catch_score == 1.0 and recs["alice"].trials == 4
    assert recs["alice"].median_seconds == pytest.approx(6.5)  # 5, 6, 7, 8 seconds
    [everyone] = a.everyone.pairs
    [kept] = a.kept.pairs
    assert (everyone.wins_a, everyone.wins_b) == (6, 6)  # markov won alice's 1, bob's 1, careless's 4
    assert (kept.wins_a, kept.wins_b) == (2, 6) and a.kept.participants == 2
    assert (a.everyone.position.k, a.everyone.position.n) == (6, 12)  # A (markov here) chosen 1 + 1 + 4 times
    assert (a.kept.position.k, a.kept.position.n) == (2, 8)


def test_no_exclusions_when_the_rule_is_off(store):
    pair_study(store)
    a = R.analyse_study(store, "demo", rule=ExclusionRule(), n_boot=20)
    assert a.excluded == {} and a.kept is a.everyone


def test_report_is_one_escaped_offline_file_with_both_results_and_the_votes(store):
    pair_study(store)
    page = R.study_report(store, "demo", n_boot=50)
    assert page.startswith("<!DOCTYPE html>") and page.count("<html") == 1
    assert "Bach &lt;test&gt; &amp; co" in page and "Bach <test>" not in page  # escaped
    assert page.count("plotly.js v") == 1 or page.count("Plotly=") >= 1  # plotly.js inline, once
    assert 'src="https://cdn' not in page and " src=" not in page  # no network needed
    assert page.count('class="plotly-graph-div"') == 8  # 4 figures, with and without the excluded
    for text in ("Methods", "Results without the excluded participants", "Results with everyone",
                 "Position bias", "Votes needed", "Ranking (Bradley–Terry)", "Participants",
                 "failed 1 of 1 catch trials", "temperature 0.9", "FluidR3_GM.sf2", "3 participants gave 14 answers"):
        assert text in page, text
    csv_b64 = re.search(r'download="demo-votes.csv" href="data:text/csv;charset=utf-8;base64,([^"]+)"', page)[1]
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(csv_b64).decode())))
    assert len(rows) == 14 and rows[0]["system_a"] == "markov" and rows[0]["soundfont"] == SF
    json_b64 = re.search(r'download="demo-votes.json" href="data:application/json;charset=utf-8;base64,([^"]+)"',
                         page)[1]
    data = json.loads(base64.b64decode(json_b64))
    assert data["study"]["id"] == "demo" and len(data["votes"]) == 14
    assert sum(v["catch"] for v in data["votes"]) == 2


def test_report_with_a_cdn_link_is_small(store):
    pair_study(store)
    small = R.study_report(store, "demo", n_boot=10, inline_plotlyjs=False)
    assert 'src="https://cdn.plot.ly' in small and len(small) < 300_000


def test_report_of_a_study_without_votes(store):
    store.save_study(L.StudySpec.from_dict({"id": "empty", "systems": ["markov", "real"]}))
    page = R.study_report(store, "empty", n_boot=10)
    assert "0 participants gave 0 answers" in page and "0 counted votes" in page


def test_methods_paragraph_names_the_study_data(store):
    pair_study(store)
    text = R.methods_paragraph(R.analyse_study(store, "demo", n_boot=10))
    assert "paired comparison" in text and "markov (temperature 0.9; weights sha256 abababababab…)" in text
    assert "real (openings of held-out pieces of bach-chorales)" in text
    assert "Every clip was cut to 10 s" in text and "at least 5 s" in text
    assert "1 of 3 participants were left out" in text and "12 counted trials, 2 catch trials" in text


# ---- votes of rating studies (the shapes the adapters read) --------------------------------------------
@dataclass(frozen=True)
class RatedVote(Vote):
    ratings: dict | list | None = None
    systems: list | None = None


def _rated(kind, pid, token, ratings, systems=("markov",), **kw) -> RatedVote:
    return RatedVote(token=token, study_id="r", participant_id=pid, number=1, kind=kind, system_a=systems[0],
                     seed_a=1, settings_a=_settings(systems[0]), system_b=None, seed_b=None, settings_b=None,
                     soundfont=SF, sample_rate=22050, served_at=T0, id=1, answer="", voted_at=T0 + timedelta(seconds=9),
                     ratings=ratings, systems=list(systems), **kw)


def test_rating_rows_read_every_documented_shape():
    three = ("markov", "lstm", "real")
    votes = [_rated("mos", "p1", "t1", {"musical": 4, "coherent": 2}),
             _rated("mushra", "p1", "t2", {"musical": {"1": 10, "2": 50, "3": 90}}, three),
             _rated("mushra", "p2", "t3", {"0": {"musical": 20}, "1": {"musical": 40}, "2": {"musical": 80}}, three),
             _rated("mushra", "p3", "t4", [{"system": "real", "criterion": "musical", "value": 70}], three),
             _rated("mushra", "p4", "t5", {"musical": {"A": 1, "B": 2, "C": 3}}, three),
             Vote(token="t6", study_id="r", participant_id="p5", number=1, kind="mos", system_a="real", seed_a=1,
                  settings_a={}, system_b=None, seed_b=None, settings_b=None, soundfont=SF, sample_rate=1,
                  served_at=T0, answer="5")]
    rows = [(r.participant, r.system, r.criterion, r.value) for r in R.rating_rows(votes)]
    assert rows == [("p1", "markov", "musical", 4), ("p1", "markov", "coherent", 2),
                    ("p1", "markov", "musical", 10), ("p1", "lstm", "musical", 50), ("p1", "real", "musical", 90),
                    ("p2", "markov", "musical", 20), ("p2", "lstm", "musical", 40), ("p2", "real", "musical", 80),
                    ("p3", "real", "musical", 70),
                    ("p4", "markov", "musical", 1), ("p4", "lstm", "musical", 2), ("p4", "real", "musical", 3),
                    ("p5", "real", "overall", 5)]


def test_mos_and_mushra_reports():
    mos_spec = L.StudySpec.from_dict({"id": "m", "systems": ["markov", "real"], "kind": "pair"})
    votes = [_rated("mos", f"p{i}", f"t{i}", {"overall": 3 + i % 2}, ("markov",)) for i in range(6)]
    votes += [_rated("mos", f"p{i}", f"u{i}", {"overall": 3}, ("real",)) for i in range(6)]
    mos_spec = _as_kind(mos_spec, "mos")
    a = R.analyse(mos_spec, votes, n_boot=10)
    assert a.excluded == {"p0": ["rating SD 0 below 1e-09"], "p2": ["rating SD 0 below 1e-09"],
                          "p4": ["rating SD 0 below 1e-09"]}  # gave 3 and 3: no spread at all
    assert [(m.system, m.n, m.mean) for m in a.everyone.mos] == [("markov", 6, 3.5), ("real", 6, 3.0)]
    page = R.report_html(a)
    assert "Mean opinion scores" in page and page.count('class="plotly-graph-div"') == 2

    three = ("markov", "lstm", "real")
    mu = _as_kind(L.StudySpec.from_dict({"id": "u", "systems": list(three)}), "mushra")
    votes = [_rated("mushra", f"p{i}", f"t{i}", {"musical": {"1": 10 + i, "2": 40 + 2 * i, "3": 90 - i}}, three)
             for i in range(8)]
    a = R.analyse(mu, votes, n_boot=10)
    [r] = a.everyone.mushra
    assert r.blocks == 8 and r.friedman_p < 0.01
    page = R.report_html(a)
    assert "Friedman test over 8 complete blocks" in page and "Pairwise Wilcoxon" in page


def _as_kind(spec, kind):
    import dataclasses

    return dataclasses.replace(spec, kind=kind)
