"""A study's full analysis and its report: one self-contained HTML file for organisers (works offline).

`analyse_study(store, study_id)` reads the study and its votes and computes everything, twice when the
study's exclusion rule leaves anyone out (with everyone, and without those left out). `report_html(analysis)`
writes it up: a methods paragraph made from the study's data, tables, the plotly figures inline (plotly.js
included once), and the votes as CSV and JSON downloads inside the file. `votes_json` is the JSON export.

The store is only read, through its public methods: `get_study`, `votes`, `ratings` (one row per clip and
criterion of a mos/mushra vote), `participants` (headphone check, questionnaire) and `is_closed`. A catch trial
is one whose trial holds its right answer (`catch_answer`; the vote's `correct` says how it went); practice
answers are never votes. The adapters below turn these into plain data (`store_ratings`, `catch_outcomes`,
`trial_seconds`, `criterion_votes`), so the statistics themselves (stats.py, ratings.py) see only lists of
tuples. For a bare list of votes (no store), `rating_rows` reads ratings kept on the votes themselves.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from musicgen.listening import stats
from musicgen.listening.ratings import (
    ExclusionRule,
    MeanScore,
    MushraResult,
    ParticipantRecord,
    Rating,
    exclusions,
    mean_opinion_scores,
    mushra_analysis,
    participant_records,
)
from musicgen.listening.store import TIE, Vote, VoteStore
from musicgen.listening.study import REAL, StudySpec
from musicgen.plots_listening import (
    identification_figure,
    mean_scores_figure,
    mushra_figure,
    pair_win_rates_figure,
    ranking_figure,
    win_matrix_figure,
)

RATING_KINDS = ("mos", "mushra")
DEFAULT_CRITERION = "overall"
# The default rule when a study states none: P.808's screening (catch trials, near-zero rating spread).
DEFAULT_RULE = ExclusionRule(max_catch_fail_share=0.25, min_rating_sd=1e-9)


# ---- adapters: votes → plain data ---------------------------------------------------------------------------
def _settings(v: Vote) -> list[dict]:
    return [c[2] for c in v.clips if isinstance(c[2], dict)]


def _flag(v: Vote, name: str) -> bool:
    return bool(getattr(v, name, False)) or v.kind == name or any(s.get(name) for s in _settings(v))


def is_catch(v: Vote) -> bool:
    """A catch (attention-check) trial: its right answer is known (the trial's `catch_answer`); it is screening,
    not a comparison."""
    return getattr(v, "catch_answer", None) is not None or _flag(v, "catch")


def is_practice(v: Vote) -> bool:
    """A practice trial: never counted."""
    return _flag(v, "practice")


def catch_outcomes(votes: Iterable[Vote]) -> list[tuple[str, bool]]:
    """(participant, answered right) per catch trial: its stored `correct`, else whether the pair vote chose
    the clip that is not marked broken."""
    out = []
    for v in votes:
        if not is_catch(v):
            continue
        correct = v.correct
        if correct is None:  # a pair: right when the chosen side is not the broken clip (both may be `real`)
            broken = [i for i, (_, _, settings) in enumerate(v.clips) if (settings or {}).get("broken")]
            chosen = {"A": 0, "B": 1}.get(v.answer)
            correct = bool(broken) and chosen is not None and chosen not in broken
        out.append((v.participant_id, bool(correct)))
    return out


def trial_seconds(v: Vote) -> float | None:
    """Time on a trial: the stored response time, else from served to voted."""
    if v.response_seconds is not None:
        return float(v.response_seconds)
    if v.voted_at is not None and v.served_at is not None:
        return max(0.0, (v.voted_at - v.served_at).total_seconds())
    return None


def _clip_systems(v: Vote) -> list[str]:
    systems = getattr(v, "systems", None)
    if isinstance(systems, (list, tuple)) and systems:
        return [str(s) for s in systems]
    return [c[0] for c in v.clips]


def _resolve(key, systems: list[str], zero_based: bool) -> str | None:
    if isinstance(key, str) and key in systems:
        return key
    text = str(key).strip()
    if len(text) == 1 and text.isalpha():  # a label A, B, C ...
        i = ord(text.upper()) - ord("A")
    elif text.isdigit():
        i = int(text) - (0 if zero_based else 1)
    else:
        return None
    return systems[i] if 0 <= i < len(systems) else None


def rating_rows(votes: Iterable[Vote]) -> list[Rating]:
    """The ratings of mos/mushra votes (catch and practice trials left out), whatever shape the vote keeps
    them in: `{criterion: value}` (one clip), `{criterion: {clip: value}}`, `{clip: {criterion: value}}`,
    or a list of `{"system"|"clip", "criterion", "value"|"rating"}`; a clip is named by its system, its label
    (A, B, ...; 1, 2, ...) or its index. A vote with no ratings attribute but a numeric `answer` is one
    rating of its clip."""
    rows: list[Rating] = []
    for v in votes:
        if v.kind not in RATING_KINDS or is_catch(v) or is_practice(v):
            continue
        systems = _clip_systems(v)
        data = getattr(v, "ratings", None)
        if isinstance(data, str):
            data = json.loads(data)
        if data is None:
            try:
                data = {DEFAULT_CRITERION: float(v.answer)}
            except (TypeError, ValueError):
                continue
        found: list[tuple[str, str, float]] = []  # (clip key or system, criterion, value)
        if isinstance(data, list):
            for item in data:
                clip = item.get("system", item.get("clip", 0 if len(systems) == 1 else None))
                found.append((clip, item.get("criterion", DEFAULT_CRITERION), item.get("value", item.get("rating"))))
        else:
            for k, val in data.items():
                if isinstance(val, dict):
                    inner = list(val.items())
                    if _resolve(k, systems, True) is not None and not any(_resolve(x, systems, True) is not None
                                                                         for x, _ in inner):
                        found += [(k, c, x) for c, x in inner]  # {clip: {criterion: value}}
                    else:
                        found += [(c, k, x) for c, x in inner]  # {criterion: {clip: value}}
                else:
                    found.append((systems[0], k, val))  # {criterion: value}: one clip
        keys = [str(c) for c, _, _ in found]
        zero_based = "0" in keys
        for clip, criterion, value in found:
            system = _resolve(clip, systems, zero_based)
            if system is None or value is None:
                continue
            rows.append(Rating(v.participant_id, system, str(criterion), float(value), v.token))
    return rows


def store_ratings(rows: Iterable[dict]) -> list[Rating]:
    """`Rating`s from `VoteStore.ratings(study_id)` rows (participant, system, criterion, value; the block is the
    trial's token)."""
    return [Rating(str(r["participant"]), str(r["system"]), str(r["criterion"]), float(r["value"]),
                   str(r.get("token") or r.get("trial") or "")) for r in rows]


def criterion_votes(votes: Iterable[Vote], criterion: str) -> list[Vote]:
    """A pair study with several criteria: its votes as answered on one criterion (from each vote's
    `answers`), so the pair statistics apply unchanged."""
    out = []
    for v in votes:
        answer = (getattr(v, "answers", None) or {}).get(criterion)
        if answer in ("A", "B", "none"):
            out.append(replace(v, answer=answer, winner={"A": v.system_a, "B": v.system_b}.get(answer, TIE)))
    return out


def exclusion_rule(spec: StudySpec) -> ExclusionRule:
    """The study's stated rule: its `exclusion` table or catch/variance fields where it has them, else
    `DEFAULT_RULE`; a study that flags a failed headphone check (and lets the participant go on) leaves them
    out."""
    stated = getattr(spec, "exclusion", None) or getattr(spec, "exclusions", None)
    if isinstance(stated, ExclusionRule):
        return stated
    headphones = getattr(spec, "headphone_check", "off") == "flag"
    if isinstance(stated, dict):
        return ExclusionRule(**{"failed_headphones": headphones,
                                **{k: stated[k] for k in ("max_catch_fail_share", "min_rating_sd", "min_trials",
                                                          "failed_headphones") if k in stated}})
    fields = {"failed_headphones": headphones}
    for name in ("max_catch_fail_share", "catch_max_fail_share", "catch_fail_share", "max_catch_failures"):
        if getattr(spec, name, None) is not None:
            fields["max_catch_fail_share"] = float(getattr(spec, name))
            break
    if spec.kind not in RATING_KINDS:
        fields["min_rating_sd"] = None  # no ratings to screen
    if getattr(spec, "min_rating_sd", None) is not None:
        fields["min_rating_sd"] = float(spec.min_rating_sd)
    return replace(DEFAULT_RULE, **fields)


# ---- the analysis -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Analysis:
    """The statistics of one set of votes (catch and practice trials already left out)."""

    votes: list[Vote]
    participants: int
    pairs: list[stats.PairResult]
    matrix: stats.WinMatrix
    ranking: list[stats.RankedSystem]
    identification: stats.Identification | None
    position: stats.Proportion
    mos: list[MeanScore]
    mushra: list[MushraResult]
    ratings: int = 0
    by_criterion: tuple = ()  # pair studies with several criteria: (criterion, Analysis) per criterion


@dataclass(frozen=True)
class StudyAnalysis:
    spec: StudySpec
    votes: list[Vote]  # every stored vote (catch trials too)
    records: list[ParticipantRecord]
    rule: ExclusionRule
    excluded: dict[str, list[str]]  # participant → why
    everyone: Analysis
    kept: Analysis  # without the excluded participants (the same object when no one is excluded)
    closed: bool = False
    ratings: list[Rating] = field(default_factory=list)  # every rating (mos, mushra)
    participant_rows: list[dict] = field(default_factory=list)  # the store's participant rows (flow), if any
    made_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def catch_votes(self) -> int:
        return sum(is_catch(v) for v in self.votes)

    @property
    def practice_votes(self) -> int:
        return sum(is_practice(v) for v in self.votes)


def _criteria_names(spec: StudySpec) -> list[str]:
    return [c.name for c in getattr(spec, "rating_criteria", ())]


def analyse_votes(spec: StudySpec, votes: list[Vote], ratings: list[Rating] | None = None, *, n_boot: int = 500,
                  seed: int = 0) -> Analysis:
    """The statistics of some votes (and ratings: by default read from the votes by `rating_rows`)."""
    counted = [v for v in votes if not is_catch(v) and not is_practice(v)]
    tokens = {v.token for v in counted}
    ratings = rating_rows(counted) if ratings is None else [r for r in ratings if not r.trial or r.trial in tokens]
    pair_systems = list(spec.systems) if spec.kind == "pair" else []
    criteria = _criteria_names(spec)
    by_criterion = tuple((c, analyse_votes(replace(spec, criteria=()), criterion_votes(counted, c), [],
                                           n_boot=n_boot, seed=seed))
                         for c in criteria) if spec.kind == "pair" and len(criteria) > 1 else ()
    return Analysis(
        votes=counted, participants=len({v.participant_id for v in counted}), pairs=stats.pair_results(counted),
        matrix=stats.win_matrix(counted, pair_systems),
        ranking=stats.bradley_terry_ranking(counted, pair_systems, n_boot=n_boot, seed=seed)
        if spec.kind == "pair" else [],
        identification=stats.identification(counted), position=stats.position_bias(counted),
        mos=mean_opinion_scores(ratings) if spec.kind == "mos" else [],
        mushra=mushra_analysis(ratings) if spec.kind == "mushra" else [], ratings=len(ratings),
        by_criterion=by_criterion)


def analyse(spec: StudySpec, votes: list[Vote], *, ratings: list[Rating] | None = None,
            participants: list[dict] | None = None, rule: ExclusionRule | None = None, closed: bool = False,
            n_boot: int = 500, seed: int = 0) -> StudyAnalysis:
    """Everything about a study's votes: participants, exclusions, statistics with and without them.

    `ratings`: the study's ratings (default: read from the votes); `participants`: the store's participant
    rows (`VoteStore.participants`: headphone check, questionnaire), if any."""
    votes = [v for v in votes if not is_practice(v)]
    catch_tokens = {v.token for v in votes if is_catch(v)}
    if rule is None:
        rule = exclusion_rule(spec)
        if not catch_tokens and not getattr(spec, "catch_rate", 0):  # no catch trials: no rule about them
            rule = replace(rule, max_catch_fail_share=None)
    ratings = rating_rows(votes) if ratings is None else [r for r in ratings if r.trial not in catch_tokens]
    participants = list(participants or [])
    records = participant_records([(v.participant_id, trial_seconds(v)) for v in votes if not is_catch(v)],
                                  catch_outcomes(votes), ratings,
                                  [(p.get("participant_id"), p.get("headphones_passed")) for p in participants])
    excluded = exclusions(records, rule)
    everyone = analyse_votes(spec, votes, ratings, n_boot=n_boot, seed=seed)
    kept = everyone if not excluded else analyse_votes(
        spec, [v for v in votes if v.participant_id not in excluded],
        [r for r in ratings if r.participant not in excluded], n_boot=n_boot, seed=seed)
    return StudyAnalysis(spec, votes, records, rule, excluded, everyone, kept, closed, ratings, participants)


def analyse_study(store: VoteStore, study_id: str, *, rule: ExclusionRule | None = None, n_boot: int = 500,
                  seed: int = 0) -> StudyAnalysis:
    """`analyse` for a stored study (KeyError for an unknown id); read-only."""
    spec = store.get_study(study_id)
    ratings = store_ratings(store.ratings(study_id)) if hasattr(store, "ratings") else None
    participants = store.participants(study_id) if hasattr(store, "participants") else None
    return analyse(spec, store.votes(study_id), ratings=ratings, participants=participants, rule=rule,
                   closed=store.is_closed(study_id), n_boot=n_boot, seed=seed)


# ---- exports ----------------------------------------------------------------------------------------------
def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def votes_json(votes: list[Vote], spec: StudySpec | None = None, ratings: list[Rating] | None = None,
               participants: list[dict] | None = None) -> str:
    """Every vote with its provenance (the CSV's columns and anything else the vote holds), the study, and its
    ratings and participant rows when given."""
    rows = [{k: _plain(v) for k, v in vars(vote).items() if k != "duplicate"} for vote in votes]
    for row, vote in zip(rows, votes):
        row["catch"] = is_catch(vote)
    data = {"study": spec.to_dict() if spec else None, "votes": rows,
            "ratings": [vars(r) for r in ratings or []],
            "participants": [{k: _plain(v) for k, v in p.items()} for p in participants or []]}
    return json.dumps(data, indent=1, sort_keys=True, default=str)


def ratings_csv(ratings: list[Rating]) -> str:
    """One row per rating: participant, trial (the block's token), system, criterion, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("participant", "trial", "system", "criterion", "value"))
    for r in ratings:
        writer.writerow((r.participant, r.trial, r.system, r.criterion, f"{r.value:g}"))
    return out.getvalue()


# ---- the HTML report -----------------------------------------------------------------------------------------
def _e(x) -> str:
    return html.escape(str(x), quote=True)


def _num(x, fmt: str = ".3g") -> str:
    if x is None or isinstance(x, float) and not math.isfinite(x):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    return format(x, fmt)


def _pct(x) -> str:
    return _num(x * 100 if x is not None and math.isfinite(x) else None, ".1f") + (" %" if x is not None and
                                                                                   math.isfinite(x) else "")


def _table(headers: list[str], rows: list[list], caption: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _system_settings(spec: StudySpec, votes: list[Vote]) -> list[str]:
    """One phrase per system: its sampling settings, as the study states them and the votes stored them."""
    stored: dict[str, dict[str, set]] = {}
    for v in votes:
        for system, _, settings in v.clips:
            for k, val in (settings or {}).items():
                if k in ("weights_sha256", "sample_set_sha256", "corpus", "primer"):
                    stored.setdefault(system, {}).setdefault(k, set()).add(str(val)[:12] if "sha" in k else str(val))
    out = []
    for s in spec.systems:
        seen = stored.get(s, {})
        if s == REAL:
            corpora = sorted(seen.get("corpus", set())) or ([spec.corpus] if spec.corpus else [])
            out.append(f"{s} (openings of held-out pieces{' of ' + ', '.join(corpora) if corpora else ''})")
            continue
        sampling = spec.clip.sampling_for(s)
        parts = [f"temperature {sampling.temperature:g}"]
        if sampling.top_k:
            parts.append(f"top-k {sampling.top_k}")
        if sampling.top_p:
            parts.append(f"top-p {sampling.top_p:g}")
        if s.startswith("samples:"):
            parts = ["files of an outside model"]
        for k in ("weights_sha256", "sample_set_sha256"):
            if k in seen:
                parts.append(f"{k.split('_')[0]} sha256 {', '.join(sorted(seen[k]))}…")
        out.append(f"{s} ({'; '.join(parts)})")
    return out


def methods_paragraph(a: StudyAnalysis) -> str:
    """The methods as plain text, written from the study's settings and its stored votes."""
    spec, votes = a.spec, a.votes
    kind_words = {"pair": "paired comparison (two clips per trial, labelled A and B in a random order; "
                          "answers A, B or no preference)",
                  "identify": "identification test (one clip per trial; answer: person or machine)",
                  "mos": "absolute category rating (one clip per trial, rated 1–5 as in ITU-T P.808)",
                  "mushra": "multi-stimulus rating without reference (several clips of one trial on one screen, "
                            "in an order shuffled per trial, each rated 0–100 as in ITU-R BS.2132)"}
    criteria = getattr(spec, "rating_criteria", None) or ()
    asked = (f"{len(criteria)} questions per trial: " + ", ".join(f"“{c.question}” ({c.name})" for c in criteria)
             if len(criteria) > 1 else f"“{spec.question}”")
    counted = a.everyone.votes
    participants = {v.participant_id for v in votes}
    when = [v.voted_at for v in votes if v.voted_at is not None]
    soundfonts = sorted({v.soundfont.rsplit("/", 1)[-1] for v in votes})
    rates = sorted({v.sample_rate for v in votes})
    s = [f"Study “{spec.title or spec.id}” (id {spec.id}) was a blind {kind_words.get(spec.kind, spec.kind)}.",
         f"It compared {len(spec.systems)} systems: {', '.join(_system_settings(spec, votes))}.",
         f"Participants were asked {asked}. Each was given up to {spec.trials_per_participant} trials"
         + (f" after {spec.practice_trials} practice trials that were not counted"
            if getattr(spec, "practice_trials", 0) else "") + ".",
         f"Every clip was cut to {spec.clip.seconds:g} s (or the shorter clip's length) with a short fade and "
         "loudness-matched, and rendered with "
         + (f"the soundfont {', '.join(soundfonts)} at {', '.join(f'{r} Hz' for r in rates)}" if votes
            else "the app's soundfont") + "; systems were identified to no one before their vote was stored.",
         (f"Each clip had to play for at least {spec.min_listen_seconds:g} s before an answer was accepted."
          if spec.min_listen_seconds else "No minimum listening time was enforced."),
         *([f"Every trial continued the opening ({spec.clip.primer_seconds:g} s) of one held-out piece: each clip "
            "of a trial starts from that same opening, and the real piece's clip is its true continuation."]
           if spec.clip.primer == "heldout" and hasattr(spec.clip, "primer_seconds") else []),
         *([f"About {spec.catch_rate:.0%} of each participant's trials were catch trials (a real piece against a "
            "copy of it with its pitches scrambled; the intact one is the right answer)."]
           if getattr(spec, "catch_rate", 0) else []),
         f"{len(participants)} participants gave {len(votes)} answers: {len(counted)} counted trials"
         + (f", {a.catch_votes} catch trials" if a.catch_votes else "")
         + (f", {a.practice_votes} practice trials" if a.practice_votes else "")
         + (("" if not when else f", on {min(when):%Y-%m-%d}" if min(when).date() == max(when).date()
             else f", between {min(when):%Y-%m-%d} and {max(when):%Y-%m-%d}")) + "."]
    check = getattr(spec, "headphone_check", "off")
    if check != "off":
        took = [r for r in a.participant_rows if r.get("headphones_passed") is not None]
        s.append("Before the trials, participants took the Woods et al. (2017) antiphase headphone check "
                 + ("(failing it ended the study for them)" if check == "required" else
                    "(a failure was recorded and the participant went on)")
                 + (f"; {sum(bool(r['headphones_passed']) for r in took)} of {len(took)} passed" if took else "")
                 + ".")
    questionnaire = getattr(spec, "questionnaire", ())
    if questionnaire:
        s.append("They answered a short questionnaire: " + "; ".join(f"“{q.text}”" for q in questionnaire) + ".")
    if spec.kind in RATING_KINDS:
        s.append(f"{len(a.ratings)} ratings were given.")
    if a.excluded:
        s.append(f"By the exclusion rule ({a.rule.describe()}), {len(a.excluded)} of "
                 f"{len(a.records)} participants were left out; results are given with and without them.")
    else:
        s.append(f"Exclusion rule: {a.rule.describe()}; no participant met it, so no one was left out.")
    if spec.kind == "pair":
        s.append("Win rates count decisive votes (no preference is a tie, left out) with 95 % Wilson intervals and "
                 "exact two-sided binomial tests against 50 %; Bradley–Terry strengths (ties as half wins) have "
                 "percentile bootstrap intervals; position bias is the share of decisive votes for the left clip.")
    elif spec.kind == "mos":
        s.append("Mean opinion scores are given with 95 % Student t intervals, per system and criterion.")
    elif spec.kind == "mushra":
        s.append("Ratings were compared with a Friedman test over complete blocks (one trial of one participant "
                 "with every system rated) and pairwise two-sided Wilcoxon signed-rank tests, Holm-corrected; "
                 "medians have distribution-free 95 % intervals and means Student t intervals.")
    if a.closed:
        s.append("The study was closed by its organiser: these results are final.")
    return " ".join(s)


class _Figures:
    """Plotly figures as HTML fragments; plotly.js goes inline with the first one only."""

    def __init__(self, inline_js: bool = True):
        self.inline_js, self.n = inline_js, 0

    def __call__(self, fig) -> str:
        self.n += 1
        include = ("cdn" if not self.inline_js else True) if self.n == 1 else False
        return fig.to_html(full_html=False, include_plotlyjs=include, div_id=f"figure-{self.n}",
                           config={"displaylogo": False, "responsive": True})


def _pair_section(x: Analysis, fig: _Figures) -> str:
    if not x.pairs:
        return "<p>No pair votes.</p>"
    rows = []
    power = []
    for p in x.pairs:
        rows.append([p.a, p.b, p.n, p.wins_a, p.wins_b, p.ties, _pct(p.a_rate.rate), _pct(p.a_rate.low),
                     _pct(p.a_rate.high), _num(p.a_rate.p_value)])
        needed = stats.votes_for_power(p.a_rate.rate)
        power.append([p.a, p.b, p.a_rate.n, _pct(p.a_rate.rate), _num(needed),
                      _num(None if needed is None else max(0, needed - p.a_rate.n))])
    b = x.position
    out = ["<h3>Win rates</h3>", _table(
        ["first", "second", "votes", "first won", "second won", "no preference", "first's win rate", "95 % low",
         "95 % high", "binomial p"], rows), fig(pair_win_rates_figure(x.pairs, title="Win rate per pair")),
        fig(win_matrix_figure(x.matrix, title="Who beat whom")),
        "<h3>Ranking (Bradley–Terry)</h3>",
        _table(["rank", "system", "strength", "95 % low", "95 % high", "votes"],
               [[r.rank, r.system, _num(r.strength), _num(r.low), _num(r.high), r.votes] for r in x.ranking]),
        fig(ranking_figure(x.ranking, title="Strength with bootstrap intervals")),
        "<h3>Position bias</h3>",
        f"<p>The clip on the left (A) was chosen in {_e(b.k)} of {_e(b.n)} decisive votes ({_e(_pct(b.rate))}; 95 % "
        f"interval {_e(_pct(b.low))}–{_e(_pct(b.high))}; binomial p = {_e(_num(b.p_value))}). Sides were drawn at "
        "random, so a share far from 50 % is a bias of the listeners or the page.</p>",
        "<h3>Votes needed</h3>",
        "<p>Decisive votes a pair needs for 80 % power at the observed win rate (two-sided binomial test at "
        "5 %), and how many more that is; empty where there is no difference to detect.</p>",
        _table(["first", "second", "decisive votes", "observed rate", "needed", "more"], power)]
    return "".join(out)


def _identification_section(x: Analysis, fig: _Figures) -> str:
    ident = x.identification
    if ident is None:
        return ""
    rows = [["all", ident.overall.k, ident.overall.n, _pct(ident.overall.rate), _pct(ident.overall.low),
             _pct(ident.overall.high), _num(ident.overall.p_value)]]
    rows += [[s, p.k, p.n, _pct(p.rate), _pct(p.low), _pct(p.high), _num(p.p_value)]
             for s, p in ident.by_system.items()]
    return ("<h3>Person or machine?</h3><p>How often the real piece was told from a model's (50 %: not at all).</p>"
            + _table(["model", "right", "of", "rate", "95 % low", "95 % high", "binomial p"], rows)
            + fig(identification_figure(ident, title="Identification rate per model")))


def _mos_section(x: Analysis, fig: _Figures) -> str:
    if not x.mos:
        return "<p>No ratings.</p>"
    return ("<h3>Mean opinion scores</h3>"
            + _table(["criterion", "system", "ratings", "MOS", "SD", "95 % low", "95 % high"],
                     [[m.criterion, m.system, m.n, _num(m.mean, ".2f"), _num(m.sd, ".2f"), _num(m.low, ".2f"),
                       _num(m.high, ".2f")] for m in x.mos])
            + fig(mean_scores_figure(x.mos, title="MOS with 95 % intervals")))


def _mushra_section(x: Analysis, fig: _Figures) -> str:
    if not x.mushra:
        return "<p>No ratings.</p>"
    out = []
    for r in x.mushra:
        friedman = ("Friedman test: not applicable (it needs three systems and two complete blocks)"
                    if r.friedman_p is None else
                    f"Friedman test over {r.blocks} complete blocks: χ² = {r.friedman_statistic:.3g}, "
                    f"p = {r.friedman_p:.3g}")
        out += [f"<h3>Ratings: {_e(r.criterion)}</h3>",
                f"<p>{_e(friedman)}; {_e(r.incomplete)} incomplete blocks left out of the tests.</p>",
                _table(["system", "ratings", "median", "95 % low", "95 % high", "mean", "mean 95 % low",
                        "mean 95 % high"],
                       [[s.system, s.n, _num(s.median, ".1f"), _num(s.median_low, ".1f"), _num(s.median_high, ".1f"),
                         _num(s.mean, ".1f"), _num(s.mean_low, ".1f"), _num(s.mean_high, ".1f")] for s in r.systems]),
                _table(["first", "second", "blocks", "median difference", "Wilcoxon W", "p", "p (Holm)",
                        f"significant at {r.alpha:g}"],
                       [[t.a, t.b, t.n, _num(t.median_difference, ".1f"), _num(t.statistic), _num(t.p_value),
                         _num(t.p_holm), _num(t.significant)] for t in r.pairwise],
                       "Pairwise Wilcoxon signed-rank tests"),
                fig(mushra_figure(r, title=f"{r.criterion}: medians with 95 % intervals, and means"))]
    return "".join(out)


def _statistics(spec: StudySpec, x: Analysis, fig: _Figures) -> str:
    rated = f" ({x.ratings} ratings)" if spec.kind in RATING_KINDS else ""
    head = f"<p>{_e(len(x.votes))} counted votes{_e(rated)} from {_e(x.participants)} participants.</p>"
    if not x.votes:
        return head
    if x.by_criterion:  # a pair study with several criteria: each criterion on its own
        questions = {c.name: c.question for c in getattr(spec, "rating_criteria", ())}
        return head + "".join(f"<h3>Criterion {_e(c)}: “{_e(questions.get(c, c))}”</h3>"
                              + _statistics(replace(spec, criteria=()), sub, fig) for c, sub in x.by_criterion)
    body = {"pair": _pair_section, "mos": _mos_section, "mushra": _mushra_section}.get(spec.kind)
    return head + (body(x, fig) if body else "") + _identification_section(x, fig)


def _participants_section(a: StudyAnalysis) -> str:
    flow = {p.get("participant_id"): p for p in a.participant_rows}
    questions = [q.id for q in getattr(a.spec, "questionnaire", ())]
    catches = any(r.catch_total for r in a.records)
    rated = a.spec.kind in RATING_KINDS
    headphones = getattr(a.spec, "headphone_check", "off") != "off"
    rows = []
    for r in a.records:
        answers = (flow.get(r.participant) or {}).get("questionnaire") or {}
        rows.append([r.participant, r.trials, _num(r.median_seconds, ".1f")]
                    + ([f"{r.catch_correct}/{r.catch_total}" if r.catch_total else "–"] if catches else [])
                    + ([_num(r.rating_sd, ".3g")] if rated else [])
                    + ([_num(r.headphones_passed) if r.headphones_passed is not None else "–"] if headphones else [])
                    + [answers.get(q, "") for q in questions]
                    + ["; ".join(a.excluded.get(r.participant, [])) or "kept"])
    headers = (["participant", "trials", "median seconds per trial"] + (["catch trials right"] if catches else [])
               + (["rating SD"] if rated else []) + (["headphone check passed"] if headphones else []) + questions
               + ["excluded?"])
    return ("<h2>Participants</h2>"
            f"<p>Exclusion rule: {_e(a.rule.describe())}. {_e(len(a.excluded))} of {_e(len(a.records))} "
            "participants left out. Time on task is the median of a participant's response times.</p>"
            + _table(headers, rows))


def _download(name: str, mime: str, text: str, label: str) -> str:
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f'<a download="{_e(name)}" href="data:{_e(mime)};charset=utf-8;base64,{data}">{_e(label)}</a>'


STYLE = """body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}table{border-collapse:collapse;margin:.8em 0;font-size:.9em}th,td{border:1px solid #ccc;
padding:.25em .6em;text-align:left}th{background:#f3f3f3}caption{text-align:left;font-weight:600;padding:.3em 0}
.methods{background:#f8f8fb;border-left:4px solid #4c78a8;padding:.6em 1em}.note{color:#666;font-size:.9em}"""


def report_html(a: StudyAnalysis, *, inline_plotlyjs: bool = True) -> str:
    """The whole report as one HTML document. `inline_plotlyjs=False` links plotly.js from its CDN instead (a
    much smaller file that needs a network connection to draw the figures)."""
    spec = a.spec
    fig = _Figures(inline_plotlyjs)
    title = f"Listening study {spec.title or spec.id}"
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p class='note'>Report made {_e(f'{a.made_at:%Y-%m-%d %H:%M} UTC')} from the vote store; "
             f"{'closed' if a.closed else 'still open: numbers may change'}.</p>",
             "<h2>Methods</h2>", f"<p class='methods'>{_e(methods_paragraph(a))}</p>",
             "<p>Download: " + " · ".join(
                 [_download(f"{spec.id}-votes.csv", "text/csv", stats.votes_csv(a.votes),
                            "every vote (CSV, with provenance)"),
                  _download(f"{spec.id}-votes.json", "application/json",
                            votes_json(a.votes, spec, a.ratings, a.participant_rows),
                            "every vote, rating and participant, and the study (JSON)")]
                 + ([_download(f"{spec.id}-ratings.csv", "text/csv", ratings_csv(a.ratings), "every rating (CSV)")]
                    if a.ratings else [])) + "</p>"]
    if a.excluded:
        parts += ["<h2>Results without the excluded participants</h2>", _statistics(spec, a.kept, fig),
                  "<h2>Results with everyone</h2>", _statistics(spec, a.everyone, fig)]
    else:
        parts += ["<h2>Results</h2>", _statistics(spec, a.everyone, fig)]
    parts += [_participants_section(a), "<h2>The study file</h2>",
              f"<pre>{_e(json.dumps(spec.to_dict(), indent=1, sort_keys=True))}</pre>"]
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{''.join(parts)}</body></html>\n")


def study_report(store: VoteStore, study_id: str, *, n_boot: int = 500, seed: int = 0,
                 inline_plotlyjs: bool = True) -> str:
    """The HTML report of a stored study."""
    return report_html(analyse_study(store, study_id, n_boot=n_boot, seed=seed), inline_plotlyjs=inline_plotlyjs)
