#!/usr/bin/env bash
# A participant-only deployment of the listening test: http://HOST:8501/Listening_test?study=<id>&key=<key>
# (the Results page shows each study's link, key included)
# Only the participant page is served (deploy/study/study_app.py: no sidebar, no other page reachable by
# URL), Streamlit's toolbar and "Deploy" button are hidden, and errors show no detail. Organisers run the
# full app (scripts/app.sh: Results page, password) separately against the same vote store
# ($MUSICGEN_DATA on one machine, or $MUSICGEN_DB_URL).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m musicgen.ui.launch run deploy/study/study_app.py --server.headless true \
  --browser.gatherUsageStats false --client.toolbarMode minimal --client.showErrorDetails none "$@"
