"""Where the studies' real-world files are: `../shared/corpora` beside the checkout (CI puts it there too).

Tests that read them are skipped when it is absent; they never ship or train a shipped checkpoint on it."""

from pathlib import Path

import pytest

SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
needs_shared = pytest.mark.skipif(not SHARED_CORPORA.is_dir(), reason=f"{SHARED_CORPORA} is absent (CI has it)")
