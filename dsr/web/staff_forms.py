"""The staff pages' forms (Flask-WTF: each carries its CSRF token)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from workflows.fields import CONTROL, forbidden_characters


def plain_text(form, field) -> None:
    """A free text without control characters (line breaks and tabs allowed): what the
    person reads, and what PostgreSQL can store (no NUL)."""
    if field.data and forbidden_characters(field.data, multiline=True):
        raise ValidationError(CONTROL)


#: longest handler's note on a manual task
NOTE_LIMIT = 2000


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=1024)]
    )
    #: where to go once signed in; checked by `auth.safe_next` before use
    next = HiddenField()


class OutcomeForm(FlaskForm):
    """A handler's outcome for a task done by hand; prefixed with the task id on the page."""

    result = RadioField(
        _l("Result"),
        choices=[
            SelectChoice("succeeded", _l("Done")),
            SelectChoice("failed", _l("Could not be done")),
        ],
        validators=[InputRequired(_l("Choose a result."))],
    )
    note = TextAreaField(
        _l("What was done"),
        validators=[
            DataRequired(_l("Say what was done, or why it could not be.")),
            Length(max=NOTE_LIMIT),
        ],
    )


class ProveForm(FlaskForm):
    """A handler holds a claimed identifier proven; prefixed per identifier on the page."""

    value = HiddenField(validators=[DataRequired()])
    note = TextAreaField(
        _l("What proves it"),
        validators=[
            DataRequired(_l("Say what you looked at to hold this identifier proven.")),
            Length(max=NOTE_LIMIT),
        ],
    )
