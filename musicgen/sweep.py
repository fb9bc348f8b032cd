"""`python -m musicgen sweep`: which sampling setting sounds best, measured rather than guessed.

For one checkpoint and a grid of settings (temperatures × top-p values), each setting gets the evaluation
`evaluate` runs (`evaluation.py`): N clips of 30 s at seeds 0..N-1, cut like the app cuts them, against the
corpus's held-out pieces; MGEval overlap and KL, the C2ST accuracy (fixed fold seed) and the diversity row,
plus a family's own numbers (C-abc: the share of tunes that parse). Every setting uses the *same* seeds, so
the rows differ by the setting alone and a rerun gives the same table.

The table is JSON (`sweep.json`, documented by `json_document`) with a CSV beside it; `--save` writes both
into the checkpoint's folder and the best setting into its card (`Card.recommended`), which Generate offers
and the Sampling page draws.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from musicgen.card import Recommended
from musicgen.checkpoints import write_card, checkpoint_folder, list_checkpoint_ids, read_card
from musicgen.corpora import load_corpus
from musicgen.evaluation import CLIP_SECONDS, ceiling, clip, reference_pieces
from musicgen.sampling import TEMPERATURE_RANGE, SamplingError, check_params
from musicgen.set_metrics import SEED, EvaluationError, compare_sets, diversity
from musicgen.systems import default_request, get_system, is_real, is_samples, load_system_model, make_clip
from musicgen.train import code_version

SWEEP_JSON, SWEEP_CSV = "sweep.json", "sweep.csv"
MAX_SETTINGS = 200  # a typo like 0.1:5:0.001 would run for days; say so instead
# The best-setting rule (`best_row`), in numbers:
OVERLAP_TIE = 0.01  # overlaps this close to the best count as tied (at n = 16-32 they move ~0.01 between seed sets)
MIN_PARSE_RATE = 0.9  # a family that drops unparseable samples (C-abc) must keep at least this share
MIN_DISTINCT = 0.9  # at least this share of the samples must be distinct pieces (low temperatures repeat)
RULE = (f"highest overlap_mean among settings whose samples are music (ABC parse rate >= {MIN_PARSE_RATE:g} where "
        f"reported, >= {MIN_DISTINCT:.0%} distinct samples); overlaps within {OVERLAP_TIE:g} of the best tie, and a "
        "tie goes to the lower C2ST accuracy, then to the setting nearest the card's default")
CSV_COLUMNS = ("temperature", "top_p", "top_k", "n_samples", "compared_samples", "overlap_mean", "kl_mean",
               "c2st_accuracy", "distinct_samples", "mean_pairwise_roll_distance", "real_mean_pairwise_roll_distance",
               "abc_parse_rate", "seconds", "best", "error")


class SweepError(ValueError):
    """A sweep cannot run as asked (a bad range, a system without settings); one line for the user."""


# ---- the grid -----------------------------------------------------------------------------------
def parse_values(text: str, *, name: str = "temperature") -> tuple[float, ...]:
    """`0.6:1.4:0.1` (start:stop:step, stop included, float-safe) or a list `0.8,1.0` → the values, in order.

    Values are rounded to 6 decimals, so 0.6 + 3 × 0.1 is 0.9 and not 0.8999999999999999."""
    text = (text or "").strip()
    if not text:
        raise SweepError(f"--{name.replace('_', '-')} is empty; give start:stop:step (0.6:1.4:0.1) or a list (0.8,1.0)")
    try:
        if ":" in text:
            parts = [float(p) for p in text.split(":")]
            if len(parts) != 3:
                raise SweepError(f"--{name.replace('_', '-')} {text!r}: a range is start:stop:step, three numbers")
            start, stop, step = parts
            if not all(math.isfinite(x) for x in parts):
                raise SweepError(f"--{name.replace('_', '-')} {text!r}: numbers only")
            if step <= 0:
                raise SweepError(f"--{name.replace('_', '-')} {text!r}: the step must be more than 0")
            if stop < start:
                raise SweepError(f"--{name.replace('_', '-')} {text!r}: stop is below start")
            count = math.floor((stop - start) / step + 1e-9) + 1  # the tolerance keeps 1.4 in 0.6:1.4:0.1
            if count > MAX_SETTINGS:
                raise SweepError(f"--{name.replace('_', '-')} {text!r} is {count} values; at most {MAX_SETTINGS}")
            values = [round(start + i * step, 6) for i in range(count)]
        else:
            values = [round(float(p), 6) for p in text.split(",") if p.strip()]
    except ValueError as e:
        if isinstance(e, SweepError):
            raise
        raise SweepError(f"--{name.replace('_', '-')} {text!r} is not a number, a list (0.8,1.0) or a range "
                         "(0.6:1.4:0.1)") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise SweepError(f"--{name.replace('_', '-')} {text!r}: numbers only")
    values = list(dict.fromkeys(values))  # a repeated value is one setting
    lo, hi = TEMPERATURE_RANGE if name == "temperature" else (0.0, 1.0)
    bad = [v for v in values if not (lo <= v <= hi) or (name == "top_p" and v <= 0)]
    if bad:
        above = "more than " if name == "top_p" else ""
        raise SweepError(f"--{name.replace('_', '-')}: {bad[0]:g} is out of range ({above}{lo:g} to {hi:g})")
    return tuple(values)


@dataclass(frozen=True)
class Setting:
    temperature: float
    top_p: float | None = None  # None: the card's default (off for every shipped card)


def settings_grid(temperatures: tuple[float, ...], top_ps: tuple[float | None, ...] = (None,)) -> list[Setting]:
    return [Setting(t, p) for p in top_ps for t in temperatures]


# ---- one setting ----------------------------------------------------------------------------------
def _checkpoint_system(model_id: str):
    if is_real(model_id) or is_samples(model_id):
        raise SweepError(f"{model_id} plays existing pieces and has no sampling settings; sweep a checkpoint")
    known = list_checkpoint_ids()
    if model_id not in known:
        raise SweepError(f"unknown model {model_id!r}; choose from {', '.join(known) or 'none'}")
    return get_system(model_id)


def evaluate_setting(model_id: str, setting: Setting, n: int, real: list) -> dict:
    """One row: `evaluate`'s numbers for `n` clips at seeds 0..n-1 made at `setting` (and the card's other
    defaults). A setting whose samples cannot be compared (C-abc: under 2 tunes parse) is a row with an
    `error` and null numbers, not a failed sweep."""
    system = get_system(model_id)
    base = default_request(system, length=f"{CLIP_SECONDS:g}s")
    base = dataclasses.replace(base, temperature=setting.temperature,
                               top_p=base.top_p if setting.top_p is None else setting.top_p)
    started = time.perf_counter()
    generated = [make_clip(dataclasses.replace(base, seed=s)) for s in range(n)]
    hook = getattr(load_system_model(model_id).model, "evaluation_extras", None)
    generated, extras = hook(generated) if hook else (generated, {})
    row = {"temperature": setting.temperature, "top_p": base.top_p, "top_k": base.top_k, "n_samples": n,
           "compared_samples": len(generated),  # fewer than n where the family drops non-music (unparseable ABC)
           "overlap_mean": None, "kl_mean": None, "c2st_accuracy": None}
    try:
        result = compare_sets(clip(generated), real, seed=SEED)
        row.update(overlap_mean=result["overlap_mean"], kl_mean=result["kl_mean"],
                   c2st_accuracy=result["c2st_accuracy"],
                   feature_oa={name: f["oa"] for name, f in result["features"].items()})
        d = diversity(clip(generated), real[:n])
        row.update(distinct_samples=d["distinct_samples"], mean_pairwise_roll_distance=d["mean_pairwise_roll_distance"],
                   real_mean_pairwise_roll_distance=d["real_mean_pairwise_roll_distance"])
    except EvaluationError as e:
        row["error"] = str(e)
    if "abc_parse_rate" in extras:
        row["abc_parse_rate"] = extras["abc_parse_rate"]
    row["seconds"] = round(time.perf_counter() - started, 1)
    return row


# ---- the best setting ---------------------------------------------------------------------------
def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def eligible(row: dict) -> bool:
    """Is this row's music worth recommending at all? (numbers measured, tunes parse, samples differ)"""
    if not (_number(row.get("overlap_mean")) and _number(row.get("c2st_accuracy"))):
        return False
    rate = row.get("abc_parse_rate")
    if _number(rate) and rate < MIN_PARSE_RATE:
        return False
    distinct, n = row.get("distinct_samples"), row.get("compared_samples", row.get("n_samples")) or 0
    return not (_number(distinct) and n and distinct / n < MIN_DISTINCT)


