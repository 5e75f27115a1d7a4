#!/usr/bin/env bash
# Set up, then run the test suite. Arguments go to pytest: `bash scripts/test.sh -q -k audit`.
# pytest starts its own redis-server and PostgreSQL cluster on free ports (tests/conftest.py,
# tests/fixtures_database.py); nothing else is needed. One database only: --db=sqlite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
