"""Print the digest of what the lock files are made from.

That is pyproject.toml's `requires-python`, `dependencies` and `dev` extra. scripts/lock.sh
writes it as the last line of both lock files; tests/test_lock.py compares it with the
digest of the current pyproject.toml, so that a dependency changed without refreshing the
lock fails the tests (offline: nothing is resolved again).

    python scripts/lock_inputs.py [pyproject.toml]
"""

import hashlib
import json
import sys
import tomllib
from pathlib import Path

#: how the line starts in the lock files
PREFIX = "# pyproject.toml inputs sha256: "


def inputs_digest(pyproject: Path) -> str:
    """The sha256 of the dependency declarations, in an order-independent form."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    inputs = {
        "requires-python": project["requires-python"],
        "dependencies": sorted(project["dependencies"]),
        "dev": sorted(project["optional-dependencies"]["dev"]),
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "pyproject.toml")
    print(PREFIX + inputs_digest(path))
