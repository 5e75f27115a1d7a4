"""What every template (page or email) may use: the controller, titles, local dates."""

from datetime import datetime

from flask import Flask, current_app
from flask_babel import format_date, format_datetime

import workflows
from dsr import deadlines
from dsr.status import RequestStatus


def controller_timezone() -> str:
    return current_app.config["INSTANCE"]["controller"].get("timezone", "Europe/Paris")


def localdate(instant: datetime | None, format: str = "long") -> str:
    """An instant as a date in the controller's time zone, in the current language."""
    if instant is None:
        return ""
    return format_date(deadlines.local_date(instant, controller_timezone()), format)


def localdatetime(instant: datetime | None, format: str = "medium") -> str:
    """An instant as date and time in the controller's time zone."""
    if instant is None:
        return ""
    from zoneinfo import ZoneInfo

    return format_datetime(
        instant.astimezone(ZoneInfo(controller_timezone())).replace(tzinfo=None), format
    )


def type_title(name: str) -> str:
    try:
        return str(workflows.get(name).title)
    except KeyError:
        return name


def status_title(status: str) -> str:
    return str(RequestStatus(status).title)


def template_globals() -> dict:
    instance = current_app.config["INSTANCE"]
    return {
        "controller": instance["controller"],
        "authority": instance.get("authority", {}),
        "request_types": workflows.definitions(),
        "type_title": type_title,
        "status_title": status_title,
    }


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["localdatetime"] = localdatetime
    app.context_processor(template_globals)
