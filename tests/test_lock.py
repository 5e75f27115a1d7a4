"""The lock files agree with pyproject.toml: every dependency pinned, hashed and in range.

requirements.lock (runtime) and requirements-dev.lock (runtime and the dev extra) are made
by `bash scripts/lock.sh`; nothing here resolves anything again or needs the network.
"""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
REFRESH = "run bash scripts/lock.sh and commit both lock files"
LOCKS = {"runtime": ROOT / "requirements.lock", "dev": ROOT / "requirements-dev.lock"}


def pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)["project"]


def declared(which: str) -> list[Requirement]:
    """pyproject.toml's requirements that a lock must satisfy."""
    project = pyproject()
    requirements = project["dependencies"]
    if which == "dev":
        requirements = requirements + dev_extra()
    return [Requirement(text) for text in requirements]


def dev_extra() -> list[str]:
    return pyproject()["optional-dependencies"]["dev"]


def entries(path: Path) -> list[tuple[Requirement, list[str]]]:
    """A lock file's requirements (`name==version ; marker`), each with its hashes."""
    found: list[tuple[Requirement, list[str]]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip().removesuffix("\\").strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith("--hash="):
            found[-1][1].append(text.removeprefix("--hash="))
        else:
            found.append((Requirement(text), []))
    return found


def pins(path: Path) -> dict[str, set[str]]:
    """Each locked package's versions (several when they depend on the Python version)."""
    versions: dict[str, set[str]] = {}
    for requirement, _ in entries(path):
        [spec] = requirement.specifier
        versions.setdefault(canonicalize_name(requirement.name), set()).add(spec.version)
    return versions


@pytest.mark.parametrize("which", LOCKS)
def test_the_lock_was_made_from_this_pyproject(which):
    made_from = LOCKS[which].read_text(encoding="utf-8").splitlines()[-1]
    script = ROOT / "scripts" / "lock_inputs.py"
    current = subprocess.run(
        [sys.executable, script, ROOT / "pyproject.toml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert made_from == current, f"pyproject.toml's dependencies changed: {REFRESH}"


@pytest.mark.parametrize("which", LOCKS)
def test_every_entry_is_one_exact_version_with_its_hashes(which):
    locked = entries(LOCKS[which])
    assert len(locked) > 30
    for requirement, hashes in locked:
        [spec] = requirement.specifier
        assert spec.operator == "==", requirement
        assert not requirement.extras, f"{requirement}: extras are resolved into their packages"
        assert hashes and all(h.startswith("sha256:") for h in hashes), requirement


@pytest.mark.parametrize("which", LOCKS)
def test_every_declared_dependency_is_locked_within_its_range(which):
    locked = pins(LOCKS[which])
    for requirement in declared(which):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in {LOCKS[which].name}: {REFRESH}"
        for version in locked[name]:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{LOCKS[which].name} pins {name} {version}, outside {requirement}: {REFRESH}"
            )


def test_the_dev_lock_pins_the_runtime_versions():
    """A test run and a deployment run the same versions of what they share."""
    runtime = {str(requirement) for requirement, _ in entries(LOCKS["runtime"])}
    dev = {str(requirement) for requirement, _ in entries(LOCKS["dev"])}
    assert runtime <= dev, f"only in requirements.lock: {sorted(runtime - dev)}"


def test_the_runtime_lock_carries_no_development_tool():
    runtime = pins(LOCKS["runtime"])
    tools = {canonicalize_name(Requirement(text).name) for text in dev_extra()}
    assert tools & set(runtime) == set()
