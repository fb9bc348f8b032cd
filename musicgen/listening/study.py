"""A listening study: which systems take part, the settings of every clip, the question asked.

A study is plain data (`StudySpec`), read from a small TOML file (`load_study`) or built from a dict by
the organiser page (`StudySpec.from_dict`). Four kinds:

* ``pair``: two clips per trial, labelled only A and B; answers A, B or no preference.
* ``identify``: one clip per trial, "person or machine?" (the Human-or-AI game); needs ``real``.
* ``mos``: one clip per trial, a 1-5 absolute category rating per criterion (ITU-T P.808: 5 Excellent,
  4 Good, 3 Fair, 2 Poor, 1 Bad).
* ``mushra``: K clips of one trial on one screen (ITU-R BS.2132 style, no reference), labelled only 1..K
  in an order shuffled per trial, a 0-100 slider each per criterion; ``real`` among the systems is the hidden
  anchor. K = ``mushra_clips`` (default: every system).

``criteria`` (optional) asks several questions per trial: ``criteria = ["musical", "coherent"]`` (the question
is made from the name) or ``[[criteria]] name = "musical" question = "How musical is it?"``; without it, one
criterion ("overall") asks ``question``. A pair trial then takes one answer per criterion.

The participant's path (flow.py): consent, an optional headphone check (``headphone_check = "off" | "required"
| "flag"``), an optional questionnaire (``[[questionnaire]] id = "training_years" text = "..." type = "number" |
"choice" | "text"``, ``options = [...]`` for a choice), ``practice_trials`` not counted, the trials, and a
``completion_code`` at the end (a fixed code, or ``"auto"``: one per participant from the store's secret).

The system ``real`` stands for opening excerpts of held-out (test split) pieces of a corpus; every
other system is a checkpoint id or a sample set, ``samples:<name>`` (MIDI files made by an outside model;
the seed picks the file). Example (see studies/example.toml)::

    id = "bach-2026"
    kind = "pair"
    systems = ["markov", "A-lstm", "real"]
    trials_per_participant = 10
    question = "Which is more musical?"
    consent = "You will hear pairs of short piano clips ..."

    [clip]
    seconds = 20          # every clip is cut to this length (or the shorter clip's), with a fade
    temperature = 1.0
    primer = "none"

    min_listen_seconds = 5   # each clip must play this long before the answer opens (0: off)
    reveal = "none"          # after the last trial: none, own (what they heard), everyone (once closed)
    catch_rate = 0.1         # pair: this share of trials are catch trials (a real piece vs its scrambled copy)
    max_catch_fail_share = 0.25  # a participant failing more of them is left out of the statistics

``clip.primer = "heldout"`` (with ``clip.primer_seconds``, default 5) makes continuation trials: each trial picks
one held-out piece, and every clip in it begins with that piece's opening, note for note, then continues it (the
``real`` clip with the piece's own continuation); systems that cannot continue a primer are refused
(`StudySpec.check_continuation`, called by `load_study` and `VoteStore.save_study`).

    [clip.overrides.A-lstm]   # optional per-system sampling settings
    temperature = 0.9
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from musicgen.checkpoints import list_checkpoint_ids
from musicgen.sample_sets import PREFIX as SAMPLES_PREFIX
from musicgen.sample_sets import SampleSetError, load_sample_set
from musicgen.sampling import TEMPERATURE_RANGE

REAL = "real"
REWRITES_PRIMER = ("classifier-ascent",)  # families that take a primer but transform it rather than continue it
KINDS = ("pair", "identify", "mos", "mushra")
RATING_KINDS = ("mos", "mushra")  # kinds whose answers are ratings, one per clip and criterion
MAX_TRIALS = 200
MAX_CLIP_SECONDS = 120.0
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TOP_KEYS = {"id", "kind", "title", "systems", "trials_per_participant", "question", "consent", "corpus", "clip",
             "min_listen_seconds", "reveal", "criteria", "mushra_clips", "headphone_check", "questionnaire",
             "practice_trials", "completion_code", "catch_rate", "max_catch_fail_share"}
HEADPHONE_CHECKS = ("off", "required", "flag")  # flag: a failed check is stored and the participant goes on
QUESTION_TYPES = ("number", "choice", "text")
MAX_PRACTICE = 10
DEFAULT_CRITERION = "overall"
AUTO_CODE = "auto"  # completion_code = "auto": one code per participant (HMAC of the store's secret)
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# What a participant sees after the last trial: nothing but thanks (research studies: no one is swayed),
# what they heard and chose, or that and everyone's votes (only once the organiser has closed the study).
REVEALS = ("none", "own", "everyone")
MIN_LISTEN_SECONDS = 5.0  # Music Arena's rule: each clip played this long before an answer counts
_CLIP_KEYS = {"seconds", "temperature", "top_k", "top_p", "primer", "primer_seconds", "overrides"}
PRIMERS = ("none", "heldout")  # heldout: every trial continues the opening of one held-out piece
DEFAULT_PRIMER_SECONDS = 5.0
MAX_CATCH_RATE = 0.5
DEFAULT_MAX_CATCH_FAIL_SHARE = 0.25
_OVERRIDE_KEYS = {"temperature", "top_k", "top_p"}
DEFAULT_QUESTIONS = {"pair": "Which clip is more musical?", "identify": "Was this composed by a person or a machine?",
                     "mos": "How good is this clip as music?",
                     "mushra": "How good is each clip as music? (0 = bad, 100 = excellent)"}
CRITERION_QUESTIONS = {"pair": "Which clip is more {name}?", "mos": "How {name} is this clip?",
                       "mushra": "How {name} is each clip?"}  # for criteria given by name only


class StudyError(ValueError):
    """A study spec is invalid; the message names the field and what is allowed."""


@dataclass(frozen=True)
class Sampling:
    """How one model samples its clips (a real piece ignores these)."""

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None


@dataclass(frozen=True)
class ClipSettings:
    """Settings shared by every clip of a study, plus optional per-system sampling overrides."""

    seconds: float = 20.0
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    primer: str = "none"  # "heldout": continuation trials (every clip of a trial continues one piece's opening)
    primer_seconds: float = DEFAULT_PRIMER_SECONDS  # heldout: the opening's length (cut at the next onset)
    overrides: tuple[tuple[str, Sampling], ...] = ()

    def sampling_for(self, system: str) -> Sampling:
        return dict(self.overrides).get(system, Sampling(self.temperature, self.top_k, self.top_p))


@dataclass(frozen=True)
class Criterion:
    """One question asked per trial: `name` is what is stored with each answer, `question` what is shown."""

    name: str
    question: str


@dataclass(frozen=True)
class Question:
    """One question of the participant questionnaire (asked once, before the trials)."""

    id: str
    text: str
    type: str = "text"  # number | choice | text
    options: tuple[str, ...] = ()  # choice: the options shown
    min: float | None = None  # number: the allowed range
    max: float | None = None
    required: bool = True


@dataclass(frozen=True)
class StudySpec:
    id: str
    systems: tuple[str, ...]
    kind: str = "pair"
    title: str = ""
    trials_per_participant: int = 10
    question: str = ""
    consent: str = ""
    corpus: str | None = None  # corpus of the `real` pieces; None: the corpus the models were trained on
    clip: ClipSettings = field(default_factory=ClipSettings)
    min_listen_seconds: float = MIN_LISTEN_SECONDS  # each clip played this long before the answer opens; 0: off
    reveal: str = "none"  # after the last trial: none | own | everyone (others' votes once the study is closed)
    criteria: tuple[Criterion, ...] = ()  # as given; `rating_criteria` fills in the default
    mushra_clips: int | None = None  # mushra: clips per screen (None: every system)
    headphone_check: str = "off"  # off | required | flag
    questionnaire: tuple[Question, ...] = ()
    practice_trials: int = 0  # trials before the real ones, not counted
    completion_code: str = ""  # shown at the end: "" none, a fixed code, or "auto" (per participant)
    catch_rate: float = 0.0  # pair: share of each participant's trials that are catch trials (never the first)
    max_catch_fail_share: float = DEFAULT_MAX_CATCH_FAIL_SHARE  # failing more of them leaves a participant out

    @property
    def rating_criteria(self) -> tuple[Criterion, ...]:
        """The criteria asked in every trial: the study's, else one ("overall") asking `question`."""
        return self.criteria or (Criterion(DEFAULT_CRITERION, self.question or DEFAULT_QUESTIONS[self.kind]),)

    @property
    def clips_per_trial(self) -> int:
        """How many clips one trial plays: 2 (pair), K (mushra), else 1."""
        if self.kind == "mushra":
            return self.mushra_clips or len(self.systems)
        return 2 if self.kind == "pair" else 1

    @property
    def models(self) -> tuple[str, ...]:
        """The checkpoint ids and sample sets (every system but `real`)."""
        return tuple(s for s in self.systems if s != REAL)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """Every unordered pair of systems, each as a sorted tuple (pair studies)."""
        s = sorted(self.systems)
        return [(a, b) for i, a in enumerate(s) for b in s[i + 1:]]

    # ---- conversion ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict) -> StudySpec:
        """Validate and build; raises StudyError naming the first bad field."""
        if not isinstance(data, dict):
            raise StudyError(f"a study must be a table/dict, not {type(data).__name__}")
        _no_unknown(data, _TOP_KEYS, "study")
        sid = data.get("id")
        if not isinstance(sid, str) or not _ID.fullmatch(sid):
            raise StudyError(f"id: {sid!r} must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter "
                             "or digit")
        kind = data.get("kind", "pair")
        if kind not in KINDS:
            raise StudyError(f"kind: {kind!r} must be one of {', '.join(KINDS)}")
        systems = _systems(data.get("systems"), kind)
        trials = data.get("trials_per_participant", 10)
        if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
            raise StudyError(f"trials_per_participant: {trials!r} must be a whole number from 1 to {MAX_TRIALS}")
        texts = {k: data.get(k, "") for k in ("title", "question", "consent")}
        for k, v in texts.items():
            if not isinstance(v, str):
                raise StudyError(f"{k}: must be text, not {type(v).__name__}")
        question = texts["question"].strip() or DEFAULT_QUESTIONS[kind]
        corpus = data.get("corpus")
        if corpus is not None and (not isinstance(corpus, str) or not corpus.strip()):
            raise StudyError(f"corpus: {corpus!r} must be a corpus name such as 'bach-chorales'")
        clip = _clip(data.get("clip", {}), systems)
        # default: 5 s, or the whole clip when clips are shorter
        listen = _number(data.get("min_listen_seconds", min(MIN_LISTEN_SECONDS, clip.seconds)), "min_listen_seconds",
                         0.0, clip.seconds)
        reveal = data.get("reveal", "none")
        if reveal not in REVEALS:
            raise StudyError(f"reveal: {reveal!r} must be one of {', '.join(REVEALS)}")
        catch_rate = _number(data.get("catch_rate", 0.0), "catch_rate", 0.0, MAX_CATCH_RATE)
        if catch_rate and kind != "pair":
            raise StudyError(f"catch_rate: catch trials (a real piece against its scrambled copy) are made for pair "
                             f"studies, not {kind}; set catch_rate = 0")
        fail_share = _number(data.get("max_catch_fail_share", DEFAULT_MAX_CATCH_FAIL_SHARE), "max_catch_fail_share",
                             0.0, 1.0)
        return cls(id=sid, systems=systems, kind=kind, title=texts["title"].strip(), trials_per_participant=trials,
                   question=question, consent=texts["consent"].strip(), corpus=corpus, clip=clip,
                   min_listen_seconds=listen, reveal=reveal, catch_rate=catch_rate, max_catch_fail_share=fail_share,
                   **_flow_fields(data, kind, systems))

    def to_dict(self) -> dict:
        """Plain data (JSON/TOML-able); `StudySpec.from_dict(spec.to_dict()) == spec`."""
        d = asdict(self)
        d["systems"] = list(self.systems)
        clip = {k: v for k, v in d["clip"].items() if k != "overrides" and v is not None}
        if self.clip.overrides:
            clip["overrides"] = {s: {k: v for k, v in asdict(o).items() if v is not None}
                                 for s, o in self.clip.overrides}
        d["clip"] = clip
        d["criteria"] = [asdict(c) for c in self.criteria]
        d["questionnaire"] = [{k: (list(v) if k == "options" else v) for k, v in asdict(q).items()
                               if v is not None and v != ()} for q in self.questionnaire]
        return {k: v for k, v in d.items() if v is not None}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def cannot_continue(self) -> list[str]:
        """Systems of a continuation study (clip.primer = "heldout") that cannot continue an opening, each with
        why (empty: all can, or the study has no primer). Missing checkpoints are `missing_checkpoints`' to say."""
        if self.clip.primer == "none":
            return []
        from musicgen.systems import UnknownSystemError, get_system  # reads checkpoint cards

        out = []
        for system in self.models:
            try:
                found = get_system(system)
            except (UnknownSystemError, ValueError, OSError):
                continue
            if found.is_samples:
                out.append(f"{system} (a sample set plays files made elsewhere)")
            elif not found.accepts_primer:
                out.append(f"{system} (a {found.card.family} makes each piece from noise alone)")
            elif found.card is not None and found.card.family in REWRITES_PRIMER:
                out.append(f"{system} (a {found.card.family} rewrites its primer instead of continuing it)")
        return out

    def check_continuation(self) -> None:
        """Refuse a continuation study with systems that cannot continue an opening (StudyError naming them)."""
        refused = self.cannot_continue()
        if refused:
            raise StudyError(f"clip.primer = \"heldout\": {', '.join(refused)} cannot continue a held-out opening; "
                             "remove them from systems or use primer = \"none\"")

    def missing_checkpoints(self) -> list[str]:
        """Model systems with no checkpoint under checkpoints_dir(), or sample sets that are missing or cannot
        be read (empty list: all present)."""
        known = set(list_checkpoint_ids())
        return [m for m in self.models if not (_sample_set_ok(m) if m.startswith(SAMPLES_PREFIX) else m in known)]


