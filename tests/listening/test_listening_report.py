"""The study report: analysis with and without exclusions, adapters from votes, the self-contained HTML."""

import base64
import csv
import io
import json
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import pytest

from musicgen import listening as L
from musicgen.listening import report as R
from musicgen.listening.ratings import ExclusionRule, Rating
from musicgen.listening.store import TrialRecord, Vote

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CATCH_ANSWERS = "catch_answer" in {f.name for f in fields(TrialRecord)}
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
    sa, sb, extra = _settings(a), _settings(b), {}
    if catch and CATCH_ANSWERS:  # the store knows a catch trial's right answer: B, the intact clip
        extra["catch_answer"] = "B"
    elif catch:  # a catch trial marked in its clips' settings (A: the scrambled clip)
        sa, sb = _settings(a, catch=True, broken=True), _settings(b, catch=True)
    store.insert_trial(TrialRecord(token, study_id, pid, number, "pair", a, number, sa, b, 100 + number, sb,
                                   SF, 22050, T0 + timedelta(minutes=number), **extra))
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
    assert "(participants with more than 25% of their catch trials answered wrongly were left out)" in text
    assert f", on {datetime.now(UTC):%Y-%m-%d}." in text  # every vote on one day


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
    assert a.excluded == {"p0": ["gave every clip the same rating"], "p2": ["gave every clip the same rating"],
                          "p4": ["gave every clip the same rating"]}  # gave 3 and 3: no spread at all
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


# ---- studies stored through the store's own rating and criteria calls ----------------------------------
needs_rating_store = pytest.mark.skipif(not hasattr(L.VoteStore, "ratings"),
                                        reason="the store has no ratings table yet")


def _trial(store, study_id, pid, number, kind, systems):
    clips = [(s, 10 * number + i, _settings(s)) for i, s in enumerate(systems)]
    more = [[s, seed, st] for s, seed, st in clips[2:]] or None
    (sa, seed_a, st_a) = clips[0]
    (sb, seed_b, st_b) = clips[1] if len(clips) > 1 else (None, None, None)
    token = f"{study_id}-{pid}-{number}"
    store.insert_trial(TrialRecord(token, study_id, pid, number, kind, sa, seed_a, st_a, sb, seed_b, st_b, SF, 22050,
                                   T0, more_clips=more))
    return token


@needs_rating_store
def test_a_stored_mushra_study_with_two_criteria(store):
    three = ["markov", "lstm", "real"]
    store.save_study(L.StudySpec.from_dict({"id": "mu", "kind": "mushra", "systems": three,
                                            "criteria": ["musical", "coherent"]}))
    for p in range(6):
        for n in range(2):
            order = three[n:] + three[:n]  # the screen order changes per trial
            token = _trial(store, "mu", f"p{p}", n + 1, "mushra", order)
            value = {"markov": 20 + p, "lstm": 50 + p, "real": 80 - p}
            store.record_vote(token, ratings={"musical": [value[s] for s in order],
                                              "coherent": [value[s] - 5 for s in order]})
    a = R.analyse_study(store, "mu", n_boot=10)
    assert [r.criterion for r in a.everyone.mushra] == ["musical", "coherent"]
    musical = a.everyone.mushra[0]
    assert musical.blocks == 12 and [s.system for s in musical.systems] == ["lstm", "markov", "real"]
    assert [s.median for s in musical.systems] == [52.5, 22.5, 77.5]
    assert musical.friedman_p < 1e-4 and all(t.significant for t in musical.pairwise)
    page = R.report_html(a)
    assert "Ratings: musical" in page and "Ratings: coherent" in page and "72 ratings were given" in page
    assert 'download="mu-ratings.csv"' in page
    assert a.rule.max_catch_fail_share is None and "catch" not in R.methods_paragraph(a)  # no catch trials here
    assert "2 questions per trial: “How musical is each clip?” (musical)" in R.methods_paragraph(a)


@needs_rating_store
def test_a_stored_mos_study_excludes_a_flat_rater(store):
    store.save_study(L.StudySpec.from_dict({"id": "mo", "kind": "mos", "systems": ["markov", "real"]}))
    n = 0
    for p, scores in (("p1", (2, 4)), ("p2", (1, 5)), ("flat", (3, 3))):
        for system, score in zip(("markov", "real"), scores):
            n += 1
            store.record_vote(_trial(store, "mo", p, n, "mos", [system]), ratings={"overall": [score]})
    a = R.analyse_study(store, "mo", n_boot=10)
    assert a.excluded == {"flat": ["gave every clip the same rating"]}
    assert [(m.system, m.mean) for m in a.everyone.mos] == [("markov", 2.0), ("real", 4.0)]
    assert [(m.system, m.mean) for m in a.kept.mos] == [("markov", 1.5), ("real", 4.5)]


