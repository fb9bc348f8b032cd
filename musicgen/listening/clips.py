"""The notes and audio of one study clip: a model sample or the opening of a held-out piece.

A clip is fully described by (system, seed, settings) as stored with its trial, so the same row always
renders the same audio. For `real`, the seed indexes the corpus's held-out (test) pieces in split order.
Everything here runs on the server; nothing it returns may reach the page before the vote.
"""

from __future__ import annotations

import functools

from musicgen.listening.study import REAL, StudySpec
from musicgen.sequence import NoteSequence

_MODEL_SEEDS = 2**31  # model seeds are drawn from [0, 2**31)


@functools.lru_cache(maxsize=8)
def _corpus(name: str):
    from musicgen.data import load_corpus, toy_corpus

    return toy_corpus() if name == "toy" else load_corpus(name)


def heldout_ids(corpus: str) -> list[str]:
    """Held-out piece ids of a corpus (`toy` is the tiny test corpus), in split order."""
    return list(_corpus(corpus).split["test"])


def study_corpus(spec: StudySpec) -> str:
    """The corpus of the study's `real` clips: its own `corpus`, else the one its models were trained on."""
    if spec.corpus:
        return spec.corpus
    from musicgen.checkpoints import checkpoints_dir, read_card

    corpora = {read_card(checkpoints_dir() / m).get("training", {}).get("corpus") for m in spec.models}
    corpora.discard(None)
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
        return {"corpus": corpus, "piece": heldout_ids(corpus)[seed], "seconds": spec.clip.seconds}
    from musicgen.checkpoints import checkpoints_dir, read_card

    s = spec.clip.sampling_for(system)
    card = read_card(checkpoints_dir() / system)
    return {"seconds": spec.clip.seconds, "temperature": s.temperature, "top_k": s.top_k, "top_p": s.top_p,
            "primer": spec.clip.primer, "weights_sha256": card["weights_sha256"]}


def clip_notes(system: str, seed: int, settings: dict) -> NoteSequence:
    """The notes of a stored clip (the reveal's piano roll uses this too)."""
    from musicgen.generate import opening

    if system == REAL:
        corpus = _corpus(settings["corpus"])
        piece = next(p for p in corpus.pieces if p.name == settings["piece"])
        return opening(piece, float(settings["seconds"]))
    from musicgen.generate import Request, generate

    checkpoint = _checkpoint(system)
    if checkpoint.card["weights_sha256"] != settings["weights_sha256"]:
        raise RuntimeError(f"checkpoint {system} changed since this trial was made (weights differ); "
                           "restore the old checkpoint or start a new study")
    request = Request(model=system, seed=int(seed), temperature=settings["temperature"],
                      length=f"{settings['seconds']:g}s", top_k=settings["top_k"], top_p=settings["top_p"])
    return generate(checkpoint, request)


@functools.lru_cache(maxsize=8)
def _cached_checkpoint(system: str, sha: str):
    from musicgen.checkpoints import load_checkpoint

    return load_checkpoint(system)


def _checkpoint(system: str):
    from musicgen.checkpoints import checkpoints_dir, read_card

    return _cached_checkpoint(system, read_card(checkpoints_dir() / system)["weights_sha256"])


def describe_system(system: str) -> dict:
    """Title and one-line explanation of a system, for the reveal (never before the vote)."""
    if system == REAL:
        return {"id": REAL, "title": "A person", "description": "An excerpt of a real piece from the held-out "
                "test set: music no model was trained on."}
    from musicgen.checkpoints import CheckpointError, checkpoints_dir, read_card

    try:
        card = read_card(checkpoints_dir() / system)
    except CheckpointError:
        return {"id": system, "title": system, "description": ""}
    return {"id": system, "title": card.get("title", system), "description": card.get("description", "")}
