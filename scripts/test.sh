#!/usr/bin/env bash
# Set up, then run the test suite. Arguments go to pytest: `bash scripts/test.sh -q -k audit`.
# pytest starts its own redis-server on a free port (tests/conftest.py); nothing else is needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
