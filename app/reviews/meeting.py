"""The meeting: opened and closed, notes written by both sides on the same items (a save on an
older version is a 409, never an overwrite), outcomes, and result-obligation assessments."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record, text_digest
from app.contracts.models import Membership
from app.database import flush_or_conflict
from app.db_types import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.permissions import Permission
from app.reviews.models import (
    BUYER_DECISIONS,
    OUTCOMES,
    AgendaItem,
    ResultAssessment,
    Review,
)
from app.reviews.services import (
    PARIS,
    TEXT_MAX,
    announce,
    check_version,
    not_frozen,
    require,
)

# --- the meeting ----------------------------------------------------------------------------


def meeting_draft(review: Review, membership: Membership):
    """The draft plan version opened for this review (opened on first need): plan edits made
    in the meeting go there, never into the version in force."""
    from app.plan.models import PlanVersion
    from app.plan.versions import current_version, open_draft, plan_of

    if review.draft_version_id is not None:
        return db.session.get(PlanVersion, review.draft_version_id)
    plan = plan_of(review.contract)
    if current_version(plan) is None:
        raise DomainError(
            _("Le plan n'est pas encore en vigueur : modifiez directement son projet.")
        )
    # Not committed here: the caller's refusal (an objective not in the draft) rolls it back.
    draft = open_draft(plan, label=_("Revue n° %(n)d", n=review.number), actor=membership.user,
                       commit=False)  # fmt: skip
    review.draft_version_id = draft.id
    return draft


def open_meeting_draft(review: Review, membership: Membership) -> None:
    require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de modifier le plan."))
    not_frozen(review)
    if review.status != "en_seance":
        raise Conflict(_("Le projet de plan d'une revue s'ouvre pendant la séance."))
    meeting_draft(review, membership)
    record("revue.projet_de_plan", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"version": review.draft_version_id})  # fmt: skip
    announce(review)
    db.session.commit()


def start_meeting(review: Review, membership: Membership) -> None:
    """Open the meeting (notes and outcomes are written live)."""
    require(
        membership, Permission.ORGANISE_REVIEWS, _("Votre rôle ne permet pas d'ouvrir la séance.")
    )
    not_frozen(review)
    if review.status != "planifiee":
        raise Conflict(_("La séance est déjà ouverte ou terminée."))
    review.status = "en_seance"
    ensure_assessments(review)
    record("revue.ouverture", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id)  # fmt: skip
    announce(review)
    db.session.commit()


def close_meeting(review: Review, membership: Membership) -> None:
    require(
        membership, Permission.ORGANISE_REVIEWS, _("Votre rôle ne permet pas de clore la séance.")
    )
    not_frozen(review)
    if review.status != "en_seance":
        raise Conflict(_("La séance n'est pas ouverte."))
    review.status = "tenue"
    record("revue.cloture", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id)  # fmt: skip
    announce(review)
    db.session.commit()


def save_notes(
    item: AgendaItem, membership: Membership, notes: str, seen_version: int
) -> AgendaItem:
    """Both sides write the same item's notes: a save based on an older version is refused
    (409) and the person's text is given back, never lost nor silently overwritten."""
    require(membership, Permission.COMMENT, _("Votre rôle ne permet pas d'écrire les notes."))
    not_frozen(item.review)
    check_version(item, seen_version, _("%(who)s vient d'enregistrer d'autres notes sur ce point : reprenez-les avant d'enregistrer, votre texte est gardé ci-dessous.", who=item.updated_by or _("quelqu'un")))  # fmt: skip
    notes = (notes or "").strip()
    if len(notes) > TEXT_MAX:
        raise DomainError(
            _("Ce texte est trop long (%(max)d caractères au plus).", max=TEXT_MAX), field="notes"
        )
    item.notes, item.updated_at, item.updated_by = notes, utcnow(), membership.user.full_name
    flush_or_conflict(
        _("Les notes viennent d'être modifiées par quelqu'un d'autre : rechargez le point.")
    )
    record("revue.notes", actor=membership.user, contract_id=item.review.contract_id,
           object_type="point", object_id=item.id,
           after={"empreinte": text_digest(notes)})  # fmt: skip
    announce(item.review, f"point-{item.id}")
    db.session.commit()
    return item


