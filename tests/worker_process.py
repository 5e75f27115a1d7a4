"""`flask dsr worker` for a test: the app built from a JSON config file, then the worker.

Usage: python tests/worker_process.py CONFIG.json. The worker is the real one
(`dsr.queue.run_worker`, forking, with its scheduler); only the settings come
from the test instead of the environment.
"""

import json
import sys

from dsr import create_app, queue

if __name__ == "__main__":
    with open(sys.argv[1]) as handle:
        settings = json.load(handle)
    app = create_app(settings)
    with app.app_context():
        queue.run_worker(app)
