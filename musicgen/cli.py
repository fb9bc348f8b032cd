"""Command line: `python -m musicgen list|generate|train|import|evaluate|sweep|study ...`.

Bad arguments get one line on stderr and exit code 2 (argparse's convention); a bad *file* given to
`import` is a result, not a failure, so `import` exits 0 unless the tool itself breaks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXIT_USAGE = 2


class UsageError(Exception):
    """A one-line message for the user; exit code 2."""


# Commands import their modules when they run: torch, music21 and the models take seconds to import,
# and `list` / `--help` should answer at once.
def _cmd_list(args) -> int:
    from musicgen.checkpoints import BrokenCheckpoint, list_cards

    cards = list_cards()
    if args.ids:
        for c in cards:
            print(c.id)
        return 0
    if not cards:
        print("no checkpoints found; train one with `python -m musicgen train A-lstm`")
    for c in cards:
        if isinstance(c, BrokenCheckpoint):
            print(f"{c.id:<12} BROKEN  {c.error}")
            continue
        nll = c.training.test_nll_per_token
        nll_text = f"test NLL {nll:.3f}/token" if isinstance(nll, (int, float)) else ""
        mine = "  [trained by you]" if c.user_trained else ""
        print(f"{c.id:<12} {c.title:<28} {c.family:<8} {c.corpus} {nll_text}{mine}")
    return 0


def _sampling_process() -> None:
    """Commands that make clips set the process's torch profile first (`runtime.py`); `train` sets its own."""
    from musicgen import runtime

    runtime.configure("sample")


def _cmd_generate(args) -> int:
    _sampling_process()
    from musicgen.checkpoints import CheckpointError
    from musicgen.corpora import CorpusError
    from musicgen.importing import read_first
    from musicgen.midi import MidiImportError, save_midi
    from musicgen.sampling import SamplingError
    from musicgen.systems import Request, UnknownSystemError, make_clip

    request = Request(model=args.model, seed=args.seed, temperature=args.temperature, length=args.length,
                      top_k=args.top_k, top_p=args.top_p, primer=args.primer, primer_seconds=args.primer_seconds)
    started = time.perf_counter()
    try:
        kind, _, ref = (args.primer or "").partition(":")
        upload = read_first(ref)[0] if kind == "file" else None  # MIDI, ABC (its first tune) or MusicXML
        seq = make_clip(request, upload=upload)
    except (SamplingError, CheckpointError, UnknownSystemError, CorpusError, MidiImportError, ValueError) as e:
        raise UsageError(str(e)) from None
    save_midi(seq, args.out)
    print(f"{args.out}: {len(seq)} notes, {seq.duration:.1f} s ({time.perf_counter() - started:.2f} s to sample)")
    if args.audio:
        return _write_audio(seq, Path(args.audio))
    return 0


def _write_audio(seq, path: Path) -> int:
    from musicgen.audio import encode_ogg, encode_wav, normalize_loudness
    from musicgen.synth import SynthUnavailableError, render_audio

    if path.suffix.lower() not in (".wav", ".ogg"):
        raise UsageError(f"--audio must end in .wav or .ogg, not {path.suffix or 'nothing'}")
    try:
        clip = render_audio(seq)
    except SynthUnavailableError as e:
        print(f"audio not written: {e}", file=sys.stderr)
        return 1
    clip = type(clip)(samples=normalize_loudness(clip.samples), sample_rate=clip.sample_rate, soundfont=clip.soundfont)
    path.write_bytes(encode_wav(clip) if path.suffix.lower() == ".wav" else encode_ogg(clip))
    print(f"{path}: {clip.duration:.1f} s of audio, soundfont {clip.soundfont}")
    return 0


def _corpus_argument(text: str) -> str:
    """`--corpus`: a registered name, `folder:PATH`, or a plain path to a folder or a .zip of music files."""
    from musicgen.corpora import CORPORA, CorpusError
    from musicgen.corpora.archive import unpack_zip

    if text in CORPORA or text.startswith("folder:"):
        return text
    path = Path(text).expanduser()
    if path.is_dir():
        return f"folder:{path.resolve()}"
    if path.suffix.lower() == ".zip" and path.is_file():
        try:
            return f"folder:{unpack_zip(path)}"
        except CorpusError as e:
            raise UsageError(str(e)) from None
    raise UsageError(f"--corpus {text!r} is neither a corpus ({', '.join(CORPORA)}), nor folder:PATH, nor an "
                     "existing folder or .zip")


