from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.forms import FlaskForm
from app.threads.services import MAX_BODY


class MessageForm(FlaskForm):
    body = TextAreaField(
        _l("Votre message"),
        validators=[
            DataRequired(_l("Écrivez votre message avant de l'envoyer.")),
            Length(max=MAX_BODY),
        ],
        description=_l(
            "Mentionnez un membre avec @ suivi de son nom, par exemple @Claire Martin. Mise en forme Markdown acceptée."
        ),
        render_kw={"rows": 3},
    )
    internal = BooleanField(_l("Note interne : visible seulement de votre partie"))
