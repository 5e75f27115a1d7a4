#!/usr/bin/env bash
# Set up, then run dsr for development in the foreground until Ctrl-C:
# Redis (the one on 6379 if it answers, else our own), the migrated database,
# the web app, the RQ worker and the periodic-job scheduler, each logging with a prefix.
# Every child is stopped on Ctrl-C, TERM, HUP or exit; if one dies early the script
# stops the others and exits non-zero, naming it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh

PORT="${PORT:-5000}"
export FLASK_APP=wsgi
export DSR_ENV="${DSR_ENV:-development}"
export BASE_URL="${BASE_URL:-http://127.0.0.1:$PORT}"
export PYTHONUNBUFFERED=1
# The demo systems and the demo instance TOML agree on these; set your own to use yours.
export DSR_CRM_SECRET="${DSR_CRM_SECRET:-demo-crm-secret}"
export DSR_SMS_SECRET="${DSR_SMS_SECRET:-demo-sms-secret}"
export DSR_BILLING_URL="${DSR_BILLING_URL:-sqlite:///$PWD/instance/demo/billing.sqlite3}"
CRM_PORT="${CRM_PORT:-8701}"
SMS_PORT="${SMS_PORT:-8702}"
# The demo systems start on these ports, and the demo instance sends its tasks there.
export DSR_CRM_URL="${DSR_CRM_URL:-http://127.0.0.1:$CRM_PORT/dsr}"
export DSR_SMS_URL="${DSR_SMS_URL:-http://127.0.0.1:$SMS_PORT/dsr}"
STAFF_LOGIN=instance/demo-staff-login.txt
LOCAL="http://127.0.0.1:$PORT"
PY=.venv/bin/python
FLASK=.venv/bin/flask

pids=()       # every child we started, in start order
declare -A names=()

say() { echo "run: $*" >&2 || true; }

# Children get their own session, so Ctrl-C reaches only this script and the trap
# stops them in order (Redis last, so the worker and scheduler can sign off cleanly).
detach=()
command -v setsid >/dev/null && detach=(setsid)

# start NAME COMMAND...: run COMMAND in the background, its output prefixed with [NAME].
start() {
    local name=$1
    shift
    # The prefixer ignores Ctrl-C so the child's last words still reach the terminal;
    # it ends by itself when the child closes its output.
    "${detach[@]}" "$@" > >(trap '' INT TERM && exec sed -u "s/^/[$name] /") 2>&1 &
    pids+=($!)
    names[$!]=$name
}

# stop PID...: TERM each, give them 10 s to finish, then KILL what is left of their groups.
stop() {
    local pid
    for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 100); do
        alive "$@" || break
        sleep 0.1
    done
    for pid in "$@"; do
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

alive() {
    local pid
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
    return 1
}

