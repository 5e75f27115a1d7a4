"""The page a staff member opens from a password link to choose a new password.

No sign-in needed: the signed link is the proof (`dsr.password_reset`). The
GET only shows the form, so a mail scanner that fetches the link uses
nothing up; the POST sets the password, which voids the link.
"""

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from dsr import password_reset
from dsr.extensions import db
from dsr.staff import MIN_PASSWORD_LENGTH
from dsr.web.staff import bp
from dsr.web.staff_user_forms import NewPasswordForm

logger = logging.getLogger(__name__)

#: the answer to each refused link
REFUSED_STATUS = {"expired": 410, "invalid": 400, "used": 409}


@bp.route("/password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """The new-password form; a refused link gets a page that says what to do."""
    try:
        account = password_reset.account_for(token, lock=request.method == "POST")
    except password_reset.LinkRefused as exc:
        db.session.rollback()
        page = render_template("staff/password_link_refused.html", problem=exc.problem)
        return page, REFUSED_STATUS[exc.problem]
    form = NewPasswordForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        page = render_template(
            "staff/password.html", form=form, account=account, min_length=MIN_PASSWORD_LENGTH
        )
        return page, status
    password_reset.reset(account, form.password.data)  # the form checked staff's rules
    db.session.commit()
    logger.info("staff %s chose a new password through a link", account.email)
    flash(_("Your new password is set. Sign in with it."))
    return redirect(url_for("staff.login"), 303)
