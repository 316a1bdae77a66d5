#!/usr/bin/env bash
# Installs everything the tests need on a fresh machine and runs them.
# Usage: bash scripts/test.sh [--fast] [pytest args...]
#   --fast  leaves out the demo, cluster, reliability and browser suites (markers set by
#           tests/conftest.py from each test's folder); every other argument goes to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
args=()
for a in "$@"; do
  if [ "$a" = "--fast" ]; then fast=1; else args+=("$a"); fi
done

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "test.sh: creating .venv" >&2
  "$PY" -m venv .venv
fi
echo "test.sh: Python packages (requirements.txt, requirements-dev.txt): a minute on a first run" >&2
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements.txt -r requirements-dev.txt

# Peers the tests run for real, from Debian's packages when missing:
# promtool (exposition lint), PgBouncer (pool collector), Alertmanager
# (alert forwarding), Chromium and its driver (dashboard browser tests), and the
# exporters Lookout is a drop-in for (side-by-side tests, tests/exporter/peers/).
need=()
command -v promtool >/dev/null || need+=(prometheus)
[ -x /usr/bin/prometheus-postgres-exporter ] || need+=(prometheus-postgres-exporter)
[ -x /usr/bin/prometheus-redis-exporter ] || need+=(prometheus-redis-exporter)
[ -x /usr/bin/prometheus-pgbouncer-exporter ] || need+=(prometheus-pgbouncer-exporter)
[ -x /usr/sbin/pgbouncer ] || need+=(pgbouncer)
[ -x /usr/bin/prometheus-alertmanager ] || need+=(prometheus-alertmanager)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "test.sh: apt-get install ${need[*]}: a few minutes on a first run" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (install them: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

eval "$(.venv/bin/python scripts/services.py)"
export LOOKOUT_TEST_PG LOOKOUT_TEST_REDIS
if [ "$fast" = 1 ]; then
  exec .venv/bin/python -m pytest -m "not demo and not cluster and not reliability and not browser" \
    ${args[@]+"${args[@]}"}
fi
exec .venv/bin/python -m pytest ${args[@]+"${args[@]}"}
