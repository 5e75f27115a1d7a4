"""The OpenAPI 3.1 document of the JSON API, built from the schemas that validate requests.

`IntakeSchema` and each workflow's `details_schema` are the single source: what
the document promises is what `dsr.intake` checks; the staff API and the
connector callback are described in `dsr.web.openapi_staff`. The document is
built once per app and kept in `app.extensions`. Its descriptions are
developer documentation in English; they are not translated, since one
document serves every client.
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_babel import force_locale

import workflows
from dsr.intake import IntakeSchema
from workflows.fields import Email

logger = logging.getLogger(__name__)

EXTENSION_KEY = "dsr.openapi"
OPENAPI_VERSION = "3.1.0"
REF_PATTERN = r"^DSR-[0-9]{4}-[0-9]{6}$"

ERROR = {
    "type": "object",
    "description": "Every error of the API has this shape.",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Stable, machine-readable code.",
                    "examples": ["validation_error", "invalid_json"],
                },
                "message": {
                    "type": "string",
                    "description": "What to do, in the client's language.",
                },
                "fields": {
                    "type": "object",
                    "description": "Messages per dotted field path (`details.changes.0.field`); "
                    "`_schema` for the body as a whole. Empty when not about fields.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

CREATED = {
    "type": "object",
    "required": ["ref", "status", "due_at"],
    "properties": {
        "ref": {"type": "string", "pattern": REF_PATTERN, "examples": ["DSR-2025-000042"]},
        "type": {"type": "string", "description": "The request type, as sent."},
        "status": {
            "type": "string",
            "const": "unverified",
            "description": "Waiting for the subject to confirm by the emailed link.",
        },
        "received_at": {"type": "string", "format": "date-time"},
        "due_at": {
            "type": "string",
            "format": "date-time",
            "description": "End of the last day to answer (UTC).",
        },
    },
}

HEALTH = {
    "type": "object",
    "required": ["status", "database", "redis"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "database": {"type": "string", "enum": ["ok", "down"]},
        "redis": {"type": "string", "enum": ["ok", "down"]},
    },
}


def document(app: Flask) -> dict:
    """The app's OpenAPI document, built on first use, in English whoever asks first."""
    if EXTENSION_KEY not in app.extensions:
        with force_locale("en"):
            app.extensions[EXTENSION_KEY] = build(app.config["BASE_URL"])
    return app.extensions[EXTENSION_KEY]


def package_version() -> str:
    try:
        return version("dsr")
    except PackageNotFoundError:
        return "0"


def build(base_url: str) -> dict:
    """Assemble the document: schemas first, then the paths that refer to them."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="dsr API",
        version=package_version(),
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        servers=[{"url": base_url.rstrip("/") + "/api/v1"}],
        info={
            "description": "Data-subject rights requests (GDPR, Loi Informatique et "
            "Libertés): intake and health; the privacy team's queue and cases (bearer "
            "tokens); connector callbacks."
        },
    )
    plugin.map_to_openapi_type(Email, "string", "email")
    spec.components.schema("Error", ERROR)
    spec.components.schema("Created", CREATED)
    spec.components.schema("Health", HEALTH)
    add_request_schema(spec, plugin)
    # they build on this module's helpers
    from dsr.web import openapi_assign, openapi_decisions, openapi_release, openapi_staff

    openapi_staff.add(spec)
    openapi_release.add(spec)
    openapi_decisions.add(spec)
    openapi_assign.add(spec)
    spec.path(
        path="/requests",
        operations={"post": create_operation(), "get": openapi_staff.list_operation()},
    )
    spec.path(path="/health", operations={"get": health_operation()})
    return spec.to_dict()


def details_name(type_name: str) -> str:
    """`consent_withdrawal` -> `ConsentWithdrawalDetails`."""
    return "".join(part.title() for part in type_name.split("_")) + "Details"


def add_request_schema(spec: APISpec, plugin: MarshmallowPlugin) -> None:
    """`NewRequest`: the intake envelope, its `details` documented per type."""
    refs = {}
    for definition in workflows.definitions():
        name = details_name(definition.name)
        spec.components.schema(name, schema=definition.details_schema)
        spec.components.schemas[name]["description"] = (
            f"`details` when `type` is `{definition.name}` ({definition.legal_basis})."
        )
        refs[definition.name] = {"$ref": f"#/components/schemas/{name}"}
    envelope = plugin.converter.schema2jsonschema(IntakeSchema)
    envelope["properties"]["type"]["enum"] = workflows.names()
    envelope["properties"]["details"] = {
        "description": "Depends on `type`: "
        + ", ".join(f"`{type_name}` -> {details_name(type_name)}" for type_name in refs)
        + ".",
        # anyOf, not oneOf: several types accept `{}`, which oneOf would reject
        "anyOf": list(refs.values()),
    }
    envelope["allOf"] = [
        {
            "if": {"properties": {"type": {"const": type_name}}, "required": ["type"]},
            "then": {"properties": {"details": ref}},
        }
        for type_name, ref in refs.items()
    ]
    spec.components.schema("NewRequest", envelope)


def json_content(schema: str) -> dict:
    return {"application/json": {"schema": schema}}


def error_response(description: str) -> dict:
    return {"description": description, "content": json_content("Error")}


def create_operation() -> dict:
    return {
        "operationId": "createRequest",
        "summary": "Submit a data-subject request",
        "description": "Stores the request as `unverified` and emails the subject a link to "
        "confirm it; the legal clock runs from receipt. No authentication; "
        "rate-limited per client IP and per email address.",
        "requestBody": {"required": True, "content": json_content("NewRequest")},
        "responses": {
            "201": {
                "description": "Request stored; confirmation email queued.",
                "content": json_content("Created"),
            },
            "400": error_response("The body is not valid UTF-8 JSON (`invalid_json`)."),
            "413": error_response("The body is larger than the server accepts."),
            "415": error_response("The body is not declared `application/json`."),
            "422": error_response(
                "The request is invalid (`validation_error`); "
                "`fields` says what to fix, by dotted path."
            ),
            "429": {
                **error_response("Too many submissions; retry later."),
                "headers": {
                    "Retry-After": {
                        "description": "Seconds to wait.",
                        "schema": {"type": "integer"},
                    }
                },
            },
        },
    }


def health_operation() -> dict:
    return {
        "operationId": "health",
        "summary": "State of the database and Redis",
        "responses": {
            "200": {"description": "Both answer.", "content": json_content("Health")},
            "503": {"description": "At least one is down.", "content": json_content("Health")},
        },
    }
