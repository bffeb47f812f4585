from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField
from wtforms.validators import AnyOf, DataRequired, NumberRange
from wtforms.widgets import HiddenInput

from app.forms import FlaskForm


class UploadForm(FlaskForm):
    file = FileField(
        _l("Fichier de valeurs (CSV ou XLSX)"),
        validators=[FileRequired(_l("Choisissez le fichier à importer."))],
    )


class ConfirmForm(FlaskForm):
    """The preview's buttons: the file stays on the server, only its id comes back."""

    attachment_id = IntegerField(
        widget=HiddenInput(), validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)]
    )
    # The number of valid rows the person saw: a different count now means something changed.
    expected = IntegerField(
        widget=HiddenInput(), validators=[NumberRange(min=0, max=1_000_000)], default=0
    )
    mode = HiddenField(validators=[AnyOf(("tout", "valides"))])