def _settings_argument(pairs: list[str]) -> dict[str, str]:
    from musicgen.presets.base import split_setting

    out = {}
    for pair in pairs:
        setting = split_setting(pair)
        if setting is None:
            raise UsageError(f"--set takes key=value, not {pair!r}")
        out[setting[0]] = setting[1]
    return out


def _report_corpus(name: str) -> None:
    """One line on what the corpus holds, and what was skipped and why (the first few reasons)."""
    from musicgen.corpora import CorpusError, load_corpus

    try:
        corpus = load_corpus(name)
    except CorpusError as e:
        raise UsageError(str(e)) from None
    line = f"corpus {name}: {len(corpus.pieces)} pieces, {sum(len(p) for p in corpus.pieces)} notes"
    if corpus.skipped:
        reasons = "; ".join(f"{file}: {why}" for file, why in corpus.skipped[:3])
        line += f"; {len(corpus.skipped)} files skipped (first: {reasons})"
    print(line, flush=True)


def _cmd_train(args) -> int:
    from musicgen import runtime
    from musicgen.checkpoints import checkpoints_dir
    from musicgen.presets import PRESETS
    from musicgen.presets.base import PresetError, customise, default_run_id
    from musicgen.distributed import DistributedError
    from musicgen.train import TrainingDataError, train

    if args.preset not in PRESETS:
        raise UsageError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    if args.max_steps is not None and args.max_steps < 1:
        raise UsageError("--max-steps must be at least 1")
    if args.max_minutes is not None and args.max_minutes <= 0:
        raise UsageError("--max-minutes must be more than 0")
    preset = PRESETS[args.preset]
    if args.corpus or args.set or args.name:  # a run of the user's own: a new id, under the data folder
        corpus = _corpus_argument(args.corpus) if args.corpus else None
        try:
            name = args.name or default_run_id(preset, args.corpus)  # named after what the user typed
            preset = customise(preset, corpus=corpus, settings=_settings_argument(args.set or []), name=name)
        except PresetError as e:
            raise UsageError(str(e)) from None
        if (checkpoints_dir() / preset.id).exists():
            raise UsageError(f"{preset.id!r} is a shipped checkpoint; choose another --name")
        _report_corpus(preset.corpus)
    runtime.configure("train", threads=preset.train.threads)
    out = Path(args.out) if args.out else None
    max_seconds = args.max_minutes * 60 if args.max_minutes is not None else args.max_seconds
    try:
        folder = train(preset, out_dir=out, resume=args.resume, max_steps=args.max_steps, max_seconds=max_seconds)
    except (TrainingDataError, DistributedError) as e:
        raise UsageError(str(e)) from None
    if os.environ.get("RANK", "0") == "0":  # under torchrun only rank 0 wrote it
        print(f"saved {folder}")
    return 0


