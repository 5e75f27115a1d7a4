"""The forms of user administration and of the password link (Flask-WTF: each with CSRF)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from dsr.models import StaffRole
from dsr.staff import MIN_PASSWORD_LENGTH


def role_choices() -> list[tuple[str, str]]:
    return [(str(role), role.title) for role in StaffRole]


class NewUserForm(FlaskForm):
    """An admin creates an account; its owner chooses the password through an emailed link."""

    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter the email address.")),
            Length(max=254),
            Regexp(
                r"^[^@\s]+@[^@\s]+$", message=_l("Enter an email address like ana@example.org.")
            ),
        ],
    )
    role = SelectField(_l("Role"), choices=role_choices, default=str(StaffRole.HANDLER))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class NewPasswordForm(FlaskForm):
    """The owner's new password, chosen through the emailed link."""

    password = PasswordField(
        _l("New password"),
        validators=[
            DataRequired(_l("Enter a password.")),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1024,
                message=_l(
                    "The password must have between %(min)d and %(max)d characters.",
                    min=MIN_PASSWORD_LENGTH,
                    max=1024,
                ),
            ),
        ],
    )
    confirm = PasswordField(
        _l("The same password again"),
        validators=[EqualTo("password", message=_l("The two passwords differ."))],
    )
