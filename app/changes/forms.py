"""The forms of the changes pages. Checks of meaning (who, when, the legal rules) are the
services'; these only parse what was typed."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    FormField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from app.auth.forms import second_factor_field
from app.changes import legal
from app.changes.models import NOTIFICATION_MODES, SIGNATURE_KINDS
from app.changes.services import TEXT_MAX, TITLE_MAX
from app.forms import FlaskForm, FrenchDecimalField, Subform

YES_NO = [SelectChoice("non", _l("Non")), SelectChoice("oui", _l("Oui"))]
QUESTION_LABELS = {
    "prix": _l("Modifie-t-elle un prix, un montant, une quantité, un délai ou une durée, un terme de paiement ou de pénalité ?"),
    "obligations": _l("Modifie-t-elle une obligation écrite dans l'acte d'engagement, le CCAP ou le CCTP (citez l'article) ?"),
    "paiement": _l("Le partage des gains crée-t-il ou modifie-t-il un paiement entre les parties ?"),
    "perimetre": _l("Change-t-elle le titulaire, l'objet ou le périmètre du marché ?"),
}  # fmt: skip
BASIS_CHOICES = {
    "R2194-1": _l("R2194-1 — clause de réexamen ou option"),
    "R2194-2": _l("R2194-2 — prestations supplémentaires"),
    "R2194-5": _l("R2194-5 — circonstances imprévues"),
    "R2194-6": _l("R2194-6 — nouveau titulaire"),
    "R2194-7": _l("R2194-7 — modification non substantielle"),
    "R2194-8": _l("R2194-8 — modification de faible montant"),
    "sans_incidence": _l("Sans incidence financière"),
}


class NewChangeForm(FlaskForm):
    title = StringField(_l("Objet de la modification"), validators=[
        DataRequired(_l("Donnez un titre à la demande de modification.")), Length(max=TITLE_MAX)],
        description=_l("En une ligne : « Relever la cible de fil recyclé à 35 % »."))  # fmt: skip
    rationale = TextAreaField(_l("Pourquoi ce changement"), validators=[Length(max=TEXT_MAX)],
                              render_kw={"rows": 4},
                              description=_l("Mise en forme Markdown acceptée."))  # fmt: skip


def _question_fields(cls):
    for key, _text in legal.QUESTIONS:
        setattr(cls, f"q_{key}", RadioField(QUESTION_LABELS[key], choices=YES_NO, validators=[Optional()]))  # fmt: skip
        setattr(cls, f"q_{key}_note", TextAreaField(_l("Précision (article, montant…)"),
                validators=[Length(max=TEXT_MAX)], render_kw={"rows": 2}))  # fmt: skip
    return cls


@_question_fields
class RequestForm(NewChangeForm):
    version = HiddenField()
    financial_impact_ht = FrenchDecimalField(
        _l("Incidence financière HT (en euros, négative pour une baisse)"), places=2,
        validators=[Optional()], description=_l("0 si le montant du marché ne change pas."))  # fmt: skip

    def answers(self) -> dict:
        result = {}
        for key, _text in legal.QUESTIONS:
            value = getattr(self, f"q_{key}").data
            result[key] = {"answer": {"oui": True, "non": False}.get(value),
                           "note": getattr(self, f"q_{key}_note").data or ""}  # fmt: skip
        return result

    def fill(self, change) -> None:
        for key, _text in legal.QUESTIONS:
            given = change.answers.get(key) or {}
            answer = given.get("answer")
            getattr(self, f"q_{key}").data = (
                None if answer is None else ("oui" if answer else "non")
            )
            getattr(self, f"q_{key}_note").data = given.get("note", "")


class StepForm(FlaskForm):
    version = HiddenField()
    comment = TextAreaField(
        _l("Commentaire"), validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3}
    )


class FormaliseForm(FlaskForm):
    version = HiddenField()
    choice = RadioField(_l("Formalisation"), choices=[
        SelectChoice("lettre", _l("Échange de lettres (stipulations inchangées)")),
        SelectChoice("avenant", _l("Avenant (une stipulation du marché change)"))],
        validators=[DataRequired(_l("Choisissez un échange de lettres ou un avenant."))])  # fmt: skip
    reason = TextAreaField(_l("Motif si vous ne suivez pas la proposition"),
                           validators=[Length(max=TEXT_MAX)], render_kw={"rows": 2})  # fmt: skip


class ModificationLine(Subform):
    article = StringField(_l("Article modifié ou complété"), validators=[Length(max=200)],
                          description=_l("« CCTP, article 4.2 », « Bordereau des prix unitaires (BPU) »…"))  # fmt: skip
    text = TextAreaField(_l("Nouvelle rédaction"), validators=[Length(max=TEXT_MAX)], render_kw={"rows": 3})  # fmt: skip
    impact_ht = FrenchDecimalField(_l("Incidence financière HT"), places=2, validators=[Optional()])


class TermsForm(FlaskForm):
    version = HiddenField()
    legal_basis = SelectField(
        _l("Fondement juridique (choisi par l'acheteur)"),
        choices=[
            SelectChoice("", _l("— Choisir —")),
            *(SelectChoice(k, v) for k, v in BASIS_CHOICES.items()),
        ],
        validate_choice=False,
    )  # fmt: skip  (a letter has no basis; the service checks the value)
    basis_justification = TextAreaField(_l("Justification du fondement"), validators=[Length(max=TEXT_MAX)],
                                        render_kw={"rows": 3})  # fmt: skip
    revised_initial_ht = FrenchDecimalField(
        _l("Montant initial HT après application de la clause de variation des prix (R2194-4)"),
        places=2, validators=[Optional()],
        description=_l("Égal au montant initial si les prix sont fermes."))  # fmt: skip
    modifications = FieldList(FormField(ModificationLine), min_entries=3, max_entries=30)
    touches_price_formula = BooleanField(_l("La modification touche la formule ou l'indice de variation des prix"))  # fmt: skip
    signatory_name = StringField(
        _l("Signataire pour l'acheteur : nom"), validators=[Length(max=200)]
    )
    signatory_qualite = StringField(_l("Sa qualité"), validators=[Length(max=200)])
    holder_signatory_name = StringField(_l("Signataire pour le titulaire : nom"), validators=[Length(max=200)])  # fmt: skip
    holder_signatory_qualite = StringField(_l("Sa qualité"), validators=[Length(max=200)])
    effective_date = DateField(_l("Date d'effet, si elle n'est pas celle de l'accord"), validators=[Optional()])  # fmt: skip


class VisaForm(FlaskForm):
    sha256 = HiddenField()
    qualite = StringField(_l("Votre qualité, imprimée avec le visa"), validators=[
        DataRequired(_l("Indiquez votre qualité (par exemple : acheteuse référente).")), Length(max=200)])  # fmt: skip
    password = PasswordField(_l("Votre mot de passe, pour confirmer"), validators=[
        DataRequired(_l("Indiquez votre mot de passe pour donner votre visa."))],
        render_kw={"autocomplete": "current-password"})  # fmt: skip
    code = second_factor_field(required=False)  # shown to leads who turned it on


class AcceptanceForm(FlaskForm):
    version = HiddenField()
    file = FileField(_l("Accord signé du titulaire"))
    received_on = DateField(_l("Reçu le"), validators=[Optional()])


class SignatoryLine(Subform):
    name = StringField(_l("Nom et prénom"), validators=[Length(max=200)])
    qualite = StringField(_l("Qualité"), validators=[Length(max=200)])
    side = SelectField(_l("Partie"), choices=[SelectChoice("titulaire", _l("Titulaire")),
                                              SelectChoice("acheteur", _l("Acheteur"))])  # fmt: skip
    delegation = BooleanField(_l("Signe par délégation"))


class SignatureForm(FlaskForm):
    version = HiddenField()
    file = FileField(_l("Avenant signé (PDF)"))
    signature_kind = SelectField(_l("Type de signature"), choices=[
        SelectChoice("", _l("— Choisir —")), *(SelectChoice(k, v) for k, v in SIGNATURE_KINDS.items())])  # fmt: skip
    signatories = FieldList(FormField(SignatoryLine), min_entries=2, max_entries=8)


class NotificationForm(FlaskForm):
    version = HiddenField()
    mode = SelectField(_l("Mode de notification"), choices=[
        SelectChoice("", _l("— Choisir —")), *(SelectChoice(k, v) for k, v in NOTIFICATION_MODES.items())])  # fmt: skip
    day = DateField(
        _l("Date"), validators=[DataRequired(_l("Indiquez la date de la notification."))]
    )
    at = TimeField(_l("Heure (heure de Paris)"), validators=[DataRequired(_l("Indiquez l'heure de la notification."))])  # fmt: skip


class ContractTermsForm(FlaskForm):
    """What amendments need of the contract (LEGAL.md §A), entered by the buyer lead."""

    buyer_type = SelectField(_l("Type d'acheteur"), choices=[
        SelectChoice("autre_pa", _l("Pouvoir adjudicateur : collectivité ou autre (hors État)")),
        SelectChoice("etat", _l("Pouvoir adjudicateur : État et ses établissements")),
        SelectChoice("entite_adjudicatrice", _l("Entité adjudicatrice ou défense"))])  # fmt: skip
    buyer_is_collectivite = BooleanField(_l("L'acheteur est une collectivité territoriale (CGCT L1414-4)"))  # fmt: skip
    procedure = SelectField(_l("Procédure de passation"), choices=[
        SelectChoice("formalisee", _l("Procédure formalisée")), SelectChoice("adaptee", _l("Procédure adaptée (MAPA)")),
        SelectChoice("autre", _l("Autre"))])  # fmt: skip
    awarded_by_cao = BooleanField(_l("Marché attribué par la commission d'appel d'offres"))
    consultation_date = DateField(
        _l("Date de lancement de la consultation"), validators=[Optional()]
    )
    lot = StringField(_l("Lot (numéro et objet ; vide si le marché n'est pas alloti)"), validators=[Length(max=300)])  # fmt: skip
    vat_rate = FrenchDecimalField(_l("Taux de TVA (%)"), places=2, validators=[DataRequired(_l("Indiquez le taux de TVA."))])  # fmt: skip
    price_regime = SelectField(_l("Prix"), choices=[SelectChoice("ferme", _l("Fermes")),
                                                    SelectChoice("revisable", _l("Révisables ou actualisables"))])  # fmt: skip
    clause_article = StringField(_l("Article du CCAP de la clause de progrès"), validators=[Length(max=60)])  # fmt: skip
    clause_is_review_clause = BooleanField(_l("Cette clause est une clause de réexamen au sens de R2194-1 (champ, nature et conditions des modifications clairement indiqués)"))  # fmt: skip
    buyer_address = TextAreaField(_l("Adresse de l'acheteur (telle qu'aux pièces du marché)"), validators=[Length(max=1000)], render_kw={"rows": 3})  # fmt: skip
    signing_place = StringField(_l("Lieu de signature de l'acheteur"), validators=[Length(max=120)])
    acceptance_by_visa = BooleanField(_l("Le visa du référent titulaire dans Progrès vaut accord écrit sur un échange de lettres"))  # fmt: skip
    print_vigilance = BooleanField(_l("Imprimer les points de vigilance dans l'annexe du projet d'avenant"))  # fmt: skip
    visa_requires_2fa = BooleanField(_l("Exiger la double authentification des référents des deux parties pour donner un visa (plan et documents des modifications)"))  # fmt: skip


class HolderForm(FlaskForm):
    """The holder's identification (EXE10 section B), entered by the supplier lead."""

    trade_name = StringField(_l("Nom commercial"), validators=[Length(max=200)])
    address = TextAreaField(_l("Adresse de l'établissement"), validators=[Length(max=1000)], render_kw={"rows": 3})  # fmt: skip
    head_office_address = TextAreaField(_l("Adresse du siège social"), validators=[Length(max=1000)], render_kw={"rows": 3})  # fmt: skip
    head_office_siret = StringField(_l("SIRET du siège social"), validators=[
        Optional(), Regexp(r"^\d{14}$", message=_l("Un SIRET compte 14 chiffres."))])  # fmt: skip
    email = StringField(_l("Adresse électronique"), validators=[Optional(), Email(_l("Adresse électronique invalide.")), Length(max=254)])  # fmt: skip
    phone = StringField(_l("Téléphone"), validators=[Length(max=30)])
