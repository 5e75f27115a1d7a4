#!/usr/bin/env bash
# Prepare a checkout to run: the virtualenv with the locked dependencies and the project,
# redis-server, PostgreSQL's server, Chromium and axe-core for the tests, instance/.
# Idempotent and quick when nothing changed. When
# requirements-dev.lock changed since the last install, the virtualenv is built afresh, so
# that it holds exactly what the lock says (nothing left over from an older lock); when
# pyproject.toml or setup.py changed, the project is installed again.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

VENV=.venv
LOCK=requirements-dev.lock
LOCK_STAMP="$VENV/.dsr-lock-installed"
PROJECT_STAMP="$VENV/.dsr-installed"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

created=0  # 1 once this run has made a new, empty virtualenv

say() { echo "setup: $*" >&2; }

ensure_venv() {
    [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/pip" ] && return
    say "creating the virtualenv in $VENV"
    created=1
    rm -rf "$VENV"
    if ! python3 -m venv "$VENV"; then
        rm -rf "$VENV"
        say "could not create a virtualenv: install Python 3.11+ with venv" \
            "(Debian: sudo apt-get install python3 python3-venv)"
        exit 1
    fi
}

ensure_packages() {
    local lock_hash project_hash
    lock_hash=$(sha256sum "$LOCK" | cut -d' ' -f1)
    if [ "$(cat "$LOCK_STAMP" 2>/dev/null)" != "$lock_hash" ]; then
        if [ "$created" != 1 ]; then
            say "$LOCK changed (or an install did not finish): building $VENV afresh"
            rm -rf "$VENV"
            ensure_venv
        fi
        say "installing the locked dependencies ($LOCK) into $VENV"
        "$VENV/bin/pip" install -q --upgrade pip
        # Every package at the lock's version, its download checked against the lock's hashes.
        "$VENV/bin/pip" install -q --require-hashes -r "$LOCK"
        echo "$lock_hash" >"$LOCK_STAMP"
    fi
    project_hash=$(cat pyproject.toml setup.py | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$PROJECT_STAMP" 2>/dev/null)" != "$project_hash" ]; then
        say "installing dsr into $VENV (editable)"
        # Built with the locked setuptools; the dependencies are the lock's, nothing downloaded.
        "$VENV/bin/pip" install -q --no-deps --no-build-isolation -e .
        echo "$project_hash" >"$PROJECT_STAMP"
    fi
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

# Debian's Chromium, for the browser tests (tests/fixtures_browser.py drives it with Playwright; a
# browser build of Playwright's own cannot be downloaded here). Fonts so that screenshots
# are legible. Without it (and not root) the browser tests are skipped, saying why.
ensure_chromium() {
    [ -x /usr/bin/chromium ] && return
    if [ "$(id -u)" != 0 ]; then
        say "Chromium is not installed: the browser tests will be skipped. To run them:" \
            "sudo apt-get install chromium fonts-liberation fonts-dejavu-core"
        return
    fi
    say "installing chromium with apt-get (for the browser tests)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        chromium fonts-liberation fonts-dejavu-core >/dev/null
    [ -x /usr/bin/chromium ] || { say "chromium is installed but /usr/bin/chromium is missing"; exit 1; }
}

# axe-core, the accessibility checker the browser tests inject into every page: this exact
# release from the npm registry, its tarball checked against the registry's integrity hash,
# unpacked into the virtualenv (tests/fixtures_browser.py reads AXE_DIR/axe.min.js).
AXE_VERSION=4.14.1
AXE_INTEGRITY=sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
AXE_DIR="$VENV/share/axe-core"

ensure_axe() {
    [ "$(cat "$AXE_DIR/VERSION" 2>/dev/null)" = "$AXE_VERSION" ] && return
    if ! command -v npm >/dev/null; then
        if [ "$(id -u)" != 0 ]; then
            say "npm is not installed, so axe-core is not: the browser tests will be skipped." \
                "To run them: sudo apt-get install npm"
            return
        fi
        say "installing npm with apt-get (to fetch axe-core for the browser tests)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    fi
    say "fetching axe-core $AXE_VERSION from the npm registry"
    local tmp tarball actual
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack --silent "axe-core@$AXE_VERSION" >/dev/null); then
        rm -rf "$tmp"
        say "could not fetch axe-core $AXE_VERSION with npm: the browser tests will be skipped"
        return
    fi
    tarball="$tmp/axe-core-$AXE_VERSION.tgz"
    actual=$("$VENV/bin/python" -c 'import base64, hashlib, sys
print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1], "rb").read()).digest()).decode())' "$tarball")
    if [ "$actual" != "$AXE_INTEGRITY" ]; then
        rm -rf "$tmp"
        say "axe-core $AXE_VERSION does not match its integrity hash ($actual); not installed"
        exit 1
    fi
    rm -rf "$AXE_DIR"
    mkdir -p "$AXE_DIR"
    tar -xzf "$tarball" -C "$AXE_DIR" --strip-components=1 package/axe.min.js package/LICENSE
    echo "$AXE_VERSION" >"$AXE_DIR/VERSION"
    rm -rf "$tmp"
}

ensure_venv
ensure_packages
ensure_redis
ensure_postgresql
ensure_chromium
ensure_axe
mkdir -p instance
