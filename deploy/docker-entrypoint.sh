#!/bin/sh
# Entry point of the dialer image: apply database migrations, optionally make sure the
# first admin exists, then run the command (`dialer run` by default).
#
#   DIALER_MIGRATE=0           skip `dialer migrate` (e.g. when a release job runs it)
#   DIALER_MIGRATE_TRIES=30    attempts, 2 s apart, while the database is still starting
#   DIALER_ADMIN_USER=admin    with DIALER_ADMIN_PASSWORD: create that admin, or reset its
#   DIALER_ADMIN_PASSWORD      password, before starting (idempotent)
set -eu

if [ "${DIALER_MIGRATE:-1}" = "1" ]; then
  tries="${DIALER_MIGRATE_TRIES:-30}"
  until dialer migrate; do
    tries=$((tries - 1))
    if [ "$tries" -le 0 ]; then
      echo "dialer-entrypoint: database migrations failed" >&2
      exit 1
    fi
    echo "dialer-entrypoint: database not ready, retrying in 2 s" >&2
    sleep 2
  done
fi

if [ -n "${DIALER_ADMIN_PASSWORD:-}" ]; then
  DIALER_USER_PASSWORD="$DIALER_ADMIN_PASSWORD" \
    dialer users create "${DIALER_ADMIN_USER:-admin}" --role admin
fi

exec "$@"
