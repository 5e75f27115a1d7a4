#!/usr/bin/env bash
# Prepare a checkout to run: the virtualenv with the project installed, redis-server,
# PostgreSQL's server for the tests, instance/.
# Idempotent and quick when nothing changed: the install is skipped while pyproject.toml
# keeps the hash recorded after the last successful install.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
STAMP="$VENV/.dsr-installed"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

say() { echo "setup: $*" >&2; }

ensure_venv() {
    [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/pip" ] && return
    say "creating the virtualenv in $VENV"
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV"; then
        rm -rf "$VENV"
        say "could not create a virtualenv: install Python 3.11+ with venv" \
            "(Debian: sudo apt-get install python3 python3-venv)"
        exit 1
    fi
}

ensure_packages() {
    local hash
    hash=$(sha256sum pyproject.toml | cut -d' ' -f1)
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$hash" ] && return
    say "installing dsr and its development tools into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q -e ".[dev]"
    echo "$hash" >"$STAMP"
}

ensure_redis() {
    command -v redis-server >/dev/null && return
    if [ "$(id -u)" != 0 ]; then
        say "redis-server is not installed. Install it, then run this again:" \
            "sudo apt-get install redis-server"
        exit 1
    fi
    say "installing redis-server with apt-get"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    command -v redis-server >/dev/null || { say "redis-server is still not on PATH"; exit 1; }
}

# PostgreSQL's server programs, for the tests' PostgreSQL variants (tests/postgresql_cluster.py
# starts a throwaway cluster with them). Debian keeps them off PATH, in
# /usr/lib/postgresql/<version>/bin. Without them (and not root) the tests still run on
# SQLite and skip their PostgreSQL variants, so this only says what to install.
has_postgresql_server() {
    local bin
    for bin in /usr/lib/postgresql/*/bin; do
        [ -x "$bin/initdb" ] && [ -x "$bin/pg_ctl" ] && return 0
    done
    command -v initdb >/dev/null && command -v pg_ctl >/dev/null
}

ensure_postgresql() {
    has_postgresql_server && return
    if [ "$(id -u)" != 0 ]; then
        say "PostgreSQL's server is not installed: the tests will skip their PostgreSQL" \
            "variants. To run them: sudo apt-get install postgresql"
        return
    fi
    say "installing postgresql with apt-get (the tests start clusters of their own)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    has_postgresql_server || { say "postgresql is installed but initdb is still not found"; exit 1; }
}

ensure_venv
ensure_packages
ensure_redis
ensure_postgresql
mkdir -p instance
