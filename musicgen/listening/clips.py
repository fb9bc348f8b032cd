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

from musicgen.checkpoints import CheckpointError, checkpoint_folder, read_card
from musicgen.listening.study import REAL, StudySpec
from musicgen.sample_sets import PREFIX as SAMPLES_PREFIX
from musicgen.sample_sets import SampleSet, load_sample_set
from musicgen.sequence import NoteSequence
from musicgen.systems import Request, get_system, heldout_ids, make_clip, real_piece_id, real_system_id

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


def clip_settings(spec: StudySpec, system: str, seed: int) -> dict:
    """The provenance stored with a clip: everything (with the seed) that decides its notes."""
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
    """The notes of a stored clip (the reveal's piano roll uses this too)."""
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
