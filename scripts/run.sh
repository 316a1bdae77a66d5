#!/usr/bin/env bash
# Installs Lookout's dependencies in .venv and runs it on the shipped config.yaml.
# Usage: bash scripts/run.sh [app.py args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "run.sh: creating .venv with $("$PY" --version 2>&1)" >&2
  "$PY" -m venv .venv
fi
# The first install downloads Dash, plotly and the embedded PostgreSQL and Redis:
# half a minute or more with pip quiet, so say so first. Later runs only check the pins.
echo "run.sh: installing requirements.txt into .venv (the first time takes a while)" >&2
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements.txt
echo "run.sh: starting Lookout: python app.py${*:+ $*}" >&2
exec .venv/bin/python app.py "$@"
