"""A wheel built from the repository runs on its own.

The wheel is built from a copy of the sources, installed into a fresh virtualenv beside the
locked runtime dependencies only (requirements.lock: no development tool, no checkout on
the path); there it migrates a new database and gunicorn serves the API, the pages (from
the templates the wheel carries), the French catalogue and the static files.

Some 30 seconds (the first run downloads the dependencies into uv's cache):
`-m "not wheel"` leaves these tests out.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import DEMO_SECRETS, DEMO_URLS, free_port

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
#: what a build does not need from a checkout (an old build/ could even leak into the wheel)
NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"
)
#: the folders the wheel carries, and where each lands in it
FOLDERS = {"dsr": "dsr", "workflows": "workflows", "connectors": "connectors"}
FOLDERS["templates"] = "dsr/templates"
#: the French title of the right of access on the index page
ACCESS_FR = "Accéder à mes données"


def run(command: list, **kwargs) -> str:
    """Run a command to completion; its output, or a failure that shows it."""
    result = subprocess.run(
        [str(part) for part in command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=600,
        **kwargs,
    )
    assert result.returncode == 0, f"{' '.join(map(str, command))}:\n{result.stdout}"
    return result.stdout


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the repository, less what is not a source."""
    path = tmp_path_factory.mktemp("wheel") / "source"
    shutil.copytree(ROOT, path, ignore=NOT_SOURCES)
    return path


@pytest.fixture(scope="module")
def wheel(source) -> Path:
    """The wheel, built with the locked setuptools of the development virtualenv."""
    dist = source.parent / "dist"
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    run([*pip, "-w", dist, source])
    [built] = dist.glob("dsr-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel) -> Path:
    """A fresh virtualenv holding the locked runtime dependencies and the wheel.

    uv (locked in the dev extra) installs them: it checks the same hashes as pip, and from
    its cache in seconds where pip takes a minute. scripts/setup.sh installs the same pins
    with pip on every fresh checkout.
    """
    path = wheel.parent.parent / "venv"
    venv.create(path, with_pip=False)
    uv = [Path(sys.executable).parent / "uv", "pip", "install", "-q"]
    uv += ["--python", path / "bin" / "python"]
    run([*uv, "--require-hashes", "-r", ROOT / "requirements.lock"])
    run([*uv, "--no-deps", wheel])
    return path


def packaged_files(source: Path) -> set[str]:
    """Every file of the folders the wheel carries, at its place in the wheel."""
    return {
        f"{target}/{path.relative_to(source / folder).as_posix()}"
        for folder, target in FOLDERS.items()
        for path in (source / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_wheel_carries_every_file_of_the_packages_and_the_templates(source, wheel):
    with zipfile.ZipFile(wheel) as archive:
        carried = {name for name in archive.namelist() if ".dist-info/" not in name}
    expected = packaged_files(source)
    for needed in (
        "dsr/templates/base.html",
        "dsr/templates/email/verify.txt",
        "dsr/migrations/env.py",
        "dsr/migrations/alembic.ini",
        "dsr/demo/instance.toml",
        "dsr/translations/fr/LC_MESSAGES/messages.mo",
        "dsr/static/style.css",
        "dsr/static/branch.js",
    ):
        assert needed in expected
    missing = sorted(expected - carried)
    assert missing == [], (
        "not in the wheel (give a new kind of file a pattern in pyproject.toml's "
        f"[tool.setuptools.package-data]; setup.py finds the packages): {missing}"
    )
    assert sorted(carried - expected) == []
    assert any(name.startswith("dsr/migrations/versions/") for name in carried)


def environment(tmp_path: Path, redis_url: str) -> dict:
    """A clean environment for the installed app: no checkout, a new database."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DSR_ENV": "development",
        "SECRET_KEY": "wheel-test-" + "k" * 32,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'dsr.sqlite3'}",
        "REDIS_URL": redis_url,
        "OUTBOX_DIR": str(tmp_path / "outbox"),
        "RESULTS_DIR": str(tmp_path / "results"),
        **DEMO_SECRETS,
        **DEMO_URLS,
    }


def get(url: str, **headers) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for_health(base: str, server: subprocess.Popen, log: Path) -> tuple[int, str]:
    """GET /api/v1/health once gunicorn answers; fails with its log if it stops or stays silent."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"gunicorn stopped:\n{log.read_text()}"
        try:
            return get(base + "/api/v1/health")
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer within 60 s:\n{log.read_text()}")


def test_the_installed_wheel_migrates_a_database_and_serves_the_app(installed, redis_url, tmp_path):
    env = environment(tmp_path, redis_url)
    bin_dir = installed / "bin"
    show = "import dsr; print(dsr.templates_folder())"
    where = run([bin_dir / "python", "-c", show], cwd=tmp_path, env=env)
    assert Path(where.strip()).is_relative_to(installed), "dsr came from the checkout"
    run([bin_dir / "flask", "--app", "dsr:create_app", "db", "upgrade"], cwd=tmp_path, env=env)

    port, log = free_port(), tmp_path / "gunicorn.log"
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [bin_dir / "gunicorn", "--bind", f"127.0.0.1:{port}", "dsr:create_app()"],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        status, body = wait_for_health(base, server, log)
        assert status == 200, body
        assert json.loads(body) == {"status": "ok", "database": "ok", "redis": "ok"}
        status, body = get(base + "/", **{"Accept-Language": "fr"})
        assert status == 200, body
        assert ACCESS_FR in body, "the index page is not in French"
        status, body = get(base + "/static/style.css")
        assert status == 200 and body.strip()
    finally:
        server.terminate()
        server.wait(timeout=30)
