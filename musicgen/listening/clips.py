"""A study clip's provenance and notes: a model sample or the opening of a held-out piece.

A clip is fully described by (system, seed, settings) as stored with its trial, so the same row always
renders the same audio. The notes come from `systems.make_clip` like every other clip in the app. In a
study the system `real` stands for `real:<study corpus>`: the seed indexes the corpus's held-out (test)
pieces in split order. Everything here runs on the server; nothing it returns may reach the page before
the vote.
"""

from __future__ import annotations

from musicgen.checkpoints import CheckpointError, checkpoints_dir, read_card
from musicgen.listening.study import REAL, StudySpec
from musicgen.sequence import NoteSequence
from musicgen.systems import Request, get_system, heldout_ids, make_clip, real_piece_id, real_system_id

_MODEL_SEEDS = 2**31  # model seeds are drawn from [0, 2**31)


def study_corpus(spec: StudySpec) -> str:
    """The corpus of the study's `real` clips: its own `corpus`, else the one its models were trained on."""
    if spec.corpus:
        return spec.corpus
    corpora = {read_card(checkpoints_dir() / m).corpus for m in spec.models}
    if len(corpora) != 1:
        raise ValueError(f"study {spec.id}: set `corpus` (its models were trained on "
                         f"{', '.join(sorted(corpora)) or 'no recorded corpus'})")
    return corpora.pop()


def seed_space(spec: StudySpec, system: str) -> int:
    """How many distinct clips a system offers: seeds are drawn from range(seed_space)."""
    return len(heldout_ids(study_corpus(spec))) if system == REAL else _MODEL_SEEDS


def clip_settings(spec: StudySpec, system: str, seed: int) -> dict:
    """The provenance stored with a clip: everything (with the seed) that decides its notes."""
    if system == REAL:
        corpus = study_corpus(spec)
        return {"corpus": corpus, "piece": real_piece_id(corpus, seed), "seconds": spec.clip.seconds}
    s = spec.clip.sampling_for(system)
    card = read_card(checkpoints_dir() / system)
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