cleanup() {
    local status=$?
    set +e  # stop every child even if something below fails (a closed terminal, say)
    # A second Ctrl-C must not cut the clean-up short; it is bounded by `stop` anyway.
    trap '' INT TERM HUP
    trap - EXIT
    if [ ${#pids[@]} -gt 0 ]; then
        local apps=() pid
        for pid in "${pids[@]}"; do
            [ "${names[$pid]}" = redis ] || apps+=("$pid")
        done
        say "stopping$(for pid in "${apps[@]}" ${redis_pid:-}; do printf ' %s' "${names[$pid]}"; done)"
        [ ${#apps[@]} -eq 0 ] || stop "${apps[@]}"
        [ -z "${redis_pid:-}" ] || stop "$redis_pid"
        say "stopped"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# check_children: fail, naming the child, if any has already exited.
check_children() {
    local pid
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null && continue
        local status=0
        wait "$pid" || status=$?
        died "$pid" "$status"
    done
}

# died PID STATUS: say which child stopped early and where its log is, then fail.
died() {
    local where="its log above"
    [ "${names[$1]}" = redis ] && where="instance/redis.log"
    say "the ${names[$1]} process (pid $1) stopped early with status $2; see $where"
    exit 1
}

redis_ping() {
    "$PY" - "$1" <<'PYTHON' 2>/dev/null
import sys
from redis import Redis
Redis.from_url(sys.argv[1], socket_timeout=1, socket_connect_timeout=1).ping()
PYTHON
}

# ensure_redis: use REDIS_URL if set, else Redis on 6379 if it answers, else start our own.
ensure_redis() {
    if [ -n "${REDIS_URL:-}" ]; then
        redis_ping "$REDIS_URL" && return
        say "REDIS_URL=$REDIS_URL does not answer; start that Redis or unset REDIS_URL"
        exit 1
    fi
    export REDIS_URL=redis://127.0.0.1:6379/0
    if redis_ping "$REDIS_URL"; then
        say "using the Redis already running on 127.0.0.1:6379"
        return
    fi
    say "starting redis-server on 127.0.0.1:6379 (log: instance/redis.log)"
    "${detach[@]}" redis-server --port 6379 --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --dir "$PWD/instance" >instance/redis.log 2>&1 &
    redis_pid=$!
    pids+=("$redis_pid")
    names[$redis_pid]=redis
    local deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
        redis_ping "$REDIS_URL" && return
        check_children
        sleep 0.2
    done
    say "redis-server did not answer within 10 s; see instance/redis.log"
    exit 1
}

# health: print the HTTP status of GET /api/v1/health (000 when nothing answers).
health() {
    "$PY" - "$LOCAL/api/v1/health" <<'PYTHON'
import sys
import urllib.error
import urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as response:
        print(response.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
except OSError:
    print("000")
PYTHON
}

wait_healthy() {
    local code=000 deadline=$((SECONDS + 30))
    while [ $SECONDS -lt $deadline ]; do
        code=$(health)
        [ "$code" = 200 ] && return
        check_children
        sleep 0.5
    done
    say "GET $LOCAL/api/v1/health did not answer 200 within 30 s (last: $code)"
    exit 1
}

banner() {
    local outbox="  Dev outbox       $LOCAL/dev/outbox   (confirmation emails land here)"
    [ "$DSR_ENV" = production ] && outbox="  Emails           sent by MAIL_BACKEND=${MAIL_BACKEND:-outbox}"
    cat <<TEXT

  dsr is running ($DSR_ENV)

  Request form     $LOCAL/
$outbox
  Health           $LOCAL/api/v1/health
  API              POST $LOCAL/api/v1/requests
                   OpenAPI: $LOCAL/api/v1/openapi.json
  Staff            $LOCAL/staff/   $(staff_login)

  Demo systems     CRM (http connector)       http://127.0.0.1:$CRM_PORT/contacts?email=camille.durand@example.org
                   SMS platform (webhook)     http://127.0.0.1:$SMS_PORT/subscriptions?phone=%2B33639980001
                   Billing (sql connector)    instance/demo/billing.sqlite3

  Ctrl-C to stop.

TEXT
}

# ensure_staff_user: on the first run, create an admin with a random password and keep
# the login (readable by this user only) so that every run can print it.
ensure_staff_user() {
    [ -f "$STAFF_LOGIN" ] && return
    local email=dpo@mobilites-demo.example password
    password=$("$PY" -c 'import secrets; print(secrets.token_urlsafe(12))')
    "$FLASK" dsr user create "$email" --role admin --password "$password" >/dev/null
    (umask 077 && printf '%s %s\n' "$email" "$password" >"$STAFF_LOGIN")
    say "created the staff user $email (login kept in $STAFF_LOGIN)"
}

staff_login() {
    read -r email password <"$STAFF_LOGIN"
    echo "login: $email / $password"
}

ensure_redis
"$FLASK" db upgrade
ensure_staff_user
mkdir -p instance/demo
"$PY" -m connectors.demo.billing --db instance/demo/billing.sqlite3
start crm "$PY" -m connectors.demo.crm --port "$CRM_PORT" --secret-env DSR_CRM_SECRET
start sms "$PY" -m connectors.demo.sms --port "$SMS_PORT" --secret-env DSR_SMS_SECRET --delay 3
start web "$FLASK" run --host 127.0.0.1 --port "$PORT"
start worker "$FLASK" dsr worker
start cron "$FLASK" dsr cron
wait_healthy
banner

status=0
wait -n -p done_pid "${pids[@]}" || status=$?
died "$done_pid" "$status"
