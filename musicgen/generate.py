"""One generation request → notes, shared by the command line and the app (pages stay thin).

A `Request` holds every setting that decides the notes; the same request gives the same notes,
byte for byte, and `Request.command()` prints the command line that reproduces it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from musicgen.checkpoints import LoadedCheckpoint
from musicgen.data import load_corpus
from musicgen.sampling import Length, check_params
from musicgen.sequence import NoteSequence

DEFAULT_PRIMER_SECONDS = 8.0


@dataclass(frozen=True)
class Request:
    model: str
    seed: int = 0
    temperature: float = 1.0
    length: str = "30s"
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None  # "test:<piece id>" (held-out piece) or "file:<name>" (an upload)
    primer_seconds: float = DEFAULT_PRIMER_SECONDS

    def validate(self) -> None:
        Length.parse(self.length)
        check_params(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p, seed=self.seed)

    def command(self, out: str = "out.mid") -> str:
        parts = ["python", "-m", "musicgen", "generate", "--model", self.model, "--seed", str(self.seed),
                 "--temperature", f"{self.temperature:g}", "--length", self.length]
        if self.top_k:
            parts += ["--top-k", str(self.top_k)]
        if self.top_p is not None and self.top_p < 1.0:
            parts += ["--top-p", f"{self.top_p:g}"]
        if self.primer:
            parts += ["--primer", self.primer, "--primer-seconds", f"{self.primer_seconds:g}"]
        return shlex.join(parts + ["--out", out])


def heldout_piece_ids(corpus_name: str) -> list[str]:
    return load_corpus(corpus_name).split["test"]


def heldout_piece(corpus_name: str, piece_id: str) -> NoteSequence:
    corpus = load_corpus(corpus_name)
    if piece_id not in corpus.split["test"]:
        raise ValueError(f"{piece_id!r} is not a held-out (test) piece of {corpus_name}")
    return next(p for p in corpus.pieces if p.name == piece_id)


def opening(seq: NoteSequence, seconds: float) -> NoteSequence:
    """The first `seconds` of a piece, starting at its first note."""
    if len(seq) == 0:
        return seq
    first = seq.notes[0].start
    return seq.slice_time(first, first + seconds)


def generate(checkpoint: LoadedCheckpoint, request: Request, *, primer: NoteSequence | None = None) -> NoteSequence:
    """Sample one piece. `primer` is the resolved primer notes (already cut to primer_seconds)."""
    request.validate()
    [seq] = checkpoint.model.sample(1, length=request.length, temperature=request.temperature, seed=request.seed,
                                    top_k=request.top_k, top_p=request.top_p, primer=primer)
    return seq.with_meta(model=checkpoint.id, seed=str(request.seed), temperature=f"{request.temperature:g}",
                         length=request.length)


def resolve_primer(request: Request, corpus_name: str, *, upload: NoteSequence | None = None) -> NoteSequence | None:
    if not request.primer:
        return None
    kind, _, ref = request.primer.partition(":")
    if kind == "test":
        return opening(heldout_piece(corpus_name, ref), request.primer_seconds)
    if kind == "file":
        if upload is None:
            raise ValueError(f"primer {request.primer!r} needs the uploaded file")
        return opening(upload, request.primer_seconds)
    raise ValueError(f"primer must be test:<piece id> or file:<path>, not {request.primer!r}")
