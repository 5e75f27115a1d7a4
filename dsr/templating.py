"""What every template (page or email) may use: the controller, titles, local dates and times.

Times are shown in the controller's time zone (`[controller] timezone` in the instance
TOML), or in UTC when it names none, always followed by the zone's abbreviation
("27 Nov 2026, 18:05 CET"), so that nobody has to guess which clock they read.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import get_datetime_format
from flask import Flask, current_app
from flask_babel import format_date, format_time, get_locale
from flask_babel import gettext as _

import workflows
from dsr import deadlines
from dsr.status import RequestStatus


def controller_timezone() -> str:
    """The zone the controller's times are shown in: the instance's, else UTC."""
    return current_app.config["INSTANCE"]["controller"].get("timezone") or "UTC"


def localdate(instant: datetime | None, format: str = "long") -> str:
    """An instant as a date in the controller's time zone, in the current language."""
    if instant is None:
        return ""
    return format_date(deadlines.local_date(instant, controller_timezone()), format)


def local(instant: datetime) -> datetime:
    """`instant` (naive: UTC) in the controller's time zone."""
    aware = instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant
    return aware.astimezone(ZoneInfo(controller_timezone()))


def zone_name(moment: datetime) -> str:
    """The zone's abbreviation at that moment ("CET", "CEST", "UTC"); a zone that has none
    reads as its offset ("UTC-03")."""
    name = moment.tzname() or "UTC"
    return f"UTC{name}" if name[0] in "+-" else name


def localtime(instant: datetime | None) -> str:
    """An instant as a time of day with its zone ("18:05 CET")."""
    if instant is None:
        return ""
    moment = local(instant)
    return f"{format_time(moment.time(), 'short')} {zone_name(moment)}"


def localdatetime(instant: datetime | None, format: str = "medium") -> str:
    """An instant as date, time (hours and minutes) and zone, in the current language:
    "27 Nov 2026, 18:05 CET"; `format` is the date's ("medium", "short")."""
    if instant is None:
        return ""
    moment = local(instant)
    time = f"{format_time(moment.time(), 'short')} {zone_name(moment)}"
    pattern = get_datetime_format(format, locale=get_locale())
    return pattern.replace("{1}", format_date(moment.date(), format)).replace("{0}", time)


def timezone_note() -> str:
    """One sentence that says which clock the page's times follow."""
    zone = controller_timezone()
    if zone == "UTC":
        return _("Times are shown in UTC.")
    return _("Times are shown in the %(zone)s time zone.", zone=zone)


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
        "timezone_note": timezone_note,
    }


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localdate"] = localdate
    app.jinja_env.filters["localdatetime"] = localdatetime
    app.jinja_env.filters["localtime"] = localtime
    app.context_processor(template_globals)
