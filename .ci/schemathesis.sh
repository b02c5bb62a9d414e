#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis, every check, as three roles
# (officer, provider, coordinator), against gunicorn on 127.0.0.1 with a throwaway SQLite
# database seeded with the demo task force. Fails on any failure. Bounded: examples per
# operation (SCHEMATHESIS_MAX_EXAMPLES, default 10) and the phases (SCHEMATHESIS_PHASES;
# the coverage phase alone is ~3,000 cases a role) keep the step within a few minutes.
set -uo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PY")
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-10}
PHASES=${SCHEMATHESIS_PHASES:-examples,fuzzing,stateful}
WORKERS=${SCHEMATHESIS_WORKERS:-2}
# These end the run's own sign-in (its token, or all of the user's tokens): tests/ covers them.
EXCLUDE='^/api/v1/auth/(logout|logoutall|password)/$'
ROLES=${SCHEMATHESIS_ROLES:-"officer provider coordinator"}
PORT=${SCHEMATHESIS_PORT:-18765}
WORK=$(mktemp -d /tmp/continuum-schemathesis.XXXXXX)
PASSWORD="schemathesis-$(date +%s)-$RANDOM"
BASE="http://127.0.0.1:$PORT"

export CONTINUUM_VAR_DIR="$WORK" DJANGO_DEBUG=false DJANGO_SECURE_SSL_REDIRECT=false \
  DJANGO_SECRET_KEY="schemathesis-only-$RANDOM$RANDOM" CONTINUUM_GENERATE_KEYS=true \
  DJANGO_ALLOWED_HOSTS=127.0.0.1 CONTINUUM_LOGIN_RATE=100000/min CONTINUUM_LOG_LEVEL=ERROR \
  CONTINUUM_2FA_REQUIRED=false
unset DATABASE_URL CELERY_BROKER_URL CACHE_URL

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

started=$(date +%s)
"$PY" manage.py migrate -v 0 || exit 1
"$PY" manage.py seed_demo --password "$PASSWORD" >/dev/null 2>&1 || exit 1
"$BIN/gunicorn" config.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 \
  --log-level warning --error-logfile "$WORK/gunicorn.log" &
server_pid=$!
for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$BASE/healthz" 2>/dev/null; then break; fi
  sleep 0.2
done

token_for() {
  "$PY" - "$BASE" "$1" "$PASSWORD" <<'PY'
import json, sys, urllib.request
base, user, password = sys.argv[1:]
request = urllib.request.Request(
    f"{base}/api/v1/auth/token/",
    data=json.dumps({"username": user, "password": password}).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(request, timeout=10))["token"])
PY
}

status=0
for role in $ROLES; do
  token=$(token_for "$role")
  echo "-- schemathesis as $role (max $MAX_EXAMPLES examples per operation)"
  role_started=$(date +%s)
  if ! "$BIN/schemathesis" --no-color --config-file .ci/schemathesis.toml run "$BASE/api/schema/" \
      --header "Authorization: Token $token" \
      --checks all \
      --phases "$PHASES" \
      --max-examples "$MAX_EXAMPLES" \
      --workers "$WORKERS" \
      --seed 12 \
      --suppress-health-check all \
      --exclude-path-regex "$EXCLUDE" \
      ${SCHEMATHESIS_ARGS:-} 2>&1 | tee "$WORK/run-$role.log"; then
    status=1
  fi
  cases=$(grep -Eo '[0-9]+ generated' "$WORK/run-$role.log" | tail -1 || true)
  echo "-- $role: ${cases:-? generated} test cases in $(( $(date +%s) - role_started )) s"
done
if [ -s "$WORK/gunicorn.log" ]; then echo "-- server log"; cat "$WORK/gunicorn.log"; fi
echo "-- schemathesis: $(( $(date +%s) - started )) s in all"
exit $status