def _sample_set_ok(system: str) -> bool:
    try:
        load_sample_set(system[len(SAMPLES_PREFIX):])
    except SampleSetError:
        return False
    return True


def load_study(path: str | Path) -> StudySpec:
    """Read one study from a TOML file; errors name the file and the field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise StudyError(f"{path}: not valid TOML ({e})") from None
    except OSError as e:
        raise StudyError(f"{path}: cannot read ({e.strerror})") from None
    try:
        spec = StudySpec.from_dict(data)
        spec.check_continuation()
        return spec
    except StudyError as e:
        raise StudyError(f"{path}: {e}") from None


def load_studies(folder: str | Path) -> dict[str, StudySpec]:
    """Every `*.toml` study in a folder, by id (two files with the same id are an error)."""
    studies: dict[str, StudySpec] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        spec = load_study(path)
        if spec.id in studies:
            raise StudyError(f"{path}: study id {spec.id!r} is used by another file in {folder}")
        studies[spec.id] = spec
    return studies


# ---- validation helpers -------------------------------------------------------------------------
def _no_unknown(data: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise StudyError(f"{where}: unknown field(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def _systems(value, kind: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) and s.strip() for s in value):
        raise StudyError(f"systems: {value!r} must be a list of checkpoint ids, samples:<name> and/or {REAL!r}")
    systems = tuple(s.strip() for s in value)
    dupes = sorted({s for s in systems if systems.count(s) > 1})
    if dupes:
        raise StudyError(f"systems: {', '.join(dupes)} listed twice")
    if kind == "pair" and len(systems) < 2:
        raise StudyError("systems: a pair study needs at least two systems")
    if kind == "identify" and (REAL not in systems or len(systems) < 2):
        raise StudyError(f"systems: an identify study needs {REAL!r} and at least one model")
    if kind == "mushra" and len(systems) < 2:
        raise StudyError("systems: a mushra study needs at least two systems")
    return systems


def _flow_fields(data: dict, kind: str, systems: tuple[str, ...]) -> dict:
    """The criteria, mushra and participant-flow options of a study, validated."""
    criteria = _criteria(data.get("criteria", []), kind)
    k = data.get("mushra_clips")
    if k is not None:
        if kind != "mushra":
            raise StudyError("mushra_clips: only a mushra study shows several clips on one screen")
        k = _number(k, "mushra_clips", 2, len(systems), integer=True)
    check = data.get("headphone_check", "off")
    if check not in HEADPHONE_CHECKS:
        raise StudyError(f"headphone_check: {check!r} must be one of {', '.join(HEADPHONE_CHECKS)}")
    practice = _number(data.get("practice_trials", 0), "practice_trials", 0, MAX_PRACTICE, integer=True)
    code = data.get("completion_code", "")
    if not isinstance(code, str) or (code and not _CODE.fullmatch(code)):
        raise StudyError(f"completion_code: {code!r} must be {AUTO_CODE!r} or 1-64 characters of A-Z, a-z, 0-9, "
                         "'-' or '_'")
    return {"criteria": criteria, "mushra_clips": k, "headphone_check": check,
            "questionnaire": _questionnaire(data.get("questionnaire", [])), "practice_trials": practice,
            "completion_code": code}


def _criteria(value, kind: str) -> tuple[Criterion, ...]:
    if not isinstance(value, (list, tuple)):
        raise StudyError("criteria: must be a list of names, or of tables with name and question")
    if value and kind == "identify":
        raise StudyError("criteria: an identify study asks one question (person or machine?)")
    out = []
    for i, c in enumerate(value):
        where = f"criteria[{i}]"
        if isinstance(c, str):
            c = {"name": c}
        if not isinstance(c, dict):
            raise StudyError(f"{where}: must be a name or a table with name and question")
        _no_unknown(c, {"name", "question"}, where)
        name, question = c.get("name"), c.get("question", "")
        if not isinstance(name, str) or not _CRITERION.fullmatch(name):
            raise StudyError(f"{where}.name: {name!r} must be 1-64 characters of a-z, 0-9, '-' or '_'")
        if not isinstance(question, str):
            raise StudyError(f"{where}.question: must be text")
        out.append(Criterion(name, question.strip() or CRITERION_QUESTIONS[kind].format(name=name)))
    names = [c.name for c in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StudyError(f"criteria: {', '.join(dupes)} listed twice")
    return tuple(out)


_CRITERION = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_QUESTION_KEYS = {"id", "text", "type", "options", "min", "max", "required"}


def _questionnaire(value) -> tuple[Question, ...]:
    if not isinstance(value, (list, tuple)):
        raise StudyError("questionnaire: must be a list of tables ([[questionnaire]] in TOML)")
    out = []
    for i, q in enumerate(value):
        where = f"questionnaire[{i}]"
        if not isinstance(q, dict):
            raise StudyError(f"{where}: must be a table with id, text and type")
        _no_unknown(q, _QUESTION_KEYS, where)
        qid, text, qtype = q.get("id"), q.get("text"), q.get("type", "text")
        if not isinstance(qid, str) or not _CRITERION.fullmatch(qid):
            raise StudyError(f"{where}.id: {qid!r} must be 1-64 characters of a-z, 0-9, '-' or '_'")
        if not isinstance(text, str) or not text.strip():
            raise StudyError(f"{where}.text: the question shown, as text")
        if qtype not in QUESTION_TYPES:
            raise StudyError(f"{where}.type: {qtype!r} must be one of {', '.join(QUESTION_TYPES)}")
        options = q.get("options", [])
        if qtype == "choice":
            if (not isinstance(options, (list, tuple)) or len(options) < 2
                    or not all(isinstance(o, str) and o.strip() for o in options)):
                raise StudyError(f"{where}.options: a choice needs a list of at least two options (text)")
        elif options:
            raise StudyError(f"{where}.options: only a choice question has options")
        low, high = q.get("min"), q.get("max")
        if qtype != "number" and (low is not None or high is not None):
            raise StudyError(f"{where}: min and max are for number questions")
        low = None if low is None else _number(low, f"{where}.min", -1e9, 1e9)
        high = None if high is None else _number(high, f"{where}.max", -1e9, 1e9)
        if low is not None and high is not None and low > high:
            raise StudyError(f"{where}: min {low:g} is above max {high:g}")
        required = q.get("required", True)
        if not isinstance(required, bool):
            raise StudyError(f"{where}.required: must be true or false")
        out.append(Question(id=qid, text=text.strip(), type=qtype, options=tuple(o.strip() for o in options),
                            min=low, max=high, required=required))
    ids = [q.id for q in out]
    dupes = sorted({n for n in ids if ids.count(n) > 1})
    if dupes:
        raise StudyError(f"questionnaire: id {', '.join(dupes)} used twice")
    return tuple(out)


def _number(value, name: str, low: float, high: float, *, integer: bool = False):
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok or not (low <= value <= high) or not math.isfinite(value):
        kind = "a whole number" if integer else "a number"
        raise StudyError(f"{name}: {value!r} must be {kind} from {low:g} to {high:g}")
    return value if integer else float(value)


def _sampling(data: dict, where: str, defaults: Sampling) -> Sampling:
    t = _number(data.get("temperature", defaults.temperature), f"{where}.temperature", *TEMPERATURE_RANGE)
    k = data.get("top_k", defaults.top_k)
    k = None if k in (None, 0) else _number(k, f"{where}.top_k", 1, 100_000, integer=True)
    p = data.get("top_p", defaults.top_p)
    p = None if p is None else _number(p, f"{where}.top_p", 0.01, 1.0)
    return Sampling(temperature=t, top_k=k, top_p=p)


def _clip(data, systems: tuple[str, ...]) -> ClipSettings:
    if not isinstance(data, dict):
        raise StudyError("clip: must be a table ([clip] in TOML)")
    _no_unknown(data, _CLIP_KEYS, "clip")
    seconds = _number(data.get("seconds", 20.0), "clip.seconds", 1.0, MAX_CLIP_SECONDS)
    primer = data.get("primer", "none")
    if primer not in PRIMERS:
        raise StudyError(f"clip.primer: {primer!r} must be \"none\" (clips start from scratch) or \"heldout\" "
                         "(every clip of a trial continues the opening of one held-out piece)")
    primer_seconds = _number(data.get("primer_seconds", min(DEFAULT_PRIMER_SECONDS, seconds / 2)),
                             "clip.primer_seconds", 0.5, max(0.5, seconds - 0.5))
    base = _sampling(data, "clip", Sampling())
    overrides = data.get("overrides", {})
    if not isinstance(overrides, dict):
        raise StudyError("clip.overrides: must be a table of per-system tables")
    pairs = []
    for system, o in sorted(overrides.items()):
        where = f"clip.overrides.{system}"
        if system not in systems or system == REAL:
            raise StudyError(f"{where}: {system!r} is not one of the study's models ({', '.join(systems)})")
        if not isinstance(o, dict):
            raise StudyError(f"{where}: must be a table")
        _no_unknown(o, _OVERRIDE_KEYS, where)
        pairs.append((system, _sampling(o, where, base)))
    return ClipSettings(seconds=seconds, temperature=base.temperature, top_k=base.top_k, top_p=base.top_p,
                        primer=primer, primer_seconds=primer_seconds, overrides=tuple(pairs))
