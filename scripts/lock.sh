#!/usr/bin/env bash
# Refresh the lock files from pyproject.toml: exact versions with their hashes.
#   requirements.lock      the runtime dependencies (what a deployment installs)
#   requirements-dev.lock  the same versions, plus the `dev` extra (what setup.sh installs)
# Run it after changing the dependencies in pyproject.toml, and commit both files.
# Arguments go to both `uv pip compile` runs: `bash scripts/lock.sh --upgrade` moves every
# pin to the newest release pyproject.toml admits, `--upgrade-package rq` just one.
# The resolution is universal (every platform and every Python that requires-python
# admits), so a lock made here also installs on Debian 12's Python 3.11.2.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV=.venv/bin/uv
if [ ! -x "$UV" ]; then
    echo "lock: $UV is missing; run bash scripts/setup.sh first" >&2
    exit 1
fi
compile=("$UV" pip compile pyproject.toml --quiet --universal --generate-hashes
    --custom-compile-command "bash scripts/lock.sh")

"${compile[@]}" "$@" -o requirements.lock
# The runtime lock constrains the development one, so that both pin the same versions.
"${compile[@]}" "$@" --extra dev --constraint requirements.lock -o requirements-dev.lock
# What they were made from, checked by tests/test_lock.py without resolving anything again.
inputs=$(.venv/bin/python scripts/lock_inputs.py)
for lock in requirements.lock requirements-dev.lock; do echo "$inputs" >>"$lock"; done
