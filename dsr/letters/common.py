"""What every answer letter shares: the controller, its DPO and the authority; what each
system did; the writing of the DOCX from a template.

A letter module builds only what its right adds to `base_context`, and calls `letter_bytes`.
The templates share their header, request table, systems table, rights and closing as
partials (`templates/letters/_*.html`).
"""

import io
from collections.abc import Mapping
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale

from dsr import systems
from dsr.export.errors import PackError
from dsr.letters import blocks, docx_render
from dsr.letters.register import purposes
from dsr.models import DataRequest, Task
from dsr.models.types import utcnow


class MissingDecision(PackError):
    """A letter that needs a handler's decision the request does not have: the release
    stops with this message on the case page."""


def letter_bytes(
    request: DataRequest, template: str, context: Mapping, answered_at: datetime | None = None
) -> bytes:
    """The letter `template` renders for `request` in its language, with `context` added to
    `base_context`, as the bytes of a DOCX file; `answered_at` defaults to now."""
    full = {**base_context(request, answered_at or utcnow()), **context}
    with force_locale(request.language):
        markup = render_template(template, **full)
    stream = io.BytesIO()
    docx_render.write(blocks.parse(markup), stream, language=request.language, footer=request.ref)
    return stream.getvalue()


def base_context(request: DataRequest, answered_at: datetime) -> dict:
    """What the shared partials need: the request, the answer's date, the controller, its
    DPO and the supervisory authority (instance TOML)."""
    instance = current_app.config["INSTANCE"]
    controller = instance["controller"]
    return {
        "request": request,
        "answered_at": answered_at,
        "controller": controller,
        "dpo": controller.get("dpo") or {},
        "authority": instance.get("authority") or {},
    }


def tasks_of(request: DataRequest, action: str) -> list[Task]:
    return [task for task in request.tasks if task.action == action]


def results(request: DataRequest, action: str, register: Mapping | None = None) -> list[dict]:
    """Per system asked to do `action`: its label, the task's status, the summary the
    system gave (`outcome`, quoted as it is) and, with `register`, the purposes of the
    activities it was told about (`details["activities"]`)."""
    return [result(task, register) for task in tasks_of(request, action)]


def result(task: Task, register: Mapping | None = None) -> dict:
    named = (task.details or {}).get("activities") or []
    language = task.request.language
    return {
        "connector": task.connector,
        "label": label(task.connector),
        "status": task.status,
        "outcome": task.outcome or "",
        "activities": purposes(register, named, language) if register is not None else [],
    }


def label(connector: str) -> str:
    """A system's name as the instance TOML labels it."""
    built = systems.get(connector)
    if built is not None:
        return built.label
    declared = current_app.config["INSTANCE"].get("connectors", {}).get(connector, {})
    return declared.get("label") or connector
