#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./main.sh          set up (.venv, packages) and run the whole stack on http://localhost:8080:
#                      nginx on PORT in front of Streamlit (STREAMLIT_PORT, STREAMLIT_REPLICAS)
#                      and the REST API (API_PORT); Ctrl-C or SIGTERM stops every part
#   ./main.sh test     set up, then ruff, mypy and pytest (extra arguments go to pytest)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
PORT=${PORT:-8080}
STREAMLIT_PORT=${STREAMLIT_PORT:-8501}
API_PORT=${API_PORT:-8502}
STREAMLIT_REPLICAS=${STREAMLIT_REPLICAS:-1}
#: Streamlit's server.maxUploadSize (MB) in .streamlit/config.toml, plus room for the form.
BODY_LIMIT=${BODY_LIMIT:-101m}

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
  nginx_path >/dev/null || missing+=(nginx-light)
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

nginx_path() {
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; }
}

# nginx, installed when missing and we are root; empty when it cannot be had.
ensure_nginx() {
  local found
  found=$(nginx_path || true)
  if [ -z "$found" ] && [ "$(id -u)" -eq 0 ]; then
    log "installing system packages: nginx-light"
    apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
      || log "could not install nginx"
    found=$(nginx_path || true)
  fi
  echo "$found"
}

# The replicas' ports: STREAMLIT_PORT upwards, skipping the API's and nginx's.
streamlit_ports() {
  local port=$STREAMLIT_PORT count=0
  while [ "$count" -lt "$STREAMLIT_REPLICAS" ]; do
    if [ "$port" -ne "$API_PORT" ] && [ "$port" -ne "$PORT" ]; then
      echo "$port"
      count=$((count + 1))
    fi
    port=$((port + 1))
  done
}

STACK_PIDS=()
STACK_NAMES=()
STACK_DIR=

start_part() {  # name, command...
  local name=$1
  shift
  "$@" &
  STACK_PIDS+=($!)
  STACK_NAMES+=("$name")
}

stop_stack() {
  trap - INT TERM EXIT
  local pid
  for pid in "${STACK_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  # Give each part a few seconds to stop cleanly (the store marks its process stopped).
  for pid in "${STACK_PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  [ -n "$STACK_DIR" ] && rm -rf "$STACK_DIR"
}

listening() {  # port: true once something accepts connections on 127.0.0.1:port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_free() {  # port name: refuse to start a part on a port something else already has
  if listening "$1"; then
    log "$2 failed to start: port $1 is already in use"
    return 1
  fi
}

# Wait until every part listens; a part that exits first, or never listens, is named.
wait_ready() {  # name pid port
  local deadline=$((SECONDS + ${STACK_START_TIMEOUT_S:-120}))
  until listening "$3"; do
    if ! kill -0 "$2" 2>/dev/null; then
      log "$1 failed to start (it exited); see its output above"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$1 failed to start: nothing listens on port $3"
      return 1
    fi
    sleep 0.2
  done
}

run_streamlit_alone() {
  exec "$VENV/bin/streamlit" run streamlit_app.py \
    --server.port "$PORT" --server.address 0.0.0.0 --server.headless true
}

check_numbers() {
  local name
  for name in PORT STREAMLIT_PORT API_PORT STREAMLIT_REPLICAS; do
    [[ ${!name} =~ ^[1-9][0-9]{0,4}$ ]] \
      || { log "$name must be a whole number of at least 1, got '${!name}'"; exit 2; }
  done
}

run_app() {
  check_numbers
  [ -n "${DATABASE_URL:-}" ] || mkdir -p data
  # Migrate the database first: one unreachable (or of a newer schema) stops here, named.
  "$VENV/bin/python" -m store upgrade || { log "the database is not usable; see above"; exit 1; }
  local nginx ports=() port servers="" i=0 status=0
  nginx=$(ensure_nginx)
  if [ -z "$nginx" ]; then
    log "nginx is missing (install it: sudo apt-get install -y nginx-light); serving" \
      "Streamlit alone on http://localhost:$PORT, without the REST API"
    run_streamlit_alone
  fi
  mapfile -t ports < <(streamlit_ports)
  STACK_DIR=$(mktemp -d /tmp/taskpool-stack.XXXXXX)
  chmod 755 "$STACK_DIR"  # nginx's workers (nobody, when we are root) write their temp files here
  for port in "${ports[@]}"; do
    servers+="        server 127.0.0.1:$port;"$'\n'
  done
  sed -e "s|@RUN_DIR@|$STACK_DIR|g" -e "s|@PORT@|$PORT|g" -e "s|@API_PORT@|$API_PORT|g" \
    -e "s|@BODY_LIMIT@|$BODY_LIMIT|g" deploy/nginx.conf \
    | awk -v servers="$servers" '{ if ($0 == "@STREAMLIT_SERVERS@") printf "%s", servers; else print }' \
      >"$STACK_DIR/nginx.conf"
  "$nginx" -t -q -c "$STACK_DIR/nginx.conf" -e "$STACK_DIR/error.log" \
    || { log "nginx failed to start: its configuration does not load"; exit 1; }
  trap 'log "stopping"; stop_stack; exit 0' INT TERM
  trap stop_stack EXIT
  for i in "${!ports[@]}"; do
    port_free "${ports[$i]}" "streamlit replica $((i + 1))" || exit 1
  done
  port_free "$API_PORT" "the API" && port_free "$PORT" "nginx" || exit 1
  # Only nginx may set X-Forwarded-For: the login throttle believes it from there alone.
  export TRUSTED_PROXIES=${TRUSTED_PROXIES:-127.0.0.1,::1}
  export API_PORT
  for port in "${ports[@]}"; do
    i=$((i + 1))
    start_part "streamlit replica $i (port $port)" "$VENV/bin/streamlit" run streamlit_app.py \
      --server.port "$port" --server.address 127.0.0.1 --server.headless true
  done
  start_part "the API (port $API_PORT)" "$VENV/bin/python" -m api
  for i in "${!STACK_PIDS[@]}"; do
    port=${ports[$i]:-$API_PORT}
    wait_ready "${STACK_NAMES[$i]}" "${STACK_PIDS[$i]}" "$port" || exit 1
  done
  start_part "nginx (port $PORT)" "$nginx" -c "$STACK_DIR/nginx.conf" -e "$STACK_DIR/error.log"
  wait_ready "nginx (port $PORT)" "${STACK_PIDS[-1]}" "$PORT" \
    || { cat "$STACK_DIR/error.log" >&2; exit 1; }
  log "serving on http://localhost:$PORT (${#ports[@]} Streamlit replica(s), API at /api, /docs)"
  # Until any part exits: then name it and stop the others.
  wait -n "${STACK_PIDS[@]}" || status=$?
  for i in "${!STACK_PIDS[@]}"; do
    kill -0 "${STACK_PIDS[$i]}" 2>/dev/null || log "${STACK_NAMES[$i]} stopped (exit $status)"
  done
  exit $((status == 0 ? 1 : status))
}

ensure_venv
case "${1:-run}" in
  test) shift; run_tests "$@" ;;
  run) run_app ;;
  *) log "usage: ./main.sh [test [pytest args...]]"; exit 2 ;;
esac