def best_row(rows: list[dict], *, default_temperature: float = 1.0) -> dict | None:
    """The row `RULE` picks, or None when no row is eligible.

    Why this rule: overlap (MGEval OA, averaged over features) is the headline number of `evaluate`, of the
    cards and of the kiosk's choice, and it asks the question a listener does (do these pieces sit among real
    ones?). But at n = 16-32 it moves by about 0.01 between seed sets, so near-equal overlaps are a tie and
    the C2ST (can a classifier tell the sets apart? lower is better) decides. A setting that wins by
    dropping samples (unparseable ABC is left out of the overlap) or by repeating itself is not music
    a user wants, hence the eligibility floors."""
    ok = [r for r in rows if eligible(r)]
    if not ok:
        return None
    top = max(r["overlap_mean"] for r in ok)
    tied = [r for r in ok if r["overlap_mean"] >= top - OVERLAP_TIE - 1e-12]
    return min(tied, key=lambda r: (r["c2st_accuracy"], abs(r["temperature"] - default_temperature),
                                    r["top_p"] if r["top_p"] is not None else 1.0))


# ---- the sweep ------------------------------------------------------------------------------------
def run_sweep(model_id: str, settings: list[Setting], n: int, *, progress=None) -> dict:
    """Every setting's row and the best one, as the JSON document `sweep.json` holds (see `json_document`).

    `progress(row)` is called after each setting (the CLI prints a line)."""
    if n < 2:
        raise SweepError(f"--n must be at least 2 (samples per setting), got {n}")
    if not settings:
        raise SweepError("no settings to sweep")
    system = _checkpoint_system(model_id)
    for s in settings:
        try:
            check_params(temperature=s.temperature, top_k=None, top_p=s.top_p, seed=0)
        except SamplingError as e:
            raise SweepError(str(e)) from None
    card = load_system_model(model_id).card  # raises CheckpointError with the fix
    corpus = load_corpus(system.corpus)
    real = reference_pieces(corpus)
    started = time.perf_counter()
    rows = []
    for s in settings:
        rows.append(evaluate_setting(model_id, s, n, real))
        if progress is not None:
            progress(rows[-1])
    return json_document(card, rows, n, ceiling_row=ceiling(corpus, n), seconds=time.perf_counter() - started)


