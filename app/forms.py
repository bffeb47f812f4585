"""Helpers shared by every feature's forms."""

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import DecimalField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from app.errors import DomainError


def attach_error(form: FlaskForm, error: DomainError) -> None:
    """Show a service's refusal next to its field (or at the top of the form)."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def attempt(action, form) -> int | None:
    """Run a service call for a posted form: None when it went through. Otherwise the
    transaction is rolled back, the refusal shown on the form (its text kept), and the status to
    answer returned: 409 if the thing changed meanwhile, 422 for bad input. A refusal of the
    person's right (403) goes up to the error pages."""
    from app.errors import Conflict
    from app.extensions import db

    try:
        action()
    except Conflict as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return 409
    except DomainError as error:
        db.session.rollback()
        if error.status == 403:
            raise
        attach_error(form, error)
        return 422
    return None


def is_local_url(target: str | None) -> bool:
    """Only paths of this site: never another host, never a scheme-relative `//host`."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


class FrenchDecimalField(DecimalField):
    """Accepts « 1 250 000,50 » as typed in France, as well as « 1250000.50 »; shows « 12500,50 ».

    A text input, not type=number: browsers' number inputs refuse a decimal comma."""

    widget = TextInput()

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else format(self.data, "f").replace(".", ",")

    def process_formdata(self, valuelist):
        if valuelist:
            raw = valuelist[0] or ""
            for space in (" ", "\u00a0", "\u202f", "€"):
                raw = raw.replace(space, "")
            if not raw:  # an empty optional amount is None, not an error
                self.data = None
                return
            valuelist = [raw.replace(",", ".")]
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():  # NaN, Infinity
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

    def pre_validate(self, form):
        if self.process_errors:  # « not a number » says it all: no « must be positive » too
            raise StopValidation()
