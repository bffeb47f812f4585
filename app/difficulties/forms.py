from flask_babel import lazy_gettext as _l
from wtforms import (
    HiddenField,
    MultipleFileField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.difficulties.models import CATEGORIES, SEVERITIES
from app.difficulties.services import TEXT_MAX, TITLE_MAX
from app.forms import FlaskForm
from app.plan.forms import MultiCheckboxField
from app.threads.forms import MessageForm  # noqa: F401  (the difficulty page's thread)


class DifficultyForm(FlaskForm):
    title = StringField(
        _l("Objet"),
        validators=[DataRequired(_l("Donnez un objet à la difficulté.")), Length(max=TITLE_MAX)],
        description=_l("En une ligne : « Retard de livraison des tissus recyclés »."),
    )
    category = SelectField(
        _l("Catégorie"),
        choices=[
            SelectChoice("", _l("— Choisir —")),
            *(SelectChoice(k, v) for k, v in CATEGORIES.items()),
        ],
        validators=[DataRequired(_l("Choisissez une catégorie."))],
    )
    severity = SelectField(
        _l("Gravité"),
        choices=[
            SelectChoice("", _l("— Choisir —")),
            *(SelectChoice(k, v) for k, v in SEVERITIES.items()),
        ],
        validators=[DataRequired(_l("Choisissez une gravité."))],
        description=_l(
            "Critique : l'exécution du marché ou l'atteinte d'un objectif est compromise."
        ),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=TEXT_MAX)],
        description=_l(
            "Ce qui se passe, depuis quand, ce que cela empêche. Mise en forme Markdown acceptée."
        ),
        render_kw={"rows": 6},
    )
    request = TextAreaField(
        _l("Ce que vous attendez de l'autre partie"),
        validators=[Length(max=TEXT_MAX)],
        render_kw={"rows": 3},
    )
    items = MultiCheckboxField(_l("Éléments du plan concernés"), choices=[], validate_choice=False)
    files = MultipleFileField(_l("Pièces justificatives"))


class TransitionForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField(
        _l("Commentaire"), validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3}
    )