@needs_rating_store
def test_a_pair_study_with_criteria_is_analysed_per_criterion(store):
    store.save_study(L.StudySpec.from_dict({"id": "pc", "systems": ["markov", "real"],
                                            "criteria": ["musical", "coherent"]}))
    for n, (musical, coherent) in enumerate([("A", "B"), ("A", "A"), ("B", "none")], start=1):
        store.record_vote(_trial(store, "pc", f"p{n}", n, "pair", ["markov", "real"]),
                          answers={"musical": musical, "coherent": coherent})
    a = R.analyse_study(store, "pc", n_boot=10)
    (c1, musical), (c2, coherent) = a.everyone.by_criterion
    assert (c1, c2) == ("musical", "coherent")
    assert (musical.pairs[0].wins_a, musical.pairs[0].wins_b) == (2, 1)
    assert (coherent.pairs[0].wins_a, coherent.pairs[0].wins_b, coherent.pairs[0].ties) == (1, 1, 1)
    page = R.report_html(a)
    assert "Criterion musical" in page and "Criterion coherent" in page


def test_rating_figures_show_intervals_and_explain_empty_inputs():
    from musicgen.listening.ratings import mean_opinion_scores, mushra_analysis
    from musicgen.plots_listening import mean_scores_figure, mushra_figure

    scores = mean_opinion_scores([("p1", "a", "musical", 4), ("p2", "a", "musical", 2), ("p1", "b", "musical", 5),
                                  ("p1", "a", "coherent", 3)])
    fig = mean_scores_figure(scores, {"a": "Model A"})
    assert [t.name for t in fig.data] == ["musical", "coherent"] and list(fig.data[0].x) == ["Model A", "b"]
    assert fig.data[0].error_y.array[0] == pytest.approx(scores[0].high - 3)
    [r] = mushra_analysis([Rating(f"p{i}", s, "c", v, "t") for i in range(6) for s, v in (("x", 10 * i), ("y", 50))])
    fig = mushra_figure(r)
    assert list(fig.data[0].y) == [25.0, 50.0] and [t.name for t in fig.data] == ["median", "mean"]
    for empty in (mean_scores_figure([]), mushra_figure(None)):
        assert empty.layout.annotations[0].text == "no ratings yet"


def test_catch_outcomes_from_the_stored_result_or_a_marked_clip():
    def catch_vote(answer, correct=None):
        return Vote(token=f"c{answer}{correct}", study_id="s", participant_id="p", number=1, kind="pair",
                    system_a=L.REAL, seed_a=1, settings_a=_settings(L.REAL, catch=True, broken=True), system_b=L.REAL,
                    seed_b=1, settings_b=_settings(L.REAL, catch=True), soundfont=SF, sample_rate=1, served_at=T0,
                    answer=answer, winner=L.REAL, correct=correct)

    votes = [catch_vote("A"), catch_vote("B"), catch_vote("none"), catch_vote("A", correct=True)]
    assert all(R.is_catch(v) for v in votes)
    assert R.catch_outcomes(votes) == [("p", False), ("p", True), ("p", False), ("p", True)]
    if CATCH_ANSWERS:
        import dataclasses

        known = dataclasses.replace(votes[0], settings_a={}, settings_b={}, catch_answer="B", correct=False)
        assert R.is_catch(known) and R.catch_outcomes([known]) == [("p", False)]


@pytest.mark.skipif("catch_rate" not in {f.name for f in fields(L.StudySpec)}, reason="no catch trials yet")
def test_methods_name_continuation_trials_and_the_catch_rule():
    spec = L.StudySpec.from_dict({"id": "c", "systems": ["markov", "real"], "catch_rate": 0.2,
                                  "max_catch_fail_share": 0, "clip": {"primer": "heldout", "primer_seconds": 4}})
    a = R.analyse(spec, [], n_boot=0)
    assert a.rule.max_catch_fail_share == 0 and a.rule.min_rating_sd is None
    text = R.methods_paragraph(a)
    assert "Every trial continued the opening (4 s) of one held-out piece" in text
    assert "About 20% of each participant's trials were catch trials" in text
    assert "participants with any catch trial answered wrongly were left out" in text
