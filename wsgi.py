"""The WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import gc
import sys

from dsr import create_app
from dsr.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # a message the operator can act on, not a traceback
    sys.exit(f"dsr cannot start: {exc}")
# What the imports and the app's set-up made lives as long as the process: freezing it
# keeps each full garbage collection from walking ~110,000 objects (~40 ms with the
# database lock possibly held, so the other workers wait too).
gc.freeze()
