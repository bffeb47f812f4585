from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.api.services import EXPIRY_DAYS, NAME_MAX, SCOPES
from app.forms import FlaskForm


def _days(raw) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 0  # refused by the service, in French


class TokenForm(FlaskForm):
    name = StringField(
        _l("Nom du jeton"),
        validators=[
            DataRequired(_l("Donnez un nom au jeton, par exemple « ERP logistique »."))
            , Length(max=NAME_MAX, message=_l("Le nom tient en %(max)d caractères au plus."))
        ],
        description=_l("Le système qui l'utilisera : « ERP logistique », « Tableur du service achats »."),
    )  # fmt: skip
    scope = SelectField(
        _l("Portée"),
        choices=[SelectChoice(key, label) for key, label in SCOPES.items()],
        default="lecture",
        validate_choice=False,  # the service checks it, and who may write
    )
    days = SelectField(
        _l("Valable"),
        choices=[SelectChoice(d, _l("%(n)d jours", n=d)) for d in EXPIRY_DAYS],
        coerce=_days,
        default=EXPIRY_DAYS[-1],
        validate_choice=False,
    )
