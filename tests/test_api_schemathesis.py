"""Schemathesis, the property-based API tester, against the app: every operation of
`/api/v1/openapi.json`, with every check it has (server errors, status codes, content
types, response schemas and headers, schema-valid data accepted, invalid data refused,
undeclared methods, authentication...), in positive and negative modes, through WSGI,
with an admin's bearer token.

The operations are read at collection from the document an app serves; each test then
sends them to its own app, on a fresh database (`CurrentApp`). Derandomized with a fixed
seed and a bounded number of examples per operation, so a run is repeatable.
"""

import pytest
import schemathesis
from fixtures_staff import bearer
from hypothesis import HealthCheck, settings

from dsr import create_app
from dsr.web import openapi

BASE_URL = "http://dsr.test"
CONFIG = {
    "base-url": BASE_URL + "/api/v1",
    "seed": 10,
    "generation": {"max-examples": 15, "mode": "all", "deterministic": True},
}


class CurrentApp:
    """A WSGI app that hands each request to the app of the test running."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def document_app():
    """An app to read the document from (the document needs no database nor Redis)."""
    config = {
        "TESTING": True,
        "DSR_ENV": "development",
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "BASE_URL": BASE_URL,
    }
    return create_app(config)


CURRENT = CurrentApp()
CURRENT.app = document_app()
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", CURRENT, config=schemathesis.Config.from_dict(CONFIG)
)


def test_every_api_route_and_method_is_in_the_document():
    app = CURRENT.app
    paths = app.test_client().get("/api/v1/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path, _parameters = openapi.openapi_path(rule.rule)
            methods = {m.lower() for m in rule.methods - {"HEAD", "OPTIONS"}}
            assert methods <= set(paths.get(path, {})), f"{rule.rule} is not documented"


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@pytest.mark.sqlite_only
def test_the_api_holds_to_its_document(case, app, staff_tokens):
    """One fresh app per operation; its examples share it (hence the health check)."""
    CURRENT.app = app
    case.call_and_validate(headers=bearer(staff_tokens["admin"]))
