from flask_babel import lazy_gettext as _l
from wtforms import FileField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.forms import FlaskForm
from app.indicators.services import COMMENT_MAX


class ValueForm(FlaskForm):
    """One period's value. The number stays text: the service reads French decimals."""

    period_start = HiddenField()
    version = HiddenField()
    value = StringField(
        _l("Valeur"),
        validators=[DataRequired(_l("Indiquez la valeur, par exemple 12,5.")), Length(max=40)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    comment = TextAreaField(_l("Commentaire (source, méthode, écart…)"),
                            validators=[Length(max=COMMENT_MAX)], render_kw={"rows": 2})  # fmt: skip
    evidence = FileField(_l("Justificatif (facultatif)"))


class ValidationForm(FlaskForm):
    version = HiddenField()
    decision = RadioField(
        _l("Votre avis"),
        choices=[
            SelectChoice("validee", _l("Valider")),
            SelectChoice("questionnee", _l("Questionner")),
        ],
        validators=[DataRequired(_l("Choisissez : valider ou questionner."))],
    )
    note = TextAreaField(_l("Note (obligatoire pour questionner)"),
                         validators=[Length(max=COMMENT_MAX)], render_kw={"rows": 2})  # fmt: skip
