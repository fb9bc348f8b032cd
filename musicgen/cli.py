"""Command line: `python -m musicgen list|generate|train|import ...`.

Bad arguments get one line on stderr and exit code 2 (argparse's convention); a bad *file* given to
`import` is a result, not a failure, so `import` exits 0 unless the tool itself breaks.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

EXIT_USAGE = 2


class UsageError(Exception):
    """A one-line message for the user; exit code 2."""


def _cmd_list(args) -> int:
    from musicgen.checkpoints import list_cards

    cards = list_cards()
    if args.ids:
        for c in cards:
            print(c["id"])
        return 0
    if not cards:
        print("no checkpoints found; train one with `python -m musicgen train A-lstm`")
    for c in cards:
        if "error" in c:
            print(f"{c['id']:<12} BROKEN  {c['error']}")
            continue
        tr = c.get("training", {})
        nll = tr.get("test_nll_per_token")
        nll_text = f"test NLL {nll:.3f}/token" if isinstance(nll, (int, float)) else ""
        print(f"{c['id']:<12} {c.get('title', ''):<28} {c['family']:<8} {tr.get('corpus', '')} {nll_text}")
    return 0


def _cmd_generate(args) -> int:
    from musicgen.checkpoints import CheckpointError, load_checkpoint
    from musicgen.generate import Request, generate, opening, resolve_primer
    from musicgen.midi import MidiImportError, load_midi, save_midi
    from musicgen.sampling import SamplingError

    request = Request(model=args.model, seed=args.seed, temperature=args.temperature, length=args.length,
                      top_k=args.top_k, top_p=args.top_p, primer=args.primer, primer_seconds=args.primer_seconds)
    try:
        request.validate()
    except SamplingError as e:
        raise UsageError(str(e)) from None
    try:
        checkpoint = load_checkpoint(args.model)
    except CheckpointError as e:
        raise UsageError(str(e)) from None
    primer = None
    if args.primer:
        try:
            kind, _, ref = args.primer.partition(":")
            if kind == "file":
                primer = opening(load_midi(ref), args.primer_seconds)
            else:
                primer = resolve_primer(request, checkpoint.card["training"]["corpus"])
        except (MidiImportError, ValueError) as e:
            raise UsageError(str(e)) from None
    started = time.perf_counter()
    seq = generate(checkpoint, request, primer=primer)
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


def _cmd_train(args) -> int:
    from musicgen.presets import PRESETS
    from musicgen.train import train

    if args.preset not in PRESETS:
        raise UsageError(f"unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}")
    if args.max_steps is not None and args.max_steps < 1:
        raise UsageError("--max-steps must be at least 1")
    out = Path(args.out) if args.out else None
    folder = train(PRESETS[args.preset], out_dir=out, resume=args.resume, max_steps=args.max_steps,
                   max_seconds=args.max_seconds)
    print(f"saved {folder}")
    return 0


def _cmd_import(args) -> int:
    from musicgen.midi import MidiImportError, import_files, summarize_import

    ok = failed = 0
    for path, result in import_files(args.files):
        if isinstance(result, MidiImportError):
            failed += 1
            print(f"{path}: ERROR {result.problem if hasattr(result, 'problem') else result}")
        else:
            ok += 1
            print(f"{path}: {summarize_import(result)}")
    print(f"{ok + failed} files: {ok} OK, {failed} ERROR")
    return 0


def _lazy(module: str, args) -> int:
    """Run `module.run_cli(args)`; imported on demand so `list`/`--help` stay fast."""
    import importlib

    return importlib.import_module(module).run_cli(args)


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
    s.add_argument("--primer", default=None, help="test:<held-out piece id> or file:<path.mid>")
    s.add_argument("--primer-seconds", type=float, default=8.0)
    s.add_argument("--out", required=True, help="MIDI file to write")
    s.add_argument("--audio", default=None, help="also write audio (.wav or .ogg)")
    s.set_defaults(run=_cmd_generate)

    s = sub.add_parser("train", help="train a preset into checkpoints/<id>")
    s.add_argument("preset")
    s.add_argument("--out", default=None, help="folder to write instead of checkpoints/<id>")
    s.add_argument("--resume", action="store_true", help="continue from runs/<id>/resume.pt")
    s.add_argument("--max-steps", type=int, default=None)
    s.add_argument("--max-seconds", type=float, default=None)
    s.set_defaults(run=_cmd_train)

    s = sub.add_parser("evaluate", help="objective metrics of samples against held-out real pieces")
    s.add_argument("--model", action="append", default=None, help="a checkpoint id (repeatable; default all)")
    s.add_argument("--n", type=int, default=64, help="samples per model (at least 2)")
    s.add_argument("--json", default=None, help="also write the results as JSON here")
    s.add_argument("--no-write", action="store_true", help="do not update the cards' evaluation field")
    s.set_defaults(run=lambda a: _lazy("musicgen.evaluation", a))

    s = sub.add_parser("bench", help="speed benchmark: prints a table (and JSON)")
    s.add_argument("--quick", action="store_true", help="fewer runs; under a minute")
    s.add_argument("--json", default=None, help="also write the results as JSON here")
    s.set_defaults(run=lambda a: _lazy("musicgen.bench", a))

    s = sub.add_parser("import", help="check MIDI files: a line per file and a summary")
    s.add_argument("files", nargs="+")
    s.set_defaults(run=_cmd_import)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
