"""Golden clips: every shipped checkpoint (and the real systems listed in the script) still makes the same
music, byte for byte, for the fixed request stored in tests/golden/clips.json.

A failure means the notes of a shipped system changed: sampling code, a representation, the checkpoint
itself, or torch. If that was intended, regenerate the hashes with scripts/update_golden.py and commit the
json; the script holds the requests and the one function both it and this test make clips with.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from musicgen import runtime
from musicgen.checkpoints import list_checkpoint_ids
from musicgen.corpora.base import CACHE_VERSION, cache_dir, packed_file
from musicgen.systems import REAL_PREFIX, get_system, is_real

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("update_golden", ROOT / "scripts" / "update_golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)

STORED = golden.load_golden()
CLIPS: dict = STORED.get("clips", {})
CHECKPOINTS = list_checkpoint_ids()


def corpus_needed(system_id: str, entry: dict | None) -> str | None:
    """The corpus a golden clip reads (a real piece, or a held-out primer), if any."""
    if is_real(system_id):
        return system_id[len(REAL_PREFIX):]
    primer = (entry or {}).get("request", {}).get("primer") or ""
    return get_system(system_id).corpus if primer.startswith("test:") else None


def corpus_cached(name: str) -> bool:
    """Parsed already: shipped in musicgen/corpora/packed/, or in this machine's cache."""
    return packed_file(name).exists() or (cache_dir() / f"{name}.v{CACHE_VERSION}.npz").exists()


def cases() -> list:
    out = []
    for system_id in CHECKPOINTS + golden.REAL_SYSTEMS:
        corpus = corpus_needed(system_id, CLIPS.get(system_id))
        # A corpus not parsed on this machine yet takes a minute or more: then it is a slow test.
        slow = corpus is not None and not corpus_cached(corpus)
        out.append(pytest.param(system_id, id=system_id, marks=[pytest.mark.slow] if slow else []))
    return out


@pytest.fixture(scope="module", autouse=True)
def sample_profile():
    runtime.configure("sample")  # the bytes depend on it (threads, oneDNN), as in the app


def regenerate_hint(system_id: str) -> str:
    return golden.REGENERATE.format(ids=system_id)


@pytest.mark.parametrize("system_id", cases())
def test_golden_clip_is_unchanged(system_id):
    entry = CLIPS.get(system_id)
    if entry is None:
        pytest.fail(f"{system_id} has no golden clip in tests/golden/clips.json: add one with "
                    f"`.venv/bin/python scripts/update_golden.py {system_id}` and commit tests/golden/clips.json",
                    pytrace=False)
    clip = golden.golden_clip(entry)
    got = golden.digest(clip)
    if got == entry["sha256"]:
        return
    request = golden.request_of(entry)
    clues = [f"{entry['notes']} notes, {entry['duration']:g} s → now {len(clip)} notes, {clip.duration:g} s"]
    weights = golden.weights_of(system_id)
    if entry.get("weights_sha256") and weights != entry["weights_sha256"]:
        clues.append("the checkpoint's weights changed since the golden was made (retrained?)")
    env, now = STORED.get("environment", {}), golden.environment()
    changed_env = [f"{k} {env[k]} → {now[k]}" for k in now if k in env and env[k] != now[k]]
    if changed_env:
        clues.append("made under " + ", ".join(changed_env))
    pytest.fail(f"golden clip of {system_id} differs ({'; '.join(clues)}); request: {request.command()}\n"
                f"The music changed; if intended, {regenerate_hint(system_id)}", pytrace=False)


def test_every_golden_names_a_system_that_exists():
    stale = sorted(set(CLIPS) - set(CHECKPOINTS) - set(golden.REAL_SYSTEMS))
    assert not stale, (f"tests/golden/clips.json has goldens for {stale}, which are not shipped: drop them with "
                       "`.venv/bin/python scripts/update_golden.py` (no ids) and commit tests/golden/clips.json")


def test_stored_uploads_exist():
    for system_id, entry in CLIPS.items():
        if entry.get("upload"):
            assert (golden.GOLDEN_DIR / entry["upload"]).is_file(), (
                f"{system_id}'s golden primer tests/golden/{entry['upload']} is missing: "
                f"`.venv/bin/python scripts/update_golden.py --new-request {system_id}` writes it again")
