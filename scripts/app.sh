#!/usr/bin/env bash
# Set up if needed, then start the app on the shipped checkpoints: http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# musicgen.ui.launch is `streamlit run` without Streamlit's old pages/-folder mode on a fresh server's first run
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec .venv/bin/python -m musicgen.ui.launch run app.py --server.headless true --browser.gatherUsageStats false "$@"
