#!/usr/bin/env bash
# The docker compose integration test: bring up the stack of docker-compose.yml (dialer,
# PostgreSQL, Mosquitto, Asterisk with asterisk-conf/), run tests/compose against it, and
# take it down again (volumes included). Needs Docker with the compose plugin and the
# project's venv (`make test` or `make demo` creates it).
#
#   deploy/compose-test.sh            # build, test, tear down
#   KEEP_STACK=1 deploy/compose-test.sh   # leave the stack running afterwards
#
# The test dials whichever lab calling window (CN, IN or FR rules) is open at the time and
# skips, saying when the next one opens, if none is.
set -euo pipefail
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME="${COMPOSE_PROJECT_NAME:-dialer-compose-test}"
export DIALER_ADMIN_PASSWORD="${DIALER_ADMIN_PASSWORD:-compose-test-admin}"
PYTHON="${PYTHON:-.venv/bin/python}"

if ! docker compose version >/dev/null 2>&1; then
  echo "compose-test: Docker with the compose plugin is required" >&2
  exit 2
fi

cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    docker compose logs --no-color --tail 200 >&2 || true
  fi
  if [ "${KEEP_STACK:-0}" != "1" ]; then
    docker compose down --volumes --remove-orphans >/dev/null 2>&1 || true
  fi
  exit "$status"
}
trap cleanup EXIT

docker compose up --detach --build --wait --wait-timeout 300

DIALER_COMPOSE_URL="http://127.0.0.1:8080" \
DIALER_COMPOSE_PASSWORD="$DIALER_ADMIN_PASSWORD" \
DIALER_COMPOSE_MQTT="127.0.0.1:1883" \
  "$PYTHON" -m pytest tests/compose -m compose -rs "$@"
