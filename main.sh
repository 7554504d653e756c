#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./main.sh          set up (.venv, packages) and run the app on http://localhost:8501
#   ./main.sh test     set up, then ruff, mypy and pytest (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
PORT=${PORT:-8501}

log() { printf '[main.sh] %s\n' "$*" >&2; }

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
      || { log "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))"; exit 1; }
    log "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  # Reinstall only when the requirements or the project metadata changed.
  local want have
  want=$(cat requirements.txt requirements-nodeps.txt pyproject.toml | sha256sum | cut -d' ' -f1)
  have=$(cat "$VENV/.deps-stamp" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    log "installing Python packages"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -r requirements.txt
    "$VENV/bin/python" -m pip install -q --no-deps -r requirements-nodeps.txt
    "$VENV/bin/python" -m pip install -q --no-deps -e .
    echo "$want" > "$VENV/.deps-stamp"
  fi
}

# Debian packages the tests drive for real (a browser). Installed when missing.
ensure_system_packages() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium chromium-driver)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
    exit 1
  fi
  log "installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

run_tests() {
  ensure_system_packages
  log "ruff"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  log "mypy"
  "$VENV/bin/mypy"
  log "pytest"
  "$VENV/bin/python" -m pytest "$@"
}

run_app() {
  mkdir -p data
  exec "$VENV/bin/streamlit" run streamlit_app.py \
    --server.port "$PORT" --server.address 0.0.0.0 --server.headless true
}

ensure_venv
case "${1:-run}" in
  test) shift; run_tests "$@" ;;
  run) run_app ;;
  *) log "usage: ./main.sh [test [pytest args...]]"; exit 2 ;;
esac
