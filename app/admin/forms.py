from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.auth.forms import email_field
from app.forms import FlaskForm, FrenchDecimalField


class OrganisationForm(FlaskForm):
    name = StringField(
        _l("Nom"), validators=[DataRequired(_l("Indiquez le nom.")), Length(max=200)]
    )
    siret = StringField(
        _l("SIRET"),
        validators=[DataRequired(_l("Indiquez le numéro SIRET.")), Length(max=20)],
        description=_l("14 chiffres, espaces acceptés."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    kind = SelectField(
        _l("Type"),
        choices=[
            SelectChoice("acheteur_public", _l("Acheteur public")),
            SelectChoice("entreprise", _l("Entreprise")),
        ],
    )
    size = SelectField(
        _l("Taille (entreprise)"),
        choices=[
            SelectChoice("", _l("— (acheteur public)")),
            SelectChoice("TPE", _l("TPE")),
            SelectChoice("PME", _l("PME")),
            SelectChoice("ETI", _l("ETI")),
            SelectChoice("GE", _l("Grande entreprise")),
        ],
        validators=[Optional()],
    )
    ess = BooleanField(_l("Structure de l'économie sociale et solidaire (ESS)"))


class ContractForm(FlaskForm):
    reference = StringField(
        _l("Référence du marché"),
        validators=[DataRequired(_l("Indiquez la référence.")), Length(max=50)],
    )
    object = StringField(
        _l("Objet"), validators=[DataRequired(_l("Indiquez l'objet du marché.")), Length(max=300)]
    )
    category = SelectField(
        _l("Catégorie"),
        choices=[
            SelectChoice("fournitures", _l("Fournitures")),
            SelectChoice("services", _l("Services")),
            SelectChoice("travaux", _l("Travaux")),
        ],
    )
    buyer_organisation_id = SelectField(_l("Acheteur"), coerce=int)
    buyer_service = StringField(_l("Service de l'acheteur"), validators=[Length(max=200)])
    supplier_organisation_id = SelectField(_l("Titulaire"), coerce=int)
    notification_date = DateField(
        _l("Date de notification"),
        validators=[InputRequired(_l("Indiquez une date valide (jj/mm/aaaa)."))],
    )
    duration_months = IntegerField(
        _l("Durée (mois)"),
        validators=[
            InputRequired(_l("Indiquez la durée en mois.")),
            NumberRange(1, 600, _l("La durée va de 1 à 600 mois.")),
        ],
    )
    initial_amount_ht = FrenchDecimalField(
        _l("Montant initial HT (€)"),
        places=2,
        validators=[
            InputRequired(_l("Indiquez le montant, par exemple 1 250 000,00.")),
            NumberRange(0, 999_999_999_999, _l("Indiquez un montant positif.")),
        ],
        render_kw={"inputmode": "decimal"},
    )
    plan_deadline = DateField(
        _l("Date limite d'élaboration du plan"),
        validators=[Optional()],
        description=_l("Laissez vide : six mois après la notification."),
    )
    min_reviews_per_year = IntegerField(
        _l("Revues minimales par an"),
        default=2,
        validators=[Optional(), NumberRange(1, 12, _l("Entre 1 et 12 revues par an."))],
    )
    progress_clause = TextAreaField(
        _l("Clause de progrès"),
        description=_l("Texte de la clause, en Markdown (titres, listes, gras)."),
        render_kw={"rows": 10},
    )
    lead_email = email_field(
        _l("Adresse e-mail du référent acheteur"),
        _l("Indiquez l'adresse e-mail du référent acheteur."),
    )
    lead_name = StringField(_l("Prénom et nom du référent acheteur"), validators=[Length(max=120)])
