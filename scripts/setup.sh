#!/usr/bin/env bash
# Idempotent set-up shared by scripts/app.sh and scripts/test.sh:
#   system libraries (FluidSynth + a General MIDI soundfont), .venv/, requirements.txt.
# A second run does no installing and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(libfluidsynth3 fluid-soundfont-gm)
if [[ "${MUSICGEN_SETUP_EXTRA:-}" == "test" ]]; then
  # PostgreSQL: the vote store's tests start a throwaway server; chromium: the browser tests; nginx: the
  # replicas test (scripts/serve.sh).
  SYSTEM_PACKAGES+=(postgresql chromium nginx-light)
elif [[ "${MUSICGEN_SETUP_EXTRA:-}" == "serve" ]]; then
  SYSTEM_PACKAGES+=(nginx-light)  # scripts/serve.sh --replicas N puts nginx in front of the app processes
fi

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  missing+=(python3-venv)
fi
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}"; }
  else
    echo "setup: missing system packages; run:  sudo apt-get install -y ${missing[*]}" >&2
    echo "setup: (continuing: without FluidSynth the app shows piano rolls and MIDI but no audio)" >&2
  fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11+ is needed ($PY is $("$PY" --version 2>&1))" >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "setup: installing requirements.txt into .venv (first time: a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
