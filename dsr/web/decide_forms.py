"""The case page's forms for extending, refusing, closing, noting and merging
(`templates/staff/_decide.html`); Flask-WTF, each with its CSRF token and a prefix of
its own, so that their fields never share an id on the page (the merge buttons carry
only the hidden `into`)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from dsr import exemptions
from dsr.decisions import TEXT_LIMIT
from dsr.i18n import current_locale
from dsr.notes import NOTE_LIMIT
from dsr.web.staff_forms import plain_text


def reasons(label, message) -> TextAreaField:
    return TextAreaField(
        label, validators=[DataRequired(message), Length(max=TEXT_LIMIT), plain_text]
    )


class ExtendForm(FlaskForm):
    months = RadioField(
        _l("By how long"),
        choices=[
            SelectChoice("2", _l("Two further months")),
            SelectChoice("1", _l("One further month")),
        ],
        default="2",
        validators=[InputRequired(_l("Choose how long."))],
    )
    reason = reasons(
        _l("Why more time is needed (the person reads it)"),
        _l("Give the reasons for the extension: the person reads them."),
    )


class RejectForm(FlaskForm):
    ground = RadioField(
        _l("Ground"),
        choices=[SelectChoice(code, label) for code, label in exemptions.GROUNDS.items()],
        validators=[InputRequired(_l("Choose the ground of the refusal."))],
    )
    exemption = SelectField(_l("Exemption (for that ground)"))
    explanation = reasons(
        _l("Explanation (the person reads it)"),
        _l("Explain the refusal: the person reads it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.exemption.choices = [("", _l("None"))] + exemptions.choices(current_locale())

    def validate_exemption(self, field):
        if self.ground.data == "exemption" and not field.data:
            raise ValidationError(_l("Choose the exemption the law provides."))


class CloseForm(FlaskForm):
    reason = reasons(
        _l("How the answer went out (the person reads it)"),
        _l("Say how the answer went out."),
    )


class NoteForm(FlaskForm):
    text = TextAreaField(
        _l("Note (staff only)"),
        validators=[DataRequired(_l("Write the note.")), Length(max=NOTE_LIMIT), plain_text],
    )


class MergeForm(FlaskForm):
    into = HiddenField(validators=[DataRequired(_l("Name another request by its reference."))])
