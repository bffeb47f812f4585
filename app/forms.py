"""Helpers shared by every feature's forms."""

from urllib.parse import urlsplit

import flask_wtf
from flask import request
from flask_wtf.form import _Auto
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import DecimalField, FileField, Form, MultipleFileField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from app.errors import DomainError

# The largest id, version or count a database integer column holds: PostgreSQL's `integer`.
MAX_ID = 2**31 - 1


def database_int(value) -> int:
    """`int()` for a number bound for the database (`request.form.get(…, type=database_int)`):
    one no integer column can hold is a ValueError, hence no value, never an overflow (a 500)
    at the first query that uses it."""
    number = int(value)
    if not -MAX_ID <= number <= MAX_ID:
        raise ValueError(value)
    return number


class FlaskForm(flask_wtf.FlaskForm):
    """Every form of the app. Flask-WTF hands a form all of a request's files mixed with its
    text fields, and the JSON body of a JSON request: a file part named `title`, or
    `{"title": 5}`, reached a text field as a FileStorage or an int and came back as a 500
    (len() of it in `Length`, `.strip()` in a service). Here a file reaches only a file field,
    and a form is read from a form body only (no HTML page of the app posts JSON)."""

    class Meta:
        def get_translations(self, form):
            from app.i18n import wtforms_messages

            return wtforms_messages

        def wrap_formdata(self, form, formdata):
            if formdata is not _Auto:
                return formdata
            if not request or request.method not in flask_wtf.form.SUBMIT_METHODS:
                return None
            file_fields = {f.name for f in form if isinstance(f, FileField | MultipleFileField)}
            files = MultiDict(
                (name, file) for name, file in request.files.items(multi=True)
                if name in file_fields
            )  # fmt: skip
            if files:
                return CombinedMultiDict((files, request.form))
            return request.form or None


class PageForms:
    """The forms a page may show, each built the first time its template reads it
    (`forms.terms`): a change request's page can hold eight, and shows two or three at each
    step. `given` are the forms posted back with their errors, shown instead."""

    def __init__(self, given: dict | None = None, **builders):
        self._forms, self._builders = dict(given or {}), builders

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in self._builders:
            raise AttributeError(name)
        if name not in self._forms:
            self._forms[name] = self._builders[name]()
        return self._forms[name]


class Subform(Form):
    """A form repeated inside another (FieldList of FormField): without this, its fields'
    messages (« Not a valid choice », « Not a valid decimal value ») stayed in English."""

    class Meta:
        def get_translations(self, form):
            from app.i18n import wtforms_messages

            return wtforms_messages


def error_messages(errors) -> list[str]:
    """A field's errors as plain messages: a FieldList of subforms nests them in lists and
    dicts, which the error summary showed as « {'side': ['…']} »."""
    if isinstance(errors, dict):
        errors = list(errors.values())
    if isinstance(errors, list | tuple):
        return [message for entry in errors for message in error_messages(entry)]
    return [str(errors)] if errors else []


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
