"""`bench --load K`: K processes that each keep one CPU busy while the bench runs (a loaded machine).

The issue's loaded figures came from "one other process keeping about one core busy" (a second Streamlit
session, a training run). A busy loop in a child process is that load, the same every time, so a loaded
bench can be compared with a quiet one; `stress --cpu K` would do the same but is not installed everywhere.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys

_BUSY_LOOP = "while True:\n    pass\n"


@contextlib.contextmanager
def busy_cpus(k: int):
    """Run the body while `k` child processes spin (k = 0: nothing); they are stopped on the way out."""
    procs = [subprocess.Popen([sys.executable, "-c", _BUSY_LOOP], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(max(0, k))]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
