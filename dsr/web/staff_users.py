"""User administration: the staff accounts, their roles, activity, lockouts, password links
and API tokens (the changes themselves are `dsr.staff`'s and `dsr.password_reset`'s).

Views on the staff blueprint (`dsr.web.staff.bp`), for admins only: handlers
and viewers get 403. Every POST carries its CSRF token (the app's CSRFProtect)
and redirects back to the account's page; every change is an audit event.
"""

import secrets

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from dsr import password_reset, staff
from dsr.extensions import db
from dsr.models import ApiToken, StaffRole, StaffUser
from dsr.models.types import utcnow
from dsr.web.auth import role_required
from dsr.web.staff import bp
from dsr.web.staff_user_forms import NewUserForm, RoleForm

ADMIN = StaffRole.ADMIN


@bp.context_processor
def admin_globals() -> dict:
    """The staff header shows the users page to admins (`templates/staff/layout.html`)."""
    return {"ADMIN": ADMIN}


def account_or_404(user_id: int) -> StaffUser:
    return db.session.get(StaffUser, user_id) or abort(404)


def back(account: StaffUser):
    return redirect(url_for("staff.account", user_id=account.id), 303)


@bp.get("/users")
@role_required(ADMIN)
def users():
    """Every account: role, active or not, locked or not, last sign-in; and a new one."""
    return users_page(NewUserForm())


def users_page(form: NewUserForm) -> str:
    return render_template("staff/users.html", users=staff.all_users(), form=form, now=utcnow())


@bp.post("/users")
@role_required(ADMIN)
def new_user():
    """A new account, whose owner chooses the password through an emailed link."""
    form = NewUserForm()
    if not form.validate_on_submit():
        return users_page(form), 400
    if staff.find_user(form.email.data) is not None:
        form.email.errors.append(_("An account with this address exists already."))
        return users_page(form), 400
    # a password nobody knows, until the owner chooses one with the link
    unknown = secrets.token_urlsafe(32)
    account = staff.create_user(form.email.data, form.role.data, unknown, actor=current_user.actor)
    password_reset.link_requested(account, actor=current_user.actor)
    db.session.commit()
    password_reset.mail_link(account, new_account=True)
    flash(
        _(
            "Account created; a link to choose a password was sent to %(email)s.",
            email=account.email,
        )
    )
    return back(account)


@bp.get("/users/<int:user_id>")
@role_required(ADMIN)
def account(user_id: int):
    """One account: its state, what an admin can change, and its API tokens."""
    found = account_or_404(user_id)
    return render_template(
        "staff/user.html",
        account=found,
        role_form=RoleForm(role=found.role),
        tokens=staff.tokens_of(found),
        now=utcnow(),
    )


def changed(found: StaffUser, change, done: str):
    """Apply `change`, commit and say `done`; or say why the last admin must stay."""
    try:
        change()
    except staff.LastAdmin:
        db.session.rollback()
        flash(
            _(
                "%(email)s is the last active administrator: make another account an "
                "administrator first.",
                email=found.email,
            ),
            "error",
        )
        return back(found)
    db.session.commit()
    flash(done)
    return back(found)


@bp.post("/users/<int:user_id>/role")
@role_required(ADMIN)
def change_role(user_id: int):
    found = account_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose one of the roles."), "error")
        return back(found)
    role = StaffRole(form.role.data)
    return changed(
        found,
        lambda: staff.set_role(found, role, actor=current_user.actor),
        _("The role is now: %(role)s.", role=role.title),
    )


@bp.post("/users/<int:user_id>/deactivate")
@role_required(ADMIN)
def deactivate(user_id: int):
    """No more sign-in, sessions or API tokens for this account, from now on."""
    found = account_or_404(user_id)
    return changed(
        found,
        lambda: staff.set_active(found, False, actor=current_user.actor),
        _("Account deactivated: its sessions ended and its API tokens are refused."),
    )


@bp.post("/users/<int:user_id>/activate")
@role_required(ADMIN)
def activate(user_id: int):
    found = account_or_404(user_id)
    return changed(
        found,
        lambda: staff.set_active(found, True, actor=current_user.actor),
        _("Account active again."),
    )


@bp.post("/users/<int:user_id>/unlock")
@role_required(ADMIN)
def unlock(user_id: int):
    """Lift the lockout after wrong passwords."""
    found = account_or_404(user_id)
    return changed(
        found, lambda: staff.unlock(found, actor=current_user.actor), _("Account unlocked.")
    )


@bp.post("/users/<int:user_id>/password-link")
@role_required(ADMIN)
def send_password_link(user_id: int):
    """Email the owner a one-time link to choose a new password."""
    found = account_or_404(user_id)
    if not found.active:
        flash(_("This account is deactivated: activate it before sending a link."), "error")
        return back(found)
    password_reset.link_requested(found, actor=current_user.actor)
    db.session.commit()
    password_reset.mail_link(found)
    flash(_("A link to choose a new password was sent to %(email)s.", email=found.email))
    return back(found)


@bp.post("/users/<int:user_id>/tokens/<int:token_id>/revoke")
@role_required(ADMIN)
def revoke_token(user_id: int, token_id: int):
    found = account_or_404(user_id)
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != found.id:
        abort(404)
    return changed(
        found,
        lambda: staff.revoke_token(token.id, actor=current_user.actor),
        _("API token %(id)d revoked.", id=token.id),
    )