def json_document(card, rows: list[dict], n: int, *, ceiling_row: dict | None = None, seconds: float = 0.0) -> dict:
    """`sweep.json`: the model, what was swept and what stayed fixed, one row per setting, the best row and the
    rule that chose it, and the real-vs-real ceiling (`real_vs_train`, as in `evaluate`)."""
    d = card.sampling.defaults
    best = best_row(rows, default_temperature=float(d.temperature))
    ceiling_doc = ({k: ceiling_row[k] for k in ("n_samples", "overlap_mean", "kl_mean", "c2st_accuracy")}
                   if ceiling_row else None)
    return {"model": card.id, "title": card.display_title, "family": card.family, "corpus": card.corpus,
            "weights_sha256": card.weights_sha256, "n_samples": n, "seeds": [0, n - 1],
            "clip_seconds": CLIP_SECONDS, "reference": "test",
            "default": {"temperature": d.temperature, "top_p": d.top_p, "top_k": d.top_k},
            "swept": {"temperature": sorted({r["temperature"] for r in rows}),
                      "top_p": sorted({r["top_p"] for r in rows}, key=lambda p: (p is None, p or 0))},
            "rows": rows, "best": best, "rule": RULE, "real_vs_train": ceiling_doc,
            "seconds": round(seconds, 1), "code_version": code_version(),
            "swept_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def recommendation(doc: dict) -> Recommended | None:
    best = doc.get("best")
    if not best:
        return None
    measured = {k: best.get(k) for k in ("overlap_mean", "kl_mean", "c2st_accuracy", "distinct_samples",
                                         "mean_pairwise_roll_distance", "abc_parse_rate") if k in best}
    return Recommended(temperature=float(best["temperature"]), top_p=best.get("top_p"), by="overlap_mean",
                       n=int(doc["n_samples"]), table=SWEEP_JSON, measured=measured,
                       measured_at=doc.get("swept_at", ""))


# ---- files ----------------------------------------------------------------------------------------
def csv_text(doc: dict) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    best = doc.get("best")
    for row in doc["rows"]:
        writer.writerow({**{k: "" if row.get(k) is None else row.get(k) for k in CSV_COLUMNS},
                         "best": int(row == best)})
    return out.getvalue()


def write_table(doc: dict, path: str | Path) -> tuple[Path, Path]:
    """The JSON at `path` and the CSV beside it (same name, .csv)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n")
    csv_path = path.with_suffix(".csv")
    csv_path.write_text(csv_text(doc))
    return path, csv_path


def save_to_checkpoint(doc: dict) -> tuple[Path, Path | None]:
    """`sweep --save`: the table beside the checkpoint and its best setting in the card (`recommended`).

    Only that field of the card changes; the card is written the way `checkpoints` writes every card
    (atomically, same key order), so the weights hash and the rest stay valid."""
    folder = checkpoint_folder(doc["model"])
    card = read_card(folder)
    if card.weights_sha256 != doc.get("weights_sha256"):
        raise SweepError(f"{doc['model']}: the checkpoint changed while it was swept; sweep it again")
    path, _ = write_table(doc, folder / SWEEP_JSON)
    rec = recommendation(doc)
    if rec is None:
        return path, None
    # `write_card` is the one atomic card writer (`update_card_evaluation` and training use it too).
    return path, write_card(dataclasses.replace(card, recommended=rec), folder)


def load_sweep(model_id: str) -> dict | None:
    """The checkpoint's saved sweep table, or None when it has none (or it cannot be read)."""
    path = checkpoint_folder(model_id) / SWEEP_JSON
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and isinstance(doc.get("rows"), list) else None


def swept_ids() -> list[str]:
    """Checkpoints that have a saved sweep table, sorted."""
    return [cid for cid in list_checkpoint_ids() if (checkpoint_folder(cid) / SWEEP_JSON).exists()]


# ---- the printed table ------------------------------------------------------------------------------
def _fmt(x, spec: str) -> str:
    return format(x, spec) if _number(x) else "—"


def format_row(row: dict, *, best: bool = False, default: bool = False) -> str:
    """One printed line: the setting, its numbers, seconds, and marks (best, default, why it has no numbers)."""
    top_p = _fmt(row.get("top_p"), "5.2f") if row.get("top_p") is not None else "off"
    distinct = f"{_fmt(row.get('distinct_samples'), '>4')}/{row.get('compared_samples', row['n_samples']):<4}"
    cells = [f"{row['temperature']:>5g}", f"{top_p:>5}", _fmt(row.get("overlap_mean"), "7.3f"),
             _fmt(row.get("kl_mean"), "6.3f"), _fmt(row.get("c2st_accuracy"), "6.3f"), distinct,
             _fmt(row.get("mean_pairwise_roll_distance"), "6.3f")]
    if "abc_parse_rate" in row:
        cells.append(_fmt(row.get("abc_parse_rate"), "6.2f"))
    cells.append(_fmt(row.get("seconds"), "6.1f"))
    marks = (" *best" if best else "") + (" (default)" if default else "")
    return " ".join(cells) + marks + (f"  {row['error']}" if row.get("error") else "")


def format_table(doc: dict) -> str:
    rows, d, best = doc["rows"], doc["default"], doc.get("best")
    parse = " parse" if any("abc_parse_rate" in r for r in rows) else ""
    head = (f"{'temp':>5} {'top-p':>5} {'overlap':>7} {'KL':>6} {'C2ST':>6} {'distinct':>9} {'spread':>6}"
            f"{parse} {'sec':>6}")
    lines = [f"{doc['model']}: {len(rows)} settings × {doc['n_samples']} samples (seeds {doc['seeds'][0]}–"
             f"{doc['seeds'][1]}), {doc['seconds']:.0f} s", head, "-" * len(head)]
    for r in rows:
        is_default = r["temperature"] == d["temperature"] and r["top_p"] == d["top_p"]
        lines.append(format_row(r, best=r == best, default=is_default))
    c = doc.get("real_vs_train")
    if c:
        lines.append(f"real: train vs test   overlap {_fmt(c['overlap_mean'], '.3f')}  "
                     f"C2ST {_fmt(c['c2st_accuracy'], '.3f')}  (the ceiling)")
    if best:
        lines.append(f"best: temperature {best['temperature']:g}"
                     + (f", top-p {best['top_p']:g}" if best.get("top_p") is not None else ""))
    else:
        lines.append("best: none (no setting passed the rule's floors)")
    return "\n".join(lines)


__all__ = ["RULE", "Setting", "SweepError", "best_row", "evaluate_setting", "format_table", "json_document",
           "load_sweep", "parse_values", "recommendation", "run_sweep", "save_to_checkpoint", "settings_grid",
           "swept_ids", "write_table"]
