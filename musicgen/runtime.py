"""Process-wide torch settings, set once when a process starts (app, command line, test session).

Models never change them: Streamlit serves every session from threads of one process, and two
sessions sampling at once used to race on restoring a setting one of them had toggled.

Two profiles (measured on the 2-core machine; see the bench):
- `sample` (app, `generate`, `evaluate`, `bench`): one intra-op thread and oneDNN off. Sampling is one
  small step per token: split over threads, each op waits for a descheduled second thread (a 30 s
  transformer clip took 38 s instead of 0.25 s with 2 threads on a busy machine), and several sessions
  sampling at once oversubscribe the cores. One-token LSTM steps run ~2x faster with oneDNN off.
- `train` (`train`): torch's default threads (or the preset's) and oneDNN on (training ran ~2x faster with it).
The same profile everywhere a clip is made is also what makes clips byte-identical across processes.
"""

from __future__ import annotations

import threading

import torch

PROFILES = ("sample", "train")
_lock = threading.Lock()
_configured: str | None = None


def configure(profile: str = "sample", *, threads: int | None = None) -> str:
    """Apply a profile to this process; later calls with the same profile do nothing. Returns the profile."""
    global _configured
    if profile not in PROFILES:
        raise ValueError(f"runtime profile must be one of {PROFILES}, not {profile!r}")
    with _lock:
        if _configured == profile and threads is None:
            return profile
        if profile == "sample":
            torch.set_num_threads(threads or 1)
            torch.backends.mkldnn.enabled = False
        else:
            if threads:
                torch.set_num_threads(threads)
            torch.backends.mkldnn.enabled = True
        _configured = profile
        return profile


def configured_profile() -> str | None:
    return _configured