def _cmd_evaluate(args) -> int:
    _sampling_process()
    import json

    from musicgen.checkpoints import CheckpointError, list_checkpoint_ids, load_checkpoint, update_card_evaluation
    from musicgen.corpora import CorpusError
    from musicgen.evaluation import EvaluationError, evaluate_model, format_table, json_document
    from musicgen.midi import MidiImportError
    from musicgen.sample_sets import SampleSetError, update_evaluation
    from musicgen.systems import UnknownSystemError, get_system, is_samples

    if args.n is None or args.n < 2:
        raise UsageError(f"--n must be at least 2 (samples per model), got {args.n}")
    if args.first_seed < 0:
        raise UsageError(f"--first-seed must be 0 or more, got {args.first_seed}")
    known = list_checkpoint_ids()
    ids = list(dict.fromkeys(args.model)) if args.model else known
    if not ids:
        raise UsageError("no checkpoints found; train one with `python -m musicgen train markov`")
    unknown = [m for m in ids if m not in known and not is_samples(m)]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; choose from {', '.join(known) or 'none'} "
                         "(or samples:<name> for a sample set)")
    results, ceilings = {}, {}
    for cid in ids:
        try:
            target = get_system(cid) if is_samples(cid) else load_checkpoint(cid)
            results[cid] = evaluate_model(target, args.n, ceilings=ceilings, first_seed=args.first_seed)
        except (CheckpointError, CorpusError, EvaluationError, SampleSetError, UnknownSystemError,
                MidiImportError) as e:
            raise UsageError(f"{cid}: {e}") from None
        if "note" in results[cid]:
            print(f"{cid}: note: {results[cid]['note']}", flush=True)
        if not args.no_write:
            if is_samples(cid):
                update_evaluation(cid.split(":", 1)[1], results[cid])
            else:
                update_card_evaluation(cid, results[cid])
        print(f"{cid}: evaluated in {results[cid]['seconds']:.1f} s", flush=True)
    print(format_table(results))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(json_document(results, ceilings, args.n), indent=2, allow_nan=False)
                                   + "\n")
        print(f"wrote {args.json}")
    return 0


def _cmd_sweep(args) -> int:
    """`sweep`: `evaluate`'s numbers at every setting of a grid (`sweep.py`), a table, and the best setting."""
    _sampling_process()
    from musicgen.checkpoints import CheckpointError, list_checkpoint_ids
    from musicgen.corpora import CorpusError
    from musicgen.sweep import SweepError, format_row, format_table, parse_values, run_sweep, save_to_checkpoint, \
        settings_grid, write_table
    from musicgen.systems import UnknownSystemError

    try:
        temperatures = parse_values(args.temperature, name="temperature")
        top_ps = parse_values(args.top_p, name="top_p") if args.top_p else (None,)
    except SweepError as e:
        raise UsageError(str(e)) from None
    if args.n is None or args.n < 2:
        raise UsageError(f"--n must be at least 2 (samples per setting), got {args.n}")
    ids = list(dict.fromkeys(args.model))
    known = list_checkpoint_ids()
    unknown = [m for m in ids if m not in known]
    if unknown:
        raise UsageError(f"unknown model {unknown[0]!r}; choose a checkpoint: {', '.join(known) or 'none'}")
    if args.out and len(ids) > 1:
        raise UsageError("--out names one file: sweep one --model at a time with it (or use --save)")
    settings = settings_grid(temperatures, top_ps)
    for cid in ids:
        print(f"{cid}: {len(settings)} settings × {args.n} samples", flush=True)
        try:
            doc = run_sweep(cid, settings, args.n, progress=lambda row: print(format_row(row), flush=True))
            written = [*write_table(doc, args.out)] if args.out else []
            if args.save:
                table, card = save_to_checkpoint(doc)
                written += [table] + ([card] if card else [])
        except (SweepError, CheckpointError, CorpusError, UnknownSystemError) as e:
            raise UsageError(f"{cid}: {e}") from None
        print(format_table(doc))
        for path in written:
            print(f"wrote {path}")
    return 0


def _cmd_samples(args) -> int:
    """`samples add|list|remove`: sample sets, MIDI files made by an outside model (`sample_sets.py`)."""
    from musicgen import sample_sets as ss

    try:
        if args.action == "add":
            added = ss.add_sample_set(args.name, args.path, corpus=args.corpus)
            for skipped in added.skipped:
                print(f"{skipped.source}: SKIPPED {skipped.reason}")
            print(f"sample set {added.id}: {added.n_files} files added, {len(added.skipped)} skipped "
                  f"(compared with {added.corpus}; in {added.folder})")
            return 0
        if args.action == "remove":
            print(f"removed {ss.remove_sample_set(args.name)}")
            return 0
        sets = ss.list_sample_sets()
        if not sets:
            print("no sample sets; add one with `python -m musicgen samples add NAME PATH`")
        for s in sets:
            if isinstance(s, ss.BrokenSampleSet):
                print(f"{s.id:<24} BROKEN  {s.error}")
                continue
            overlap = s.evaluation.get("overlap_mean") if s.evaluation else None
            evaluated = f"overlap {overlap:.3f}" if isinstance(overlap, (int, float)) else "not evaluated"
            print(f"{s.id:<24} {s.n_files:>5} files  {s.corpus:<16} {evaluated}  {s.source}")
        return 0
    except ss.SampleSetError as e:
        raise UsageError(str(e)) from None


