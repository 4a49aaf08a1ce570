#!/usr/bin/env bash
# mockserver benchmark: one command from a fresh clone.
#
#   bash bench/run.sh            # full run (10 s per route, about 5-6 minutes)
#   bash bench/run.sh --quick    # 3 s per route
#   bash bench/run.sh --duration 20 --connections 64 --skip prism
#
# It installs what it needs, without failing when a peer cannot be installed:
#   - the project venv (.venv, `pip install -e .`) when it is missing;
#   - wrk (apt-get, when run as root) when it is not on PATH (required);
#   - @stoplight/prism-cli and wiremock (npm, into bench/.tools, git-ignored);
#     WireMock also needs java on PATH. A peer that is missing is skipped.
# Then it runs bench/run.py (see its docstring and bench/README.md), which starts
# and always stops every server it needs, on 127.0.0.1 only, and writes
# bench/results/<stamp>.{md,json} and bench/results/latest.{md,json}.
set -uo pipefail
cd "$(dirname "$0")/.."
TOOLS=bench/.tools
mkdir -p "$TOOLS"

if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv and installing the project"
  python3 -m venv .venv && .venv/bin/pip install -q -e . || { echo "venv install failed"; exit 2; }
fi

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq wrk) >"$TOOLS/apt.log" 2>&1 \
      || echo "apt-get install wrk failed (see $TOOLS/apt.log)"
  else
    echo "wrk is missing: install it (Debian: sudo apt-get install wrk)"
  fi
  command -v wrk >/dev/null 2>&1 || exit 2
fi

if command -v npm >/dev/null 2>&1; then
  for pkg in @stoplight/prism-cli wiremock; do
    if [ ! -f "$TOOLS/node_modules/$pkg/package.json" ]; then
      echo "== npm install $pkg into $TOOLS"
      npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error "$pkg" \
        >"$TOOLS/npm-${pkg//\//_}.log" 2>&1 \
        || echo "npm install $pkg failed (see $TOOLS); that peer will be skipped"
    fi
  done
else
  echo "npm not found: Prism and WireMock will be skipped"
fi
command -v java >/dev/null 2>&1 || echo "java not found: WireMock will be skipped"

# run.py stops its servers on exit, SIGINT and SIGTERM; forward signals to it.
.venv/bin/python bench/run.py "$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"' INT TERM
trap 'kill -TERM "$child" 2>/dev/null' EXIT
wait "$child"
status=$?
trap - EXIT
exit $status
