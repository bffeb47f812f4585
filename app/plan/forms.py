"""One form per kind of plan item; each carries the version the user started from."""

from flask import request
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.auth.forms import second_factor_field
from app.forms import FlaskForm, FrenchDecimalField, database_int

AXIS_KINDS = [
    SelectChoice("environnemental", _l("Environnemental")),
    SelectChoice("societal", _l("Sociétal")),
    SelectChoice("technique", _l("Technique")),
    SelectChoice("organisationnel", _l("Organisationnel")),
    SelectChoice("financier", _l("Financier")),
]
PRIORITIES = [
    SelectChoice("decarbonation", _l("Décarbonation")),
    SelectChoice("adaptation", _l("Adaptation au changement climatique")),
    SelectChoice("ressources", _l("Préservation des ressources")),
    SelectChoice("vivant", _l("Vivant (santé humaine et biodiversité)")),
]
OBLIGATIONS = [
    SelectChoice("moyens", _l("Obligation de moyens")),
    SelectChoice("resultats", _l("Obligation de résultats")),
]
SIDES = [
    SelectChoice("titulaire", _l("Titulaire")),
    SelectChoice("acheteur", _l("Acheteur")),
    SelectChoice("les_deux", _l("Acheteur et titulaire")),
]
DIRECTIONS = [
    SelectChoice("hausse", _l("À la hausse (plus, c'est mieux)")),
    SelectChoice("baisse", _l("À la baisse (moins, c'est mieux)")),
]
PERIODICITIES = [
    SelectChoice("mensuelle", _l("Mensuelle")),
    SelectChoice("trimestrielle", _l("Trimestrielle")),
    SelectChoice("semestrielle", _l("Semestrielle")),
    SelectChoice("annuelle", _l("Annuelle")),
]
MODES = [
    SelectChoice("immediate", _l("Immédiate (dès le début)")),
    SelectChoice("progressive", _l("Progressive (montée en puissance)")),
]
ACTION_STATUSES = [
    SelectChoice("proposee", _l("Proposée")),
    SelectChoice("validee", _l("Validée")),
    SelectChoice("en_cours", _l("En cours")),
    SelectChoice("realisee", _l("Réalisée")),
    SelectChoice("abandonnee", _l("Abandonnée")),
]
MARKDOWN_HINT = _l("Mise en forme simple possible : **gras**, listes à puces (- …), liens.")
AMOUNT_INVALID = _l("Indiquez un nombre, par exemple 12,5.")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def markdown_field(label, **kwargs):
    return TextAreaField(
        label, description=MARKDOWN_HINT, render_kw={"rows": 4, "data-markdown": "1"}, **kwargs
    )


def optional_number(label, **kwargs):
    return FrenchDecimalField(
        label,
        places=2,
        validators=[Optional(), NumberRange(-999_999_999_999, 999_999_999_999, AMOUNT_INVALID)],
        render_kw={"inputmode": "decimal"},
        **kwargs,
    )


class ItemForm(FlaskForm):
    """Forms are prefixed (several sit on one page); the app-wide CSRFProtect checks the
    unprefixed token every plan form also carries, so the form's own check is off."""

    class Meta:
        csrf = False

    base_version = HiddenField()
    KIND = ""

    def values(self) -> dict:
        """What the user sent, by model field. A field the request did not carry is left out
        (it is not a change of the user's); checkboxes count as sent, since an unticked box
        sends nothing; an empty text is "" (never None)."""
        sent = request.form
        result = {}
        for name, field in self._fields.items():
            if name == "base_version":
                continue
            if field.type not in ("BooleanField", "MultiCheckboxField") and field.name not in sent:
                continue
            value = field.data
            if value is None and field.type in ("StringField", "TextAreaField"):
                value = ""
            result[name] = value
        return result

    def base(self) -> int | None:
        try:
            return database_int(self.base_version.data)
        except (TypeError, ValueError):
            return None


