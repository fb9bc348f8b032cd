"""Systems and their clips: the one place that turns (system, seed, settings[, primer]) into notes.

A *system* is anything that makes clips:
- a checkpoint (shipped or user-trained): its id, e.g. `A-lstm`;
- the real pieces of a corpus's held-out (test) split: `real:<corpus>`, e.g. `real:bach-chorales`; the
  seed picks the piece (`ids[seed % len(ids)]`, split order) and the clip is its opening;
- a sample set, MIDI files made by an outside model (`sample_sets.py`): `samples:<name>`; the seed picks the
  file (`files[seed % n]`, sorted by name) and the clip is its opening; it cannot continue a primer.

Generate, Compare, the listening test, `evaluate` and `bench` all call `make_clip`; nothing else builds
clips. Models are loaded once per process (`load_system_model`), keyed on the checkpoint files' size and
time, so a retrained checkpoint is a new entry and one model never sits in memory twice.
A `Request` holds every setting that decides the notes; the same request gives the same notes, byte for
byte, and `Request.command()` prints the command line that reproduces it.
"""

from __future__ import annotations

import shlex
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from musicgen.card import Card
from musicgen.checkpoints import (CARD, HISTORY, WEIGHTS, CheckpointError, LoadedCheckpoint, checkpoint_folder,
                                  list_cards, list_checkpoint_ids, load_checkpoint, read_card)
from musicgen import precomputed
from musicgen.corpora import Corpus, load_corpus
from musicgen.sample_sets import PREFIX as SAMPLES_PREFIX
from musicgen.sample_sets import (BrokenSampleSet, MissingSampleSetError, SampleSet, SampleSetError,
                                  list_sample_sets, load_sample_set)
from musicgen.sampling import Length, check_params
from musicgen.sequence import NoteSequence, opening

REAL_PREFIX = "real:"
DEFAULT_PRIMER_SECONDS = 8.0
MODEL_CACHE_SIZE = 16


class UnknownSystemError(ValueError):
    """No such system; the message lists the known ones."""


@dataclass(frozen=True)
class System:
    """What makes clips, described without loading anything heavy."""
    id: str
    kind: str  # "checkpoint" | "real" | "samples"
    title: str
    description: str
    corpus: str  # checkpoint: the corpus it learned from; real: its pieces' corpus; samples: compared with
    accepts_primer: bool
    card: Card | None = None  # checkpoints only
    sample_set: SampleSet | None = None  # sample sets only

    @property
    def is_real(self) -> bool:
        return self.kind == "real"

    @property
    def is_samples(self) -> bool:
        return self.kind == "samples"

    @property
    def evaluation(self) -> dict:
        """`evaluate`'s numbers: the checkpoint card's or the sample set's ({} when not evaluated; real: {})."""
        if self.card is not None:
            return self.card.evaluation
        if self.sample_set is not None:
            return self.sample_set.evaluation
        return {}


def real_system_id(corpus: str) -> str:
    return f"{REAL_PREFIX}{corpus}"


def is_real(system_id: str) -> bool:
    return system_id.startswith(REAL_PREFIX)


def real_system(corpus: str) -> System:
    return System(id=real_system_id(corpus), kind="real", title="Real piece (held-out)",
                  description=f"The opening of a real piece from {corpus}'s held-out test set: music no model "
                              "was trained on.", corpus=corpus, accepts_primer=True)


def checkpoint_system(card: Card) -> System:
    return System(id=card.id, kind="checkpoint", title=card.display_title, description=card.description,
                  corpus=card.corpus, accepts_primer=card.sampling.accepts_primer, card=card)


def is_samples(system_id: str) -> bool:
    return system_id.startswith(SAMPLES_PREFIX)


def sample_set_system(sample_set: SampleSet) -> System:
    return System(id=sample_set.id, kind="samples", title=f"{sample_set.name} (sample set)",
                  description=f"{sample_set.n_files} MIDI files made outside this app (from {sample_set.source}), "
                              f"compared with {sample_set.corpus}; the seed picks the file.",
                  corpus=sample_set.corpus, accepts_primer=False, sample_set=sample_set)


def get_system(system_id: str) -> System:
    """A system by id (raises UnknownSystemError, CheckpointError for a broken card, SampleSetError for a
    broken sample set)."""
    if is_real(system_id):
        return real_system(system_id[len(REAL_PREFIX):])
    if is_samples(system_id):
        try:
            return sample_set_system(load_sample_set(system_id[len(SAMPLES_PREFIX):]))
        except MissingSampleSetError as e:
            raise UnknownSystemError(str(e)) from None
    folder = checkpoint_folder(system_id)
    if not (folder / CARD).exists():
        known = ", ".join(list_checkpoint_ids()) or "none"
        raise UnknownSystemError(f"no checkpoint {system_id!r} (known: {known}; or real:<corpus> for the "
                                 "held-out pieces of a corpus, samples:<name> for a sample set)")
    return checkpoint_system(read_card(folder))


