#!/usr/bin/env bash
# Set up if needed, then run the whole test suite (slow tests included). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
MUSICGEN_SETUP_EXTRA=test bash scripts/setup.sh
# As root, set-up has installed PostgreSQL and Chromium, so their tests must run rather than skip.
if [[ $(id -u) -eq 0 ]]; then
  export MUSICGEN_REQUIRE_POSTGRES=1 MUSICGEN_REQUIRE_BROWSER=1
fi
# No corpus is parsed here: the music21 corpora ship parsed (musicgen/corpora/packed/).
# Two workers (pytest-xdist), a test file each at a time (module fixtures such as a study's store stay in one
# process): much of the suite waits on servers, browsers and subprocesses, so 2 cores run it in ~60 % of the time.
exec .venv/bin/python -m pytest -m "" -n "${MUSICGEN_TEST_WORKERS:-2}" --dist loadfile "$@"