class AxisForm(ItemForm):
    KIND = "axe"
    kind = SelectField(_l("Nature de l'axe"), choices=AXIS_KINDS)
    title = StringField(
        _l("Intitulé"),
        validators=[DataRequired(_l("Donnez un intitulé à l'axe.")), Length(max=200)],
    )
    priorities = MultiCheckboxField(
        _l("Priorités environnementales de la Métropole"),
        choices=PRIORITIES,
        description=_l("Pour un axe environnemental seulement."),
    )
    mandatory = BooleanField(_l("Axe obligatoire (fixé par le marché)"))
    description = markdown_field(_l("Orientations"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.kind.data != "environnemental" and self.priorities.data:
            self.priorities.errors.append(
                _l("Les priorités environnementales ne concernent qu'un axe environnemental.")
            )
            return False
        return ok


class ObjectiveForm(ItemForm):
    KIND = "objectif"
    title = StringField(
        _l("Objectif"),
        validators=[DataRequired(_l("Décrivez l'objectif en une phrase.")), Length(max=300)],
    )
    obligation = RadioField(_l("Nature de l'engagement"), choices=OBLIGATIONS, default="moyens")
    description = markdown_field(_l("Précisions"))
    due_date = DateField(_l("Échéance"), validators=[Optional()])
    accountable_side = SelectField(_l("Partie responsable"), choices=SIDES)
    accountable_name = StringField(
        _l("Personne responsable"), validators=[Length(max=200)], description=_l("Nom et fonction.")
    )


class IndicatorForm(ItemForm):
    KIND = "indicateur"
    name = StringField(
        _l("Indicateur"),
        validators=[DataRequired(_l("Nommez l'indicateur.")), Length(max=300)],
    )
    unit = StringField(
        _l("Unité"), validators=[Length(max=40)], description=_l("%, t CO₂e, nombre…")
    )
    direction = RadioField(_l("Sens de progrès"), choices=DIRECTIONS, default="hausse")
    baseline_value = optional_number(_l("Valeur de référence"))
    baseline_date = DateField(_l("Date de la valeur de référence"), validators=[Optional()])
    target_value = optional_number(_l("Valeur cible"))
    target_date = DateField(_l("Date de la cible"), validators=[Optional()])
    periodicity = SelectField(
        _l("Périodicité de mesure"), choices=PERIODICITIES, default="trimestrielle"
    )
    reporting_side = SelectField(_l("Partie qui renseigne"), choices=SIDES)
    data_source = StringField(_l("Source des données"), validators=[Length(max=300)])

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        start, end = self.baseline_date.data, self.target_date.data
        if start and end and end < start:
            self.target_date.errors.append(
                _l("La date de la cible doit suivre celle de la valeur de référence.")
            )
            return False
        return ok


class MilestoneForm(ItemForm):
    KIND = "jalon"
    due_date = DateField(
        _l("Date du jalon"), validators=[InputRequired(_l("Indiquez la date du jalon."))]
    )
    value = FrenchDecimalField(
        _l("Valeur visée à cette date"),
        places=2,
        validators=[InputRequired(_l("Indiquez la valeur visée.")), NumberRange(-1e12, 1e12)],
        render_kw={"inputmode": "decimal"},
    )
    note = StringField(_l("Commentaire"), validators=[Length(max=300)])


class ActionForm(ItemForm):
    KIND = "action"
    title = StringField(
        _l("Action"),
        validators=[DataRequired(_l("Décrivez l'action en une phrase.")), Length(max=300)],
    )
    owner_side = SelectField(_l("Porteur"), choices=SIDES)
    description = markdown_field(_l("Description"))
    resources = markdown_field(_l("Moyens et ressources mobilisés"))
    cost_estimate = optional_number(_l("Coût estimé (€ HT)"))
    planned_start = DateField(_l("Début prévu"), validators=[Optional()])
    planned_end = DateField(_l("Fin prévue"), validators=[Optional()])
    mode = RadioField(_l("Mise en œuvre"), choices=MODES, default="immediate")
    status = SelectField(_l("Statut"), choices=ACTION_STATUSES, default="proposee")
    abandon_reason = TextAreaField(_l("Motif de l'abandon"), render_kw={"rows": 2})

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        start, end = self.planned_start.data, self.planned_end.data
        if start and end and end < start:
            self.planned_end.errors.append(_l("La fin prévue doit suivre le début prévu."))
            ok = False
        if self.status.data == "abandonnee" and not (self.abandon_reason.data or "").strip():
            self.abandon_reason.errors.append(_l("Indiquez pourquoi l'action est abandonnée."))
            ok = False
        return ok


class GainSharingForm(ItemForm):
    KIND = "partage"
    buyer_share = optional_number(_l("Part des gains financiers pour l'acheteur (%)"))
    supplier_share = optional_number(_l("Part des gains financiers pour le titulaire (%)"))
    financial_terms = markdown_field(_l("Modalités de partage des gains financiers"))
    non_financial_gains = markdown_field(_l("Gains autres que financiers"))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        buyer, supplier = self.buyer_share.data, self.supplier_share.data
        for share in (self.buyer_share, self.supplier_share):
            if share.data is not None and not 0 <= share.data <= 100:
                share.errors.append(_l("Une part va de 0 à 100 %."))
                ok = False
        if ok and buyer is not None and supplier is not None and buyer + supplier != 100:
            self.supplier_share.errors.append(_l("Les deux parts doivent totaliser 100 %."))
            ok = False
        return ok


FORMS = {form.KIND: form for form in (AxisForm, ObjectiveForm, IndicatorForm, MilestoneForm,
                                      ActionForm, GainSharingForm)}  # fmt: skip


class VisaForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe, pour confirmer"),
        validators=[DataRequired(_l("Indiquez votre mot de passe pour donner votre visa."))],
        render_kw={"autocomplete": "current-password"},
    )
    code = second_factor_field(required=False)  # shown to leads who turned it on


class PositionForm(FlaskForm):
    direction = IntegerField(validators=[InputRequired(), NumberRange(-1, 1)])


def editor_prefix(kind: str, item_id: int) -> str:
    return f"{kind}-{item_id}"


def add_prefix(kind: str, key: int) -> str:
    return f"nouveau-{kind}-{key}"


def field_label(name: str, kind: str) -> str:
    """The label users see for a model field, for history and diffs."""
    unbound = getattr(FORMS.get(kind), name, None)
    return str(unbound.args[0]) if unbound is not None and unbound.args else name


def display_value(value, name: str, kind: str) -> str:
    """A stored value as users read it: labels for choices, French dates and numbers."""
    from datetime import date
    from decimal import Decimal, InvalidOperation

    from flask_babel import gettext

    from app.formatting import day_short, decimal

    if value in (None, "", []):
        return gettext("(vide)")
    unbound = getattr(FORMS.get(kind), name, None)
    choices = unbound.kwargs.get("choices") if unbound is not None else None
    if choices:
        labels = {str(c.value): str(c.label) for c in choices}
        if isinstance(value, list):
            return ", ".join(labels.get(v, v) for v in value)
        return labels.get(str(value), str(value))
    if isinstance(value, bool):
        return gettext("Oui") if value else gettext("Non")
    if unbound is not None and unbound.field_class is DateField:
        try:
            return day_short(date.fromisoformat(value))
        except (TypeError, ValueError):
            return str(value)
    if unbound is not None and unbound.field_class is FrenchDecimalField:
        try:
            return decimal(Decimal(str(value)))
        except InvalidOperation:
            return str(value)
    return str(value)