def list_systems() -> list[System]:
    """The usable checkpoints, then the usable sample sets (broken ones left out; `list_cards` and
    `list_sample_sets` say why)."""
    out = [checkpoint_system(c) for c in list_cards() if isinstance(c, Card)]
    return out + [sample_set_system(s) for s in list_sample_sets() if not isinstance(s, BrokenSampleSet)]


# ---- requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """Everything that decides a clip's notes."""
    model: str  # a system id
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
        if is_samples(self.model):  # a set plays its files: only the seed (which file) and the length count
            return shlex.join(["python", "-m", "musicgen", "generate", "--model", self.model, "--seed",
                               str(self.seed), "--length", self.length, "--out", out])
        parts = ["python", "-m", "musicgen", "generate", "--model", self.model, "--seed", str(self.seed),
                 "--temperature", f"{self.temperature:g}", "--length", self.length]
        if self.top_k:
            parts += ["--top-k", str(self.top_k)]
        if self.top_p is not None and self.top_p < 1.0:
            parts += ["--top-p", f"{self.top_p:g}"]
        if self.primer:
            parts += ["--primer", self.primer, "--primer-seconds", f"{self.primer_seconds:g}"]
        return shlex.join(parts + ["--out", out])


def default_request(system: System, *, seed: int = 0, length: str | None = None) -> Request:
    """The settings a user gets before touching anything (the card's defaults; `evaluate` samples with them)."""
    if system.card is None:
        return Request(model=system.id, seed=seed, length=length or "30s")
    d = system.card.sampling.defaults
    return Request(model=system.id, seed=seed, temperature=float(d.temperature), top_k=d.top_k, top_p=d.top_p,
                   length=length or d.length)


# ---- the model cache -----------------------------------------------------------------------------
_cache: OrderedDict[tuple, LoadedCheckpoint] = OrderedDict()
_cache_lock = threading.Lock()


