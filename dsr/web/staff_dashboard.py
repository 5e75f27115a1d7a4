"""The privacy team's dashboard (`dsr.dashboard`) and the register of requests as a CSV
(`dsr.accountability`), for every signed-in staff member; views on the staff blueprint."""

from flask import Response, render_template, stream_with_context
from flask_babel import format_date, format_decimal, format_percent
from flask_login import current_user

from dsr import audit, caseload, dashboard
from dsr.extensions import db
from dsr.models import StaffRole
from dsr.web import chart, register_csv
from dsr.web.auth import role_required
from dsr.web.staff import bp

VIEWER = StaffRole.VIEWER


@bp.get("/dashboard")
@role_required(VIEWER)
def dashboard_page():
    """Open cases, overdue ones, answers on time and the monthly chart."""
    figures = dashboard.figures()
    return render_template(
        "staff/dashboard.html",
        figures=figures,
        chart=chart.layout(figures.months),
        open_statuses=[str(s) for s in dashboard.OPEN_STATUSES],
        since=format_date(figures.since, "long"),
        percent=lambda value: format_percent(value / 100, "#,##0.#%"),
        decimal=lambda value: format_decimal(value, "#,##0.#"),
    )


@bp.get("/register.csv")
@role_required(VIEWER)
def register():
    """Every request's dates, right, outcome and timeliness; its download is an audit event."""
    today = caseload.local_today()
    audit.record("register.exported", actor=current_user.actor, data={"date": today.isoformat()})
    db.session.commit()
    response = Response(
        stream_with_context(register_csv.chunks()), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="register-of-requests-{today.isoformat()}.csv"'
    )
    return response
