#!/usr/bin/env bash
# Installs Lookout's dependencies in .venv and runs it on the shipped config.yaml.
# Usage: bash scripts/run.sh [app.py args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements.txt
exec .venv/bin/python app.py "$@"
