"""The OpenAPI 3.1 document of the JSON API, generated from the code that serves it.

Paths, methods and path parameters come from the app's routes under /api/v1;
what each operation says, from the `documented` decorator on its view
(`dsr.web.apidoc`, whose docstring says how to add an endpoint); request
bodies, from the marshmallow schemas that load them (`IntakeSchema` and each
workflow's `details_schema` for `POST /requests`); answers, from the output
schemas of `dsr.web.schemas` that dump them. The document is built once per
app and kept in `app.extensions`. Its descriptions are developer documentation
in English; they are not translated, since one document serves every client.
"""

import re
from importlib.metadata import PackageNotFoundError, version

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from flask_babel import force_locale

import workflows
from dsr.intake import IntakeSchema
from dsr.web import apidoc
from workflows.fields import Email, Text

EXTENSION_KEY = "dsr.openapi"
OPENAPI_VERSION = "3.1.0"
PREFIX = "/api/v1"
#: a route's variable: `<name>`, `<int:name>`, `<any(a, b):name>`
VARIABLE = re.compile(r"<(?:(?P<converter>\w+)(?:\((?P<args>[^)]*)\))?:)?(?P<name>\w+)>")

#: the characters `Text` refuses (Unicode Cc, Zl, Zp), less what a multi-line text may hold
ONE_LINE_REFUSED, MULTILINE_REFUSED = apidoc.ONE_LINE_REFUSED, apidoc.MULTILINE_REFUSED


def document(app: Flask) -> dict:
    """The app's OpenAPI document, built on first use, in English whoever asks first."""
    if EXTENSION_KEY not in app.extensions:
        with force_locale("en"):
            app.extensions[EXTENSION_KEY] = build(app)
    return app.extensions[EXTENSION_KEY]


def package_version() -> str:
    try:
        return version("dsr")
    except PackageNotFoundError:
        return "0"


class Plugin(MarshmallowPlugin):
    """apispec's, adding to a schema's component the JSON Schema keywords of its class's
    `openapi_rules`: the rules between fields that its `validates_schema` checks."""

    def schema_helper(self, name, _, schema=None, **kwargs):
        json_schema = super().schema_helper(name, _, schema=schema, **kwargs)
        rules = getattr(schema, "openapi_rules", None)
        return {**json_schema, **rules} if json_schema is not None and rules else json_schema


def build(app: Flask) -> dict:
    """Assemble the document: the request's schema, then one operation per documented route."""
    plugin = Plugin()
    spec = APISpec(
        title="dsr API",
        version=package_version(),
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        servers=[{"url": app.config["BASE_URL"].rstrip("/") + PREFIX}],
        info={
            "description": "Data-subject rights requests (GDPR, Loi Informatique et "
            "Libertés): intake and health; the privacy team's queue and cases (bearer "
            "tokens); connector callbacks."
        },
    )
    plugin.map_to_openapi_type(Email, "string", "email")
    plugin.converter.add_attribute_function(text_properties)
    spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "From `flask dsr token create`."},
    )
    add_request_schema(spec, plugin)
    for rule in app.url_map.iter_rules():
        operation = getattr(app.view_functions[rule.endpoint], "openapi_operation", None)
        if operation is not None:
            role = getattr(app.view_functions[rule.endpoint], "required_role", None)
            path, parameters = openapi_path(rule.rule)
            entry = operation_object(operation, parameters, role)
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            spec.path(path=path, operations={method.lower(): entry for method in methods})
    return spec.to_dict()


def text_properties(self, field, ret, **kwargs) -> dict:
    """A `Text` is trimmed and blank counts as missing: at least one visible character,
    and none of the control characters it refuses."""
    if not isinstance(field, Text):
        return {}
    refused = MULTILINE_REFUSED if field.multiline else ONE_LINE_REFUSED
    extra = {} if "minLength" in ret else {"minLength": 1}
    if "pattern" not in ret:
        extra["pattern"] = rf"^[^{refused}]*[^\s{refused}][^{refused}]*$"
    return extra


def openapi_path(route: str) -> tuple[str, list[dict]]:
    """`/api/v1/tasks/<task_id>/withheld/<any(release, discard):decision>` as the document's
    path (`/tasks/{task_id}/withheld/{decision}`) and its path parameters."""
    parameters = []
    for match in VARIABLE.finditer(route):
        name = match["name"]
        schema = {"type": "integer" if match["converter"] == "int" else "string"}
        if match["converter"] == "any":
            schema["enum"] = [item.strip(" '\"") for item in match["args"].split(",")]
        known = dict(apidoc.PATH_PARAMETERS[name])  # a new name: describe it there
        description = known.pop("description")
        parameters.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": {**schema, **known},
            }
        )
    return VARIABLE.sub(r"{\g<name>}", route.removeprefix(PREFIX)), parameters


def operation_object(operation: apidoc.Operation, parameters: list, role) -> dict:
    """The OpenAPI operation: what `documented` said, and what the route and the role add."""
    responses = {
        **(
            {status: text for status, text in operation.body_errors.items()}
            if operation.body
            else {}
        ),
        **operation.responses,
    }
    entry = {
        "operationId": operation.operation_id,
        "summary": operation.summary,
        "parameters": parameters + operation.parameters,
    }
    if operation.description:
        entry["description"] = operation.description
    if operation.body is not None:
        entry["requestBody"] = {"required": True, "content": apidoc.json_content(operation.body)}
    if operation.tags:
        entry["tags"] = operation.tags
    if role is not None:
        entry["tags"] = ["staff"]
        entry["security"] = [{"bearerAuth": []}]
        responses.update(apidoc.AUTH_ERRORS)
    entry["responses"] = {
        str(status): apidoc.response(value) for status, value in sorted(responses.items())
    }
    if not entry["parameters"]:
        del entry["parameters"]
    return entry


def details_name(type_name: str) -> str:
    """`consent_withdrawal` -> `ConsentWithdrawalDetails`."""
    return "".join(part.title() for part in type_name.split("_")) + "Details"


def add_request_schema(spec: APISpec, plugin: MarshmallowPlugin) -> None:
    """`NewRequest`: the intake envelope, its `details` documented per type."""
    refs = {}
    for definition in workflows.definitions():
        name = details_name(definition.name)
        schema = definition.details_schema
        spec.components.schema(name, schema=schema)
        component = spec.components.schemas[name]
        component["description"] = (
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
    # one branch per type (exactly one matches: `type` is required); plainer than if/then,
    # which tools that generate requests from the document do not all support
    envelope["oneOf"] = [
        {"properties": {"type": {"const": type_name}, "details": ref}}
        for type_name, ref in refs.items()
    ]
    for branch, name in zip(envelope["oneOf"], map(details_name, refs), strict=True):
        if spec.components.schemas[name].get("required"):  # an absent `details` is `{}`
            branch["required"] = ["details"]
    spec.components.schema("NewRequest", envelope)
