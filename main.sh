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

# The directory of PostgreSQL's server programs (initdb, pg_ctl), installing the Debian
# package when missing. Only the tests need it: the app's default store is SQLite.
postgres_bin() {
  local found
  found=$(command -v initdb 2>/dev/null || true)
  [ -z "$found" ] && found=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)
  if [ -z "$found" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      log "PostgreSQL is missing (run as root, or: sudo apt-get install -y postgresql)"
      exit 1
    fi
    log "installing system packages: postgresql"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    found=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)
  fi
  [ -n "$found" ] || { log "PostgreSQL's initdb not found after installing it"; exit 1; }
  dirname "$(readlink -f "$found")"
}

# A throw-away PostgreSQL cluster for the store's tests: a temp folder, a free port, a
# unix socket, trust auth; run as a non-root user when we are root. Stopped on exit.
start_test_postgres() {
  local bin dir port as_user=() owner
  bin=$(postgres_bin)
  dir=$(mktemp -d /tmp/taskpool-pg.XXXXXX)
  port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if [ "$(id -u)" -eq 0 ]; then
    owner=$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)
    chown "$owner" "$dir"
    as_user=(runuser -u "$owner" --)
  fi
  PG_CTL=("${as_user[@]}" "$bin/pg_ctl" -D "$dir/data")
  PG_DIR=$dir
  trap stop_test_postgres EXIT
  "${as_user[@]}" "$bin/initdb" -D "$dir/data" -U taskpool --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
    || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }
  "${PG_CTL[@]}" -w -t 60 -l "$dir/server.log" \
    -o "-p $port -k $dir -c listen_addresses='' -c fsync=off -c max_connections=200" start >/dev/null \
    || { log "PostgreSQL did not start:"; cat "$dir/server.log" >&2; exit 1; }
  export TEST_DATABASE_URL_PG="postgresql+psycopg://taskpool@/postgres?host=$dir&port=$port"
  log "PostgreSQL for the tests: $TEST_DATABASE_URL_PG"
}

stop_test_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_CTL[@]}" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
  PG_DIR=
}

run_tests() {
  ensure_system_packages
  start_test_postgres
  log "ruff"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  log "mypy"
  "$VENV/bin/mypy"
  log "pytest"
  "$VENV/bin/python" -m pytest "$@"  # the EXIT trap stops PostgreSQL, pass or fail
}

run_app() {
  mkdir -p data
  # Migrate the database first: one unreachable (or of a newer schema) stops here, named.
  "$VENV/bin/python" -m store upgrade || { log "the database is not usable; see above"; exit 1; }
  exec "$VENV/bin/streamlit" run streamlit_app.py \
    --server.port "$PORT" --server.address 0.0.0.0 --server.headless true
}

ensure_venv
case "${1:-run}" in
  test) shift; run_tests "$@" ;;
  run) run_app ;;
  *) log "usage: ./main.sh [test [pytest args...]]"; exit 2 ;;
esac
