from flask_babel import lazy_gettext as _l
from wtforms import RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from app.auth.forms import email_field
from app.forms import FlaskForm

SIDE_CHOICES = [
    SelectChoice("acheteur", _l("Acheteur")),
    SelectChoice("titulaire", _l("Titulaire")),
]
ROLE_CHOICES = [
    SelectChoice("referent", _l("Référent : pilote le plan, donne le visa de sa partie")),
    SelectChoice("contributeur", _l("Contributeur : participe à l'élaboration et au suivi")),
    SelectChoice("observateur", _l("Observateur : consulte sans modifier")),
]


class InvitationForm(FlaskForm):
    email = email_field(
        _l("Adresse e-mail de la personne invitée"),
        _l("Indiquez l'adresse e-mail de la personne invitée."),
    )
    full_name = StringField(
        _l("Prénom et nom"), validators=[Length(max=120)], render_kw={"autocomplete": "off"}
    )
    side = RadioField(
        _l("Partie"),
        choices=SIDE_CHOICES,
        validators=[DataRequired(_l("Choisissez la partie de la personne invitée."))],
    )
    role = RadioField(
        _l("Rôle"),
        choices=ROLE_CHOICES,
        validators=[DataRequired(_l("Choisissez le rôle de la personne invitée."))],
    )
