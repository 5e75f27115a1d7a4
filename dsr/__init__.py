"""dsr: a self-hosted engine for GDPR data-subject rights requests."""

import os

from flask import Flask

from dsr import cli, config, i18n, queue, systems, templating
from dsr import db as database
from dsr.extensions import csrf, db, limiter, migrate

HERE = os.path.dirname(__file__)
MIGRATIONS = os.path.join(HERE, "migrations")


def templates_folder() -> str:
    """The pages: dsr/templates in an installed wheel, else templates/ beside dsr/ in a checkout."""
    installed = os.path.join(HERE, "templates")
    return installed if os.path.isdir(installed) else os.path.join(HERE, os.pardir, "templates")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, commands."""
    app = Flask(__name__, instance_relative_config=True, template_folder=templates_folder())
    config.configure(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"])
    limiter.init_app(app)
    i18n.init_app(app)
    queue.init_app(app)
    systems.init_app(app)
    templating.init_app(app)
    cli.init_app(app)

    from dsr import web

    web.init_app(app)
    return app