def _stamp(folder: Path) -> tuple:
    """Size and modification time of the checkpoint files: a retrained checkpoint is a new cache key."""
    out = []
    for name in (CARD, WEIGHTS, HISTORY):
        try:
            st = (folder / name).stat()
            out.append((name, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((name, None, None))
    return tuple(out)


def load_system_model(checkpoint_id: str) -> LoadedCheckpoint:
    """The checkpoint, loaded once per process and shared by every session and caller (raises CheckpointError).

    Loading happens under the lock: two sessions asking for the same model at once load it once."""
    folder = checkpoint_folder(checkpoint_id)
    if not folder.is_dir():
        return load_checkpoint(checkpoint_id)  # raises with the list of known ids
    key = (str(folder.resolve()), _stamp(folder))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        loaded = load_checkpoint(folder)
        stale = [k for k in _cache if k[0] == key[0]]  # older versions of this checkpoint
        for k in stale:
            del _cache[k]
        _cache[key] = loaded
        while len(_cache) > MODEL_CACHE_SIZE:
            _cache.popitem(last=False)
        return loaded


def clear_model_cache() -> None:
    with _cache_lock:
        _cache.clear()


# ---- held-out pieces ------------------------------------------------------------------------------
def heldout_ids(corpus: str) -> list[str]:
    """The held-out (test) piece ids of a corpus, in split order: the real pieces the app offers."""
    return list(load_corpus(corpus).split["test"])


def heldout_piece(corpus: str, piece_id: str) -> NoteSequence:
    return load_corpus(corpus).heldout_piece(piece_id)


def real_piece_id(corpus: str, seed: int) -> str:
    """The held-out piece a seed picks: `ids[seed % len(ids)]` in split order."""
    ids = heldout_ids(corpus)
    if not ids:
        raise ValueError(f"corpus {corpus!r} has no held-out pieces")
    return ids[seed % len(ids)]


def resolve_primer(request: Request, corpus: str, *, upload: NoteSequence | None = None) -> NoteSequence | None:
    """The primer notes a request names, cut to `primer_seconds` (None when it names none)."""
    if not request.primer:
        return None
    kind, _, ref = request.primer.partition(":")
    if kind == "test":
        return opening(heldout_piece(corpus, ref), request.primer_seconds)
    if kind == "file":
        if upload is None:
            raise ValueError(f"primer {request.primer!r} needs the uploaded file")
        return opening(upload, request.primer_seconds)
    raise ValueError(f"primer must be test:<piece id> or file:<path>, not {request.primer!r}")


# ---- clips ----------------------------------------------------------------------------------------
def _real_clip(system: System, request: Request) -> NoteSequence:
    """A real piece's opening; with a `test:<id>` primer, that piece (its true continuation follows the primer)."""
    if request.primer:
        kind, _, ref = request.primer.partition(":")
        if kind != "test":
            raise ValueError("a real piece can only continue a held-out piece (primer test:<id>), not an upload")
        piece_id = ref
    else:
        piece_id = real_piece_id(system.corpus, request.seed)
    piece = heldout_piece(system.corpus, piece_id)
    length = Length.parse(request.length)
    seq = opening(piece, length.value) if length.unit == "seconds" else piece.first_notes(int(length.value))
    return seq.with_meta(model=system.id, piece=piece_id, seed=str(request.seed), length=request.length)


def _sample_set_clip(system: System, request: Request, expect_sha256: str | None) -> NoteSequence:
    """The opening of the file the seed picks (`files[seed % n]`), cut to the requested length."""
    if request.primer:
        raise ValueError(f"{system.title} plays files made elsewhere and cannot continue a primer; choose no primer")
    sample_set = system.sample_set
    if expect_sha256 is not None and sample_set.current_sha256() != expect_sha256:
        raise SampleSetError(f"sample set {sample_set.name} changed since this trial was made (its files differ); "
                             "restore the old files or start a new study")
    chosen = sample_set.pick(request.seed)
    piece = sample_set.read(request.seed)
    length = Length.parse(request.length)
    seq = opening(piece, length.value) if length.unit == "seconds" else piece.first_notes(int(length.value))
    return seq.with_meta(model=system.id, file=chosen.name, source=chosen.source, seed=str(request.seed),
                         length=request.length)


def sample_checkpoint(checkpoint: LoadedCheckpoint, request: Request, *,
                      primer: NoteSequence | None = None) -> NoteSequence:
    """One piece from an already loaded checkpoint (`primer` = resolved primer notes, already cut).

    `evaluate` uses this for a network that is not on disk (the untrained baseline); everything else
    goes through `make_clip`."""
    request.validate()
    [seq] = checkpoint.model.sample(1, length=request.length, temperature=request.temperature, seed=request.seed,
                                    top_k=request.top_k, top_p=request.top_p, primer=primer)
    return seq.with_meta(model=checkpoint.id, seed=str(request.seed), temperature=f"{request.temperature:g}",
                         length=request.length)


def make_clip(request: Request, *, upload: NoteSequence | None = None,
              expect_weights: str | None = None, use_precomputed: bool = True) -> NoteSequence:
    """The notes of one clip of `request.model` (raises UnknownSystemError, CheckpointError, SamplingError,
    CorpusError or ValueError with a message for the user).

    `upload` is the parsed file a `file:` primer names; `expect_weights` (a stored trial's weights hash, or
    a sample set's SHA-256) refuses to make a clip from a checkpoint or a sample set that changed since."""
    request.validate()
    system = get_system(request.model)
    if system.is_real:
        return _real_clip(system, request)
    if system.is_samples:
        return _sample_set_clip(system, request, expect_weights)
    if request.primer and not system.accepts_primer:
        raise ValueError(f"{system.title} makes each piece from noise alone and cannot continue a primer")
    checkpoint = load_system_model(system.id)
    if expect_weights is not None and checkpoint.card.weights_sha256 != expect_weights:
        raise CheckpointError(f"checkpoint {system.id} changed since this trial was made (weights differ); "
                              "restore the old checkpoint or start a new study")
    if use_precomputed and not request.primer:
        stored = precomputed.lookup(checkpoint_folder(system.id), weights_sha256=checkpoint.card.weights_sha256,
                                    seed=request.seed, settings=_settings(request))
        if stored is not None:
            return stored
    primer = resolve_primer(request, system.corpus, upload=upload)
    return sample_checkpoint(checkpoint, request, primer=primer)


def _settings(request: Request) -> dict:
    return precomputed.settings_of(temperature=request.temperature, top_k=request.top_k, top_p=request.top_p,
                                   length=request.length)


def precompute_clips(checkpoint_id: str, seeds: range, *, temperature: float | None = None,
                     length: str = "30s", progress=lambda done, total: None) -> Path:
    """Make seeds' clips at the card's default settings (or `temperature`) and store them beside the
    weights (`precomputed.py`), so `make_clip` looks them up. Returns the file written."""
    system = get_system(checkpoint_id)
    if system.kind != "checkpoint":
        raise ValueError(f"{checkpoint_id} is not a checkpoint: only a model's clips can be computed ahead")
    checkpoint = load_system_model(checkpoint_id)
    base = default_request(system, length=length)
    request = Request(model=checkpoint_id, temperature=base.temperature if temperature is None else temperature,
                      length=length, top_k=base.top_k, top_p=base.top_p)
    clips = {}
    for i, seed in enumerate(seeds):
        clips[seed] = make_clip(Request(**{**request.__dict__, "seed": seed}), use_precomputed=False)
        progress(i + 1, len(seeds))
    return precomputed.write(checkpoint_folder(checkpoint_id), weights_sha256=checkpoint.card.weights_sha256,
                             settings=_settings(request), clips=clips)


def corpus_of(system_id: str) -> Corpus:
    return load_corpus(get_system(system_id).corpus)
