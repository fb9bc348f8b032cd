"""A study clip's provenance and notes: a model sample or the opening of a held-out piece.

A clip is fully described by (system, seed, settings) as stored with its trial, so the same row always
renders the same audio. The notes come from `systems.make_clip` like every other clip in the app. In a
study the system `real` stands for `real:<study corpus>`: the seed indexes the corpus's held-out (test)
pieces in split order. A sample set (`samples:<name>`, files from an outside model) offers one clip per
file: the seed picks `files[seed % n]`, and the stored settings name the file and the set's SHA-256, so a
set whose files changed is refused like a checkpoint whose weights changed. Everything here runs on the
server; nothing it returns may reach the page before the vote.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from musicgen.checkpoints import CheckpointError, checkpoint_folder, read_card
from musicgen.listening.study import REAL, StudySpec
from musicgen.sample_sets import PREFIX as SAMPLES_PREFIX
from musicgen.sample_sets import SampleSet, load_sample_set
from musicgen.sequence import Note, NoteSequence
from musicgen.systems import Request, get_system, heldout_ids, heldout_piece, make_clip, real_piece_id, real_system_id

TEST_PRIMER = "test:"  # a continuation clip's settings name its primer "test:<held-out piece id>"
_ONSET_TOLERANCE = 0.05  # seconds: a model's note this close before the cut point starts the continuation

_MODEL_SEEDS = 2**31  # model seeds are drawn from [0, 2**31)


def _sample_set(system: str) -> SampleSet | None:
    """The sample set a system names (None for a checkpoint or `real`)."""
    return load_sample_set(system[len(SAMPLES_PREFIX):]) if system.startswith(SAMPLES_PREFIX) else None


def study_corpus(spec: StudySpec) -> str:
    """The corpus of the study's `real` clips: its own `corpus`, else the one its models were trained on
    (a sample set counts with the corpus it is compared with)."""
    if spec.corpus:
        return spec.corpus
    checkpoints = [m for m in spec.models if not m.startswith(SAMPLES_PREFIX)]
    corpora = {read_card(checkpoint_folder(m)).corpus for m in checkpoints}
    corpora |= {_sample_set(m).corpus for m in spec.models if m not in checkpoints}
    if len(corpora) != 1:
        raise ValueError(f"study {spec.id}: set `corpus` (its models were trained on "
                         f"{', '.join(sorted(corpora)) or 'no recorded corpus'})")
    return corpora.pop()


def seed_space(spec: StudySpec, system: str) -> int:
    """How many distinct clips a system offers: seeds are drawn from range(seed_space).

    A sample set offers one per file; one with fewer files than a participant's trials is refused (a
    participant could run out of unheard files)."""
    sample_set = _sample_set(system)
    if sample_set is not None:
        if sample_set.n_files < spec.trials_per_participant:
            raise ValueError(f"study {spec.id}: sample set {sample_set.name} has {sample_set.n_files} files, fewer "
                             f"than the {spec.trials_per_participant} trials per participant; add files or lower "
                             "trials_per_participant")
        return sample_set.n_files
    return len(heldout_ids(study_corpus(spec))) if system == REAL else _MODEL_SEEDS


def clip_settings(spec: StudySpec, system: str, seed: int, *, primer: int | None = None) -> dict:
    """The provenance stored with a clip: everything (with the seed) that decides its notes.

    In a continuation study (`clip.primer = "heldout"`) `primer` is the index of the trial's held-out piece
    (as a `real` seed): every clip of the trial continues its opening, and the settings (hence the clip
    bank's key) name it. The `real` clip of such a trial is that piece (its seed is `primer`)."""
    if spec.clip.primer != "none":
        if primer is None:
            raise ValueError(f"study {spec.id} continues held-out openings: a clip needs its primer piece")
        corpus = study_corpus(spec)
        extra = {"primer": TEST_PRIMER + real_piece_id(corpus, primer), "primer_seed": int(primer),
                 "primer_seconds": spec.clip.primer_seconds, "corpus": corpus}
        return {**_clip_settings(spec, REAL if system == REAL else system, primer if system == REAL else seed),
                **extra}
    return _clip_settings(spec, system, seed)


def _clip_settings(spec: StudySpec, system: str, seed: int) -> dict:
    if system == REAL:
        corpus = study_corpus(spec)
        return {"corpus": corpus, "piece": real_piece_id(corpus, seed), "seconds": spec.clip.seconds}
    sample_set = _sample_set(system)
    if sample_set is not None:
        return {"seconds": spec.clip.seconds, "file": sample_set.pick(seed).name,
                "sample_set_sha256": sample_set.sha256}
    s = spec.clip.sampling_for(system)
    card = read_card(checkpoint_folder(system))
    return {"seconds": spec.clip.seconds, "temperature": s.temperature, "top_k": s.top_k, "top_p": s.top_p,
            "primer": spec.clip.primer, "weights_sha256": card.weights_sha256}


def clip_notes(system: str, seed: int, settings: dict) -> NoteSequence:
    """The notes of a stored clip (the reveal's piano roll uses this too): a continuation when its settings
    name a primer, pitches scrambled when they mark it broken (a catch trial's wrong answer)."""
    primer = settings.get("primer")
    seq = (_continuation_notes(system, seed, settings) if isinstance(primer, str) and primer.startswith(TEST_PRIMER)
           else _plain_notes(system, seed, settings))
    if settings.get("broken"):
        seq = scramble_pitches(seq, int(settings.get("scramble_seed", seed)),
                               after=float(seq.meta_dict().get("primer_end", 0.0)))
    return seq


def _plain_notes(system: str, seed: int, settings: dict) -> NoteSequence:
    length = f"{float(settings['seconds']):g}s"
    if system == REAL:
        corpus = settings["corpus"]
        if real_piece_id(corpus, int(seed)) != settings["piece"]:
            raise ValueError(f"the held-out pieces of {corpus} changed since this trial was made "
                             f"(seed {seed} no longer picks {settings['piece']}); start a new study")
        return make_clip(Request(model=real_system_id(corpus), seed=int(seed), length=length))
    sample_set = _sample_set(system)
    if sample_set is not None:
        if sample_set.pick(int(seed)).name != settings["file"]:
            raise ValueError(f"sample set {sample_set.name} changed since this trial was made (seed {seed} no longer "
                             f"picks {settings['file']}); restore the old files or start a new study")
        return make_clip(Request(model=system, seed=int(seed), length=length),
                         expect_weights=settings["sample_set_sha256"])
    request = Request(model=system, seed=int(seed), temperature=settings["temperature"], length=length,
                      top_k=settings["top_k"], top_p=settings["top_p"])
    return make_clip(request, expect_weights=settings["weights_sha256"])


# ---- continuations and catch clips ----------------------------------------------------------------------------
def cut_point(piece: NoteSequence, seconds: float) -> float:
    """Where a piece's opening ends: its first onset at or after `seconds` (from its first note), so no note of
    the piece starts between the primer's last note and the cut; `seconds` when the piece has none."""
    if len(piece) == 0:
        return seconds
    first = piece.notes[0].start
    later = [n.start - first for n in piece.notes if n.start - first >= seconds - 1e-9]
    return round(min(later), 6) if later else seconds


def primer_notes(piece: NoteSequence, cut: float) -> NoteSequence:
    """The opening every clip of a continuation trial shares: the notes starting before `cut` (from the first
    note), cut off at `cut`, time 0 at the first note."""
    first = piece.notes[0].start if len(piece) else 0.0
    return piece.slice_time(first, first + cut)


def _continuation_notes(system: str, seed: int, settings: dict) -> NoteSequence:
    """The shared opening, then `system`'s continuation up to the clip's length: the real piece's own (for
    `real`), else the model's, sampled with the opening as its primer (its notes before the cut are dropped:
    the opening is the piece's, note for note, in every clip)."""
    corpus, piece_id = settings["corpus"], settings["primer"][len(TEST_PRIMER):]
    if real_piece_id(corpus, int(settings["primer_seed"])) != piece_id:
        raise ValueError(f"the held-out pieces of {corpus} changed since this trial was made (primer "
                         f"{settings['primer_seed']} no longer picks {piece_id}); start a new study")
    piece = heldout_piece(corpus, piece_id)
    seconds = float(settings["seconds"])
    cut = cut_point(piece, float(settings["primer_seconds"]))
    opening = primer_notes(piece, cut)
    if system == REAL:
        first = piece.notes[0].start
        rest = [n for n in piece.slice_time(first, first + seconds).notes if n.start >= cut]
    else:
        request = Request(model=system, seed=int(seed), temperature=settings["temperature"],
                          length=f"{seconds:g}s", top_k=settings["top_k"], top_p=settings["top_p"],
                          primer=f"file:{piece_id}", primer_seconds=cut)  # the piece itself: any corpus
        made = make_clip(request, upload=piece, expect_weights=settings["weights_sha256"])
        rest = []
        for n in made.notes:
            if n.start < cut - _ONSET_TOLERANCE or n.start >= seconds:
                continue
            start = max(n.start, cut)
            end = min(n.end, seconds)
            if end - start > 1e-3:
                rest.append(Note(start=start, end=end, pitch=n.pitch, velocity=n.velocity))
    seq = replace(opening, notes=opening.notes + tuple(rest), name="")
    return seq.with_meta(model=system, seed=str(seed), piece=piece_id, primer=settings["primer"],
                         primer_notes=str(len(opening)), primer_end=f"{cut:g}", length=f"{seconds:g}s")


def scramble_pitches(seq: NoteSequence, seed: int, *, after: float = 0.0) -> NoteSequence:
    """The same rhythm with every pitch (of notes starting at or after `after`) drawn at random within the
    piece's range: an obviously broken rendering whose right answer is known (catch trials). Seeded."""
    if len(seq) == 0:
        return seq
    low, high = min(seq.pitches), max(seq.pitches)
    low, high = max(0, min(low, high - 12)), min(127, max(high, low + 12))  # at least an octave to scramble in
    rng = np.random.default_rng([0x63617463, int(seed)])
    notes = [replace(n, pitch=int(rng.integers(low, high + 1))) if n.start >= after - 1e-9 else n for n in seq.notes]
    return replace(seq, notes=tuple(notes)).with_meta(broken="scrambled pitches")


def describe_system(system: str) -> dict:
    """Title and one-line explanation of a system, for the reveal (never before the vote)."""
    if system == REAL:
        return {"id": REAL, "title": "A person", "description": "An excerpt of a real piece from the held-out "
                "test set: music no model was trained on."}
    try:
        found = get_system(system)
    except (CheckpointError, ValueError):
        return {"id": system, "title": system, "description": ""}
    return {"id": system, "title": found.title, "description": found.description}
