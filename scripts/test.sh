#!/usr/bin/env bash
# Set up if needed, then run the whole test suite (slow tests included). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
MUSICGEN_SETUP_EXTRA=test bash scripts/setup.sh
# As root, set-up has installed PostgreSQL and Chromium, so their tests must run rather than skip.
if [[ $(id -u) -eq 0 ]]; then
  export MUSICGEN_REQUIRE_POSTGRES=1 MUSICGEN_REQUIRE_BROWSER=1
fi
# Parse the chorales once before the suite (about a minute on a cold cache; seconds afterwards), so the
# first page test that needs them does not spend its AppTest time limit on the parse.
.venv/bin/python -c "from musicgen.data import load_corpus; load_corpus('bach-chorales')"
exec .venv/bin/python -m pytest -m "" "$@"