def _cmd_precompute(args) -> int:
    _sampling_process()
    from musicgen.checkpoints import CheckpointError
    from musicgen.systems import UnknownSystemError, precompute_clips

    first, _, end = args.seeds.partition(":")
    try:
        seeds = range(int(first), int(end)) if end else range(int(first))
    except ValueError:
        raise UsageError(f"--seeds must be N (seeds 0..N-1) or A:B (seeds A..B-1), not {args.seeds!r}") from None
    if not 0 < len(seeds) <= 1000 or seeds.start < 0:
        raise UsageError(f"--seeds must name 1 to 1000 seeds from 0 up, not {args.seeds!r}")
    started = time.perf_counter()
    try:
        path = precompute_clips(args.model, seeds, temperature=args.temperature, length=args.length,
                                progress=lambda done, total: print(f"\r{done}/{total} clips", end="", flush=True))
    except (CheckpointError, UnknownSystemError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(f"\nwrote {path} ({len(seeds)} clips, {path.stat().st_size / 1000:.0f} kB, "
          f"{time.perf_counter() - started:.1f} s)")
    return 0


def _cmd_bench(args) -> int:
    _sampling_process()
    from musicgen.bench import run_cli

    return run_cli(args)


def _cmd_import(args) -> int:
    from musicgen.importing import ImportProblem, read_pieces
    from musicgen.midi import summarize_import

    ok = failed = 0
    for path in args.files:  # a line per piece: per file, per tune of an ABC file
        for label, result in read_pieces(path):
            if isinstance(result, ImportProblem):
                failed += 1
                print(f"{label}: ERROR {result.problem}", flush=True)
            else:
                ok += 1
                print(f"{label}: {summarize_import(result)}", flush=True)
    files = f"{len(args.files)} files" + ("" if ok + failed == len(args.files) else f", {ok + failed} pieces")
    print(f"{files}: {ok} OK, {failed} ERROR")
    return 0


def _cmd_jobs(args) -> int:
    """`jobs run|list|cancel ID`: background training runs (`jobs.py`; the Train page queues them)."""
    from musicgen import jobs

    if args.action == "run":  # the runner the Train page starts; exits when the queue is empty
        ran = jobs.run_queue()
        print(f"ran {ran} job{'s' if ran != 1 else ''}")
        return 0
    try:
        if args.action == "cancel":
            job = jobs.cancel(args.job_id)
            done = job.status == jobs.CANCELLED
            print(f"{job.id}: {'cancelled' if done else 'cancelling (it stops at its next progress report)'}")
            return 0
    except jobs.JobError as e:
        raise UsageError(str(e)) from None
    listed = jobs.list_jobs()
    if not listed:
        print("no training jobs; start one on the Train page")
    for job in listed:
        where = f"step {job.step}/{job.max_steps or '?'}" if job.status == jobs.RUNNING else ""
        why = job.error or job.note
        print(f"{job.id:<48} {job.status:<9} {job.checkpoint_id:<24} {where}{'  ' + why if why else ''}".rstrip())
    return 0


def _study_summary(spec) -> list[str]:
    """`study check`'s lines: what the study file sets up (every field the study holds, the main ones first)."""
    data = spec.to_dict()
    lines = [f"study {spec.id}: {spec.kind}, {len(spec.systems)} systems, {spec.trials_per_participant} trials per "
             f"participant, {spec.clip.seconds:g} s clips"
             + (f" continuing a {spec.clip.primer_seconds:g} s held-out opening" if spec.clip.primer == "heldout" else ""),
             f"  title: {spec.title or '(none)'}"]
    for system in spec.systems:
        if system == "real":
            lines.append(f"  system real: held-out pieces of {spec.corpus or 'the corpus the models were trained on'}")
            continue
        s = spec.clip.sampling_for(system)
        extra = "".join(f", {k} {v:g}" for k, v in (("top-k", s.top_k), ("top-p", s.top_p)) if v)
        lines.append(f"  system {system}: temperature {s.temperature:g}{extra}")
    criteria = getattr(spec, "rating_criteria", ())
    if len(criteria) > 1 or getattr(spec, "criteria", ()):
        lines += [f"  criterion {c.name}: {c.question}" for c in criteria]
    else:
        lines.append(f"  question: {spec.question}")
    lines.append(f"  each clip plays at least {spec.min_listen_seconds:g} s before an answer; after the last trial: "
                 f"{spec.reveal}")
    shown = {"id", "kind", "systems", "trials_per_participant", "clip", "title", "question", "criteria", "corpus",
             "min_listen_seconds", "reveal", "consent"}
    for key in sorted(k for k in data if k not in shown and data[k] not in (None, "", [], {}, 0, "off")):
        value = data[key]
        lines.append(f"  {key}: {len(value)} item(s)" if isinstance(value, list) else f"  {key}: {value}")
    lines.append(f"  consent text: {len(spec.consent)} characters" if spec.consent else "  consent text: (none)")
    return lines


def _cmd_study(args) -> int:
    """`study check FILE` / `study report ID`: validate a study file; write a stored study's report."""
    from musicgen.listening.study import StudyError, load_study

    if args.action == "check":
        try:
            spec = load_study(args.file)
        except StudyError as e:
            raise UsageError(str(e)) from None
        print("\n".join(_study_summary(spec)))
        problems = []
        if not args.offline:
            problems += [f"{args.file}: systems: no checkpoint or sample set named {m!r}"
                         for m in spec.missing_checkpoints()]
            if "real" in spec.systems and not problems:
                from musicgen.listening.clips import study_corpus

                try:
                    study_corpus(spec)
                except Exception as e:  # noqa: BLE001 — a missing or broken card says why
                    problems.append(f"{args.file}: corpus: {e}")
        for line in problems:
            print(f"error: {line}", file=sys.stderr)
        if problems:
            return EXIT_USAGE
        print("OK")
        return 0

    from sqlalchemy.engine import make_url

    from musicgen.listening import report, stats
    from musicgen.listening.store import VoteStore, default_db_url

    url = make_url(args.db or default_db_url())
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") \
            and not Path(url.database).expanduser().exists():
        raise UsageError(f"no vote store at {url.database} (give --db, or set MUSICGEN_DB_URL)")
    store = VoteStore(args.db)
    try:
        try:
            analysis = report.analyse_study(store, args.study_id, n_boot=args.boot)
        except KeyError as e:
            raise UsageError(e.args[0] if e.args else str(e)) from None
        out = Path(args.out)
        out.write_text(report.report_html(analysis, inline_plotlyjs=not args.cdn), encoding="utf-8")
        written = [str(out)]
        if args.csv:
            Path(args.csv).write_text(stats.votes_csv(analysis.votes), encoding="utf-8")
            written.append(args.csv)
            if analysis.ratings:
                ratings_path = Path(args.csv).with_name(Path(args.csv).stem + "-ratings.csv")
                ratings_path.write_text(report.ratings_csv(analysis.ratings), encoding="utf-8")
                written.append(str(ratings_path))
        if args.json:
            Path(args.json).write_text(report.votes_json(analysis.votes, analysis.spec, analysis.ratings,
                                                         analysis.participant_rows), encoding="utf-8")
            written.append(args.json)
    finally:
        store.close()
    people = len(analysis.records)
    print(f"study {analysis.spec.id}: {len(analysis.votes)} votes from {people} participants, "
          f"{len(analysis.excluded)} excluded ({analysis.rule.describe()})")
    print("wrote " + ", ".join(written))
    return 0


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage dump
        self.exit(EXIT_USAGE, f"error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m musicgen", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("list", help="shipped checkpoints")
    s.add_argument("--ids", action="store_true", help="only the ids, one per line")
    s.set_defaults(run=_cmd_list)

    s = sub.add_parser("generate", help="sample a piece to MIDI (and audio)")
    s.add_argument("--model", required=True)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--length", default="30s", help="seconds (30s) or notes (200n)")
    s.add_argument("--top-k", type=int, default=None)
    s.add_argument("--top-p", type=float, default=None)
    s.add_argument("--primer", default=None, help="test:<held-out piece id> or file:<path> (MIDI, ABC, MusicXML)")
    s.add_argument("--primer-seconds", type=float, default=8.0)
    s.add_argument("--out", required=True, help="MIDI file to write")
    s.add_argument("--audio", default=None, help="also write audio (.wav or .ogg)")
    s.set_defaults(run=_cmd_generate)

    s = sub.add_parser("train", help="train a preset (on its corpus, or yours) into a checkpoint")
    s.add_argument("preset")
    s.add_argument("--corpus", default=None,
                   help="train on this instead: a corpus name, folder:PATH, or a folder / .zip of MIDI, ABC or MusicXML")
    s.add_argument("--set", action="append", default=None, metavar="KEY=VALUE",
                   help="change a model or training setting (repeatable), e.g. --set hidden=64 --set lr=0.003")
    s.add_argument("--name", default=None, help="id of the new checkpoint (default: PRESET-<corpus>)")
    s.add_argument("--out", default=None, help="folder to write instead of checkpoints/<id> (yours: the data folder)")
    s.add_argument("--resume", action="store_true", help="continue from runs/<id>/resume.pt")
    s.add_argument("--max-steps", type=int, default=None)
    s.add_argument("--max-seconds", type=float, default=None)
    s.add_argument("--max-minutes", type=float, default=None, help="wall-clock budget in minutes")
    s.set_defaults(run=_cmd_train)

    s = sub.add_parser("evaluate", help="objective metrics of samples against held-out real pieces")
    s.add_argument("--model", action="append", default=None,
                   help="a checkpoint id or samples:<name> (repeatable; default all checkpoints)")
    s.add_argument("--n", type=int, default=64,
                   help="samples per model (at least 2; a sample set gives at most its number of files)")
    s.add_argument("--first-seed", type=int, default=0,
                   help="seeds first..first+n-1 (default 0): other seeds than a sweep's check its chosen setting")
    s.add_argument("--json", default=None, help="also write the results as JSON here")
    s.add_argument("--no-write", action="store_true",
                   help="do not update the cards' (or sample sets') evaluation field")
    s.set_defaults(run=_cmd_evaluate)

    s = sub.add_parser("sweep", help="evaluate a model at each of several sampling settings: which sounds best?")
    s.add_argument("--model", action="append", required=True, help="a checkpoint id (repeatable)")
    s.add_argument("--temperature", default="0.6:1.4:0.1",
                   help="start:stop:step (stop included) or a list 0.8,1.0 (default 0.6:1.4:0.1)")
    s.add_argument("--top-p", default=None, help="also sweep top-p: a range or a list (default: the card's, off)")
    s.add_argument("--n", type=int, default=32, help="samples per setting, seeds 0..n-1 at every setting (default 32)")
    s.add_argument("--out", default=None, help="write the table as JSON here (and CSV beside it)")
    s.add_argument("--save", action="store_true",
                   help="write sweep.json/.csv beside the checkpoint and the best setting into its card")
    s.set_defaults(run=_cmd_sweep)

    s = sub.add_parser("samples", help="sample sets: MIDI files from an outside model, as a system samples:<name>")
    actions = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    a = actions.add_parser("add", help="register a folder (nested folders allowed) or a .zip of MIDI files")
    a.add_argument("name", help="letters, digits, - and _")
    a.add_argument("path", help="a folder of MIDI files or a .zip of them")
    a.add_argument("--corpus", default="bach-chorales", help="the corpus it is compared with (default bach-chorales)")
    actions.add_parser("list", help="every sample set, its files and evaluation")
    r = actions.add_parser("remove", help="delete a sample set")
    r.add_argument("name")
    s.set_defaults(run=_cmd_samples)

    s = sub.add_parser("bench", help="speed benchmark: prints a table (and JSON)")
    s.add_argument("--quick", action="store_true", help="fewer runs, shipped models only; under a minute")
    s.add_argument("--json", default=None, help="also write the results as JSON here")
    s.add_argument("--load", type=int, default=0, metavar="K",
                   help="keep K CPUs busy with spinning processes while it runs: a loaded machine, reproducibly")
    s.add_argument("--listening", type=int, default=None, metavar="N",
                   help="instead: N simulated participants run a 4-model pair study against a server (its own, "
                        "started on a free port with a throwaway store, or --url); listening-test load")
    s.add_argument("--trials", type=int, default=5, help="--listening: trials per participant (default 5)")
    s.add_argument("--think", default="8-12", metavar="LO-HI",
                   help="--listening: seconds a participant listens and thinks per trial (default 8-12)")
    s.add_argument("--url", default=None, help="--listening: a running server (it must use the --db store)")
    s.add_argument("--db", default=None, help="--listening: the vote store URL (default: a throwaway SQLite "
                                              "file; with --url, $MUSICGEN_DB_URL or the one under $MUSICGEN_DATA)")
    s.add_argument("--app", choices=("study", "full"), default="study",
                   help="--listening: the app the bench serves: participant-only (default) or full")
    s.add_argument("--server-pid", type=int, default=None, help="--listening --url: the server's pid, for its CPU")
    s.add_argument("--in-process", action="store_true",
                   help="--listening: the old mode, participants as threads calling the library (no server)")
    s.set_defaults(run=_cmd_bench)

    s = sub.add_parser("precompute", help="store a slow model's clips for seeds 0..N-1 at its default settings "
                                          "beside its weights: Generate looks them up instead of waiting")
    s.add_argument("model")
    s.add_argument("--seeds", default="64", help="N (seeds 0..N-1) or A:B (default 64)")
    s.add_argument("--temperature", type=float, default=None, help="default: the card's")
    s.add_argument("--length", default="30s")
    s.set_defaults(run=_cmd_precompute)

    s = sub.add_parser("import", help="check MIDI, ABC or MusicXML files: a line per piece (per ABC tune) "
                                      "and a summary")
    s.add_argument("files", nargs="+")
    s.set_defaults(run=_cmd_import)

    s = sub.add_parser("jobs", help="background training runs (queued by the Train page): run, list, cancel")
    actions = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    actions.add_parser("run", help="train the queued jobs one at a time, then exit (the page starts this)")
    actions.add_parser("list", help="every job: status, checkpoint, progress or reason")
    c = actions.add_parser("cancel", help="cancel a queued or running job")
    c.add_argument("job_id")
    s.set_defaults(run=_cmd_jobs)

    s = sub.add_parser("study", help="listening studies: check a study file; write a stored study's report")
    actions = s.add_subparsers(dest="action", required=True, parser_class=_Parser)
    c = actions.add_parser("check", help="validate a study file (TOML) and print what it sets up (exit 2: a problem)")
    c.add_argument("file")
    c.add_argument("--offline", action="store_true",
                   help="check the file only, not that its checkpoints and sample sets are installed here")
    r = actions.add_parser("report", help="one self-contained HTML report of a stored study (and CSV/JSON)")
    r.add_argument("study_id")
    r.add_argument("--out", required=True, help="the HTML file to write")
    r.add_argument("--db", default=None, help="the vote store's URL (default: $MUSICGEN_DB_URL, else the SQLite file "
                                              "under $MUSICGEN_DATA)")
    r.add_argument("--csv", default=None, help="also write every vote as CSV (ratings beside it as NAME-ratings.csv)")
    r.add_argument("--json", default=None, help="also write every vote, rating and participant as JSON")
    r.add_argument("--boot", type=int, default=500, help="bootstrap resamples for Bradley–Terry (default 500)")
    r.add_argument("--cdn", action="store_true",
                   help="link plotly.js from its CDN (a small file that needs a network) instead of inlining it")
    s.set_defaults(run=_cmd_study)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
