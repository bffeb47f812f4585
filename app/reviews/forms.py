from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import FlaskForm
from app.plan.forms import MultiCheckboxField
from app.reviews.models import KINDS


class ReviewForm(FlaskForm):
    kind = SelectField(_l("Type de réunion"),
                       choices=[SelectChoice(k, v) for k, v in KINDS.items()], default="revue_performance")  # fmt: skip
    day = DateField(
        _l("Date"), validators=[DataRequired(_l("Indiquez la date, par exemple 12/03/2027."))]
    )
    at = TimeField(
        _l("Heure (heure de Paris)"),
        validators=[DataRequired(_l("Indiquez l'heure, par exemple 14:00."))],
    )
    duration = IntegerField(_l("Durée (minutes)"), default=120,
                            validators=[DataRequired(_l("Indiquez la durée en minutes.")),
                                        NumberRange(15, 720, _l("La durée va de 15 minutes à 12 heures."))])  # fmt: skip
    place = StringField(_l("Lieu"), validators=[Length(max=300)])
    video_link = StringField(
        _l("Lien de visioconférence"), validators=[Optional(), Length(max=500)]
    )
    members = MultiCheckboxField(
        _l("Membres invités"), choices=[], coerce=int, validate_choice=False
    )
    guests = TextAreaField(
        _l("Autres participants (un par ligne : nom ; e-mail ; organisation)"),
        description=_l("Par exemple : Marie Roux ; marie.roux@ville.example ; Service propreté"),
        validators=[Length(max=5000)],
        render_kw={"rows": 3},
    )


class TopicForm(FlaskForm):
    title = StringField(_l("Sujet à inscrire à la prochaine revue"),
                        validators=[DataRequired(_l("Donnez un intitulé au sujet.")), Length(max=300)])  # fmt: skip
    details = TextAreaField(_l("Précisions"), validators=[Length(max=5000)], render_kw={"rows": 2})


class ItemForm(FlaskForm):
    version = HiddenField()
    title = StringField(
        _l("Intitulé"),
        validators=[DataRequired(_l("Donnez un intitulé au point.")), Length(max=300)],
    )
    duration_minutes = StringField(_l("Durée (minutes)"), render_kw={"inputmode": "numeric"})
    presenter = StringField(_l("Présenté par"), validators=[Length(max=120)])
    details = TextAreaField(_l("Précisions"), validators=[Length(max=5000)], render_kw={"rows": 2})


class NotesForm(FlaskForm):
    version = HiddenField()
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 4})


class OutcomeForm(FlaskForm):
    version = HiddenField()
    outcome_kind = SelectField(_l("Suite donnée"), choices=[
        SelectChoice("information", _l("Information")), SelectChoice("decision", _l("Décision")),
        SelectChoice("action", _l("Action"))])  # fmt: skip
    outcome_text = TextAreaField(_l("Texte de la suite"), render_kw={"rows": 2})
    objective_uid = SelectField(_l("Ajouter l'action au projet de plan, sous l'objectif"),
                                choices=[], validate_choice=False)  # fmt: skip
    owner_side = SelectField(_l("Action portée par"), choices=[
        SelectChoice("titulaire", _l("Titulaire")), SelectChoice("acheteur", _l("Acheteur")),
        SelectChoice("les_deux", _l("Les deux"))])  # fmt: skip
    due = DateField(_l("Échéance de l'action"), validators=[Optional()])


class AssessmentForm(FlaskForm):
    version = HiddenField()
    met = SelectField(_l("Résultat"), choices=[SelectChoice("", _l("— Non évalué —")),
                                               SelectChoice("oui", _l("Atteint")),
                                               SelectChoice("non", _l("Non atteint"))])  # fmt: skip
    justification = TextAreaField(_l("Justification du titulaire"), render_kw={"rows": 2})
    decision = SelectField(_l("Décision de l'acheteur"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Précision de la décision"), render_kw={"rows": 2})


class SummaryForm(FlaskForm):
    version = HiddenField()
    summary = TextAreaField(_l("Synthèse du compte-rendu"), render_kw={"rows": 6},
                            description=_l("Mise en forme Markdown acceptée. Les notes et suites de chaque point figurent aussi au compte-rendu."))  # fmt: skip


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Motif"), validators=[DataRequired(_l("Indiquez le motif.")), Length(max=5000)],
                           render_kw={"rows": 2})  # fmt: skip
