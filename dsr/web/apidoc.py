"""How an API view describes itself in the OpenAPI document (`dsr.web.openapi` builds it).

To put an endpoint in `/api/v1/openapi.json`, decorate its view right under the route:

    @bp.post("/requests/<ref>/extend")
    @documented(
        "extendDeadline",
        "Extend the deadline (staff: handler and above)",
        "Art. 12(3): ...",
        body=ExtendBody,  # the marshmallow schema the view gives `load_body`
        responses={
            200: ("Extended; the request.", schemas.RequestDetail),
            404: NOT_FOUND,
            409: "Extended already, or past the first deadline (`not_allowed`).",
        },
    )
    @token_required(HANDLER)
    def extend(ref): ...

and nothing else: the path, its methods and its path parameters come from the
route (each parameter name is described once in `PATH_PARAMETERS`: add a new
name there); `token_required` adds the bearer security and the 401 and 403
answers; `body` adds the request body and `load_body`'s 400, 413, 415 and 422
answers (a 422 given in `responses` keeps its own text). In `responses`, a
text is an error answer (the `Error` shape) and `(description, schema)` a JSON
answer: the schema is the marshmallow class of `dsr.web.schemas` the view
dumps with; a dict is taken as an OpenAPI response object as it is. A schema is
a component named after its class (less a `Schema` suffix): give a new body
schema a name no other schema has. A rule between fields that a body schema's
`validates_schema` checks goes, as JSON Schema keywords, in its `openapi_rules`
(`dsr.web.openapi.Plugin`), or Schemathesis finds schema-valid bodies refused. A
new field of an answer is a field of its output schema, nowhere else. Every route
under /api/v1 must be documented (tests/test_api_schemathesis.py checks it, then
runs Schemathesis on each operation).
"""

from dataclasses import dataclass, field

from dsr.identity.claims import KINDS
from dsr.web import schemas

#: what the document says of each path parameter, by its name in the routes
PATH_PARAMETERS = {
    "ref": {"description": "The request's reference.", "pattern": schemas.REF_PATTERN},
    "task_id": {"description": "The task's id.", "format": "uuid"},
    "kind": {"description": "The identifier's kind.", "enum": list(KINDS)},
    "number": {"description": "Its number, from 1.", "minimum": 1},
    "decision": {"description": "What becomes of the withheld answer."},
}

#: the characters a `workflows.fields.Text` refuses, as a JSON Schema pattern's class
ONE_LINE_REFUSED = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
MULTILINE_REFUSED = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
#: a query text on one line (`workflows.fields.forbidden_characters`)
ONE_LINE_QUERY = rf"^[^{ONE_LINE_REFUSED}]*$"

NOT_FOUND = "No request with this reference (`not_found`)."

BODY_ERRORS = {
    400: "The body is not valid UTF-8 JSON (`invalid_json`).",
    413: "The body is larger than the server accepts.",
    415: "The body is not declared `application/json`.",
    422: "The body is missing a field or has a wrong one (`validation_error`); "
    "`fields` says what to fix, by dotted path.",
}


@dataclass
class Operation:
    """One operation of the document, as `documented` records it on its view."""

    operation_id: str
    summary: str
    description: str
    #: the request body: a marshmallow schema (class), or a component's name
    body: type | str | None = None
    responses: dict = field(default_factory=dict)
    #: parameters besides the path's: query or header parameters, as OpenAPI objects
    parameters: list = field(default_factory=list)
    #: the answers a body adds; `{}` where the view reads its body otherwise (callbacks)
    body_errors: dict = field(default_factory=lambda: dict(BODY_ERRORS))
    tags: list = field(default_factory=list)


def documented(operation_id: str, summary: str, description: str = "", **options):
    """Record the view's `Operation` (see the module's docstring); the view is unchanged."""
    operation = Operation(operation_id, summary, description, **options)

    def decorator(view):
        view.openapi_operation = operation
        return view

    return decorator


def json_content(schema) -> dict:
    return {"application/json": {"schema": schema}}


def response(value) -> dict:
    """A response object from `documented`'s shorthand."""
    if isinstance(value, dict):
        return value
    if isinstance(value, tuple):
        description, schema = value
        return {"description": description, "content": json_content(schema)}
    return {"description": value, "content": json_content(schemas.Error)}


AUTH_ERRORS = {
    401: {
        **response("No bearer token, or one unknown or of an inactive account."),
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    },
    403: "The token's account has a role too low for this.",
}