def record_outcome(item: AgendaItem, membership: Membership, *, kind: str, text: str,
                   seen_version: int, objective_uid: str = "", owner_side: str = "titulaire",
                   due: date | None = None) -> AgendaItem:  # fmt: skip
    """Information, decision or action; an action can become a plan action in the meeting's
    draft version (under the objective chosen)."""
    from app.plan import services as plan_items
    from app.plan.models import Objective

    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'enregistrer une suite."),
    )
    not_frozen(item.review)
    check_version(
        item, seen_version, _("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer.")
    )
    if kind not in OUTCOMES:
        raise DomainError(_("Choisissez : information, décision ou action."), field="outcome_kind")
    text = (text or "").strip()
    if not text:
        raise DomainError(_("Écrivez la suite donnée à ce point."), field="outcome_text")
    who = membership.user.full_name  # loaded before any change: no autoflush ahead of the check
    item.outcome_kind, item.outcome_text = kind, text[:TEXT_MAX]
    item.updated_at, item.updated_by = utcnow(), who
    if kind == "action" and objective_uid and not item.created_action_uid:
        review = item.review
        if review.status != "en_seance":
            raise DomainError(
                _("Une action s'ajoute au plan pendant la séance."), field="objective_uid"
            )
        draft = meeting_draft(review, membership)
        objective = db.session.scalar(select(Objective).where(
            Objective.plan_version_id == draft.id, Objective.uid == objective_uid))  # fmt: skip
        if objective is None:
            raise DomainError(
                _("Choisissez un objectif du projet de plan de la revue."), field="objective_uid"
            )
        action, _change = plan_items._add_item(
            objective.plan_version, "action",
            {"title": text[:300], "owner_side": owner_side if owner_side in ("acheteur", "titulaire", "les_deux") else "titulaire",
             "planned_end": due, "description": _("Décidée en revue n° %(n)d.", n=review.number)},
            parent=objective, actor=membership.user,
        )  # fmt: skip
        item.created_action_uid = action.uid
    flush_or_conflict(_("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer."))
    record("revue.suite", actor=membership.user, contract_id=item.review.contract_id,
           object_type="point", object_id=item.id, after={"type": kind, "texte": text[:500]})  # fmt: skip
    announce(item.review, f"point-{item.id}")
    db.session.commit()
    return item


def ensure_assessments(review: Review) -> None:
    """One assessment per objective « obligation de résultats » whose due date has passed by
    the review's day (objectives of the plan in force)."""
    from app.plan.models import Objective
    from app.plan.versions import plan_in_force

    version = plan_in_force(review.contract)
    if version is None:
        return
    day = review.starts_at.astimezone(PARIS).date()
    present = {a.objective_uid for a in review.assessments}
    for objective in db.session.scalars(select(Objective).where(
            Objective.plan_version_id == version.id, Objective.obligation == "resultats",
            Objective.due_date.is_not(None), Objective.due_date <= day)):  # fmt: skip
        if objective.uid not in present:
            review.assessments.append(ResultAssessment(objective_uid=objective.uid,
                                                       objective_title=objective.title))  # fmt: skip


def assess(assessment: ResultAssessment, membership: Membership, *, seen_version: int,
           met: bool | None = None, justification: str | None = None,
           decision: str | None = None, note: str | None = None) -> ResultAssessment:  # fmt: skip
    """The supplier writes its justification; the buyer records whether the result is met and
    its decision."""
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'évaluer les résultats."),
    )
    not_frozen(assessment.review)
    check_version(
        assessment,
        seen_version,
        _("Cette évaluation a été modifiée entre-temps : vérifiez avant d'enregistrer."),
    )
    if membership.side == "titulaire":
        if met is not None or decision is not None:
            raise NotAllowed(
                _(
                    "Le constat et la décision reviennent à l'acheteur ; le titulaire donne sa justification."
                )
            )
        assessment.supplier_justification = (justification or "").strip()[:TEXT_MAX]
    else:
        if justification is not None:
            raise NotAllowed(_("La justification est celle du titulaire."))
        if decision is not None and decision not in BUYER_DECISIONS:
            raise DomainError(_("Choisissez une décision de la liste."), field="decision")
        assessment.met = met
        assessment.buyer_decision = decision or None
        assessment.decision_note = (note or "").strip()[:TEXT_MAX]
        if met is False and not decision:
            raise DomainError(
                _("Un résultat non atteint appelle une décision de l'acheteur."), field="decision"
            )
    flush_or_conflict(
        _("Cette évaluation a été modifiée entre-temps : vérifiez avant d'enregistrer.")
    )
    record("revue.evaluation", actor=membership.user, contract_id=assessment.review.contract_id,
           object_type="evaluation", object_id=assessment.id,
           after={"atteint": assessment.met, "decision": assessment.buyer_decision})  # fmt: skip
    announce(assessment.review)
    db.session.commit()
    return assessment
