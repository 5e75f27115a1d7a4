"""`flask dsr worker` for a test: the app built from a JSON config file, then the worker.

Usage: python tests/worker_process.py CONFIG.json. The worker is the real one
(`dsr.queue.run_worker`, with its scheduler); only the settings come from the
test instead of the environment. Tests start it with `start_worker(app, tmp_path)`,
in its own process group, its output in `worker_log(tmp_path)`.
"""

import json
import subprocess
import sys
from pathlib import Path

from dsr import create_app, queue

ROOT = Path(__file__).resolve().parents[1]


def start_worker(app, tmp_path) -> subprocess.Popen:
    """`flask dsr worker` on this test's database, Redis and connectors, in its own group."""
    settings = {
        key: app.config[key]
        for key in (
            "SQLALCHEMY_DATABASE_URI",
            "REDIS_URL",
            "BASE_URL",
            "RESULTS_DIR",
            "OUTBOX_DIR",
            "DSR_DATA_KEY",
        )
    }
    settings.update(
        TESTING=True,
        DSR_ENV="development",
        SECRET_KEY="test-secret",
        INSTANCE=app.config["INSTANCE"],
    )
    config = tmp_path / "worker.json"
    config.write_text(json.dumps(settings))
    with open(tmp_path / "worker.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "worker_process.py"), str(config)],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def worker_log(tmp_path) -> str:
    return (tmp_path / "worker.log").read_text(errors="replace")


if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        settings = json.load(handle)
    app = create_app(settings)
    with app.app_context():
        queue.run_worker(app)
