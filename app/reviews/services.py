"""The rules of review meetings. Views parse and render; everything else is here.

- Scheduling: date and time in Europe/Paris (stored in UTC), attendees (members and named
  guests), invitations by e-mail with an .ics file.
- The agenda is built from what happened since the previous review (difficulties, indicators
  off trajectory or missing values, late actions, the gain-sharing statement, the topics either
  side proposed) and then edited freely.
- In the meeting, notes and outcomes are written per item by both sides at once: each save is
  based on the version the person saw (else 409 with their text kept); objectives with an
  « obligation de résultats » past due are assessed.
- The minutes are written by the side whose turn it is (alternating from one review to the
  next; the buyer lead may hand the turn over with a reason), submitted, approved or sent back
  by the other side, then frozen: nothing of the review changes any more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from app.audit.services import record
from app.contracts.models import Contract, Membership
from app.db_types import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.reviews.models import (
    BUYER_DECISIONS,
    KINDS,
    OUTCOMES,
    AgendaItem,
    MinutesComment,
    ResultAssessment,
    Review,
    ReviewAttendee,
    TopicProposal,
)

PARIS = ZoneInfo("Europe/Paris")
TEXT_MAX = 20_000


def other(side: str) -> str:
    return "titulaire" if side == "acheteur" else "acheteur"


# --- reading --------------------------------------------------------------------------------


def review_in_contract(contract: Contract, review_id: int) -> Review | None:
    return db.session.scalar(
        select(Review).where(Review.id == review_id, Review.contract_id == contract.id)
    )


def reviews_of(contract: Contract) -> list[Review]:
    return db.session.scalars(
        select(Review).where(Review.contract_id == contract.id).order_by(Review.starts_at)
    ).all()


def previous_review(review: Review) -> Review | None:
    """The last review held or planned before this one (not cancelled)."""
    return db.session.scalar(
        select(Review).where(Review.contract_id == review.contract_id, Review.id != review.id,
                             Review.status != "annulee", Review.starts_at < review.starts_at)
        .order_by(Review.starts_at.desc()).limit(1)
    )  # fmt: skip


def next_minutes_side(contract: Contract, before: datetime | None = None) -> str:
    """Minutes alternate: the side that did not write the previous review's minutes writes the
    next; the buyer writes the first (it chairs the committee)."""
    query = select(Review.minutes_side).where(Review.contract_id == contract.id,
                                              Review.status != "annulee")  # fmt: skip
    if before is not None:
        query = query.where(Review.starts_at < before)
    last = db.session.scalar(query.order_by(Review.starts_at.desc()).limit(1))
    return other(last) if last else "acheteur"


def upcoming_for(user, now: datetime | None = None) -> list[Review]:
    """The person's coming reviews, on all their contracts, soonest first."""
    now = now or utcnow()
    return db.session.scalars(
        select(Review).join(Membership, Membership.contract_id == Review.contract_id)
        .where(Membership.user_id == user.id, Review.status.in_(("planifiee", "en_seance")),
               Review.starts_at >= now - timedelta(hours=12))
        .order_by(Review.starts_at)
    ).all()  # fmt: skip


# --- the rule of at least N reviews in any 12 months ----------------------------------------


@dataclass(frozen=True)
class ShortWindow:
    start: date
    end: date
    count: int


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def short_windows(
    contract: Contract, today: date, reviews: list[Review] | None = None
) -> list[ShortWindow]:
    """Rolling 12-month windows, starting at the notification date then at each month after it,
    that have begun by today and lie within the contract's life, holding fewer reviews
    (scheduled or held, not cancelled) than the contract's minimum. One per distinct shortfall
    is enough to warn, so the first few are returned."""
    reviews = reviews if reviews is not None else reviews_of(contract)
    days = sorted(r.starts_at.astimezone(PARIS).date() for r in reviews if r.status != "annulee")
    end_of_contract = _add_months(contract.notification_date, contract.duration_months)
    found, start = [], contract.notification_date
    while start <= today and _add_months(start, 12) <= max(end_of_contract, _add_months(start, 12)):
        window_end = _add_months(start, 12)
        if window_end > end_of_contract and start != contract.notification_date:
            break
        count = sum(1 for d in days if start <= d < window_end)
        if count < contract.min_reviews_per_year:
            found.append(ShortWindow(start, window_end - timedelta(days=1), count))
        start = _add_months(start, 1)
    return found[:3]


# --- permissions ----------------------------------------------------------------------------


def _require(membership: Membership, permission: Permission, message: str) -> None:
    if not membership.may(permission):
        raise NotAllowed(message)


def _not_frozen(review: Review) -> None:
    if review.minutes_frozen:
        raise DomainError(
            _("Le compte-rendu de cette revue est approuvé : la revue ne change plus.")
        )
    if review.status == "annulee":
        raise DomainError(_("Cette revue est annulée."))


def _check_version(obj, seen_version: int | None, message: str) -> None:
    if seen_version is None or obj.version != seen_version:
        raise Conflict(message)


def _flush(message: str) -> None:
    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(message) from error


def _announce(review: Review, name: str | None = None) -> None:
    """After the commit: the review's open pages pull what changed (`name`, else all of it)."""
    publish_after_commit(channel(review.contract_id), name or f"revue-{review.id}", {})
    publish_after_commit(channel(review.contract_id), "revues", {})


# --- scheduling -----------------------------------------------------------------------------


def paris_datetime(day: date, at: time) -> datetime:
    """A wall-clock time in Paris, stored as UTC (summer and winter time handled by zoneinfo)."""
    return datetime.combine(day, at, tzinfo=PARIS).astimezone(ZoneInfo("UTC"))


def schedule_review(contract: Contract, membership: Membership, *, kind: str, day: date,
                    at: time, duration_minutes: int, place: str = "", video_link: str = "",
                    member_ids: list[int] = (), guests: list[tuple[str, str, str]] = (),
                    ) -> Review:  # fmt: skip
    """Plan a review and invite its attendees (e-mail with an .ics file each)."""
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'organiser une revue."),
    )
    if kind not in KINDS:
        raise DomainError(_("Choisissez le type de réunion."), field="kind")
    if not 15 <= int(duration_minutes) <= 720:
        raise DomainError(_("La durée va de 15 minutes à 12 heures."), field="duration")
    if video_link and not video_link.startswith(("https://", "http://")):
        raise DomainError(
            _("Le lien de visioconférence commence par https://."), field="video_link"
        )
    if not (place or video_link):
        raise DomainError(_("Indiquez un lieu ou un lien de visioconférence."), field="place")
    members = {m.user_id: m for m in db.session.scalars(
        select(Membership).where(Membership.contract_id == contract.id))}  # fmt: skip
    unknown = [i for i in member_ids if i not in members]
    if unknown:  # an id from another contract or nobody: refused, nothing written
        raise DomainError(
            _("Une des personnes choisies n'est pas membre du marché."), field="members"
        )
    starts_at = paris_datetime(day, at)
    number = (
        db.session.scalar(select(func.max(Review.number)).where(Review.contract_id == contract.id))
        or 0
    ) + 1
    review = Review(
        contract_id=contract.id, number=number, kind=kind, starts_at=starts_at,
        duration_minutes=int(duration_minutes), place=place.strip(), video_link=video_link.strip(),
        minutes_side=next_minutes_side(contract, before=starts_at), created_by_id=membership.user_id,
    )  # fmt: skip
    for user_id in dict.fromkeys(member_ids):
        m = members[user_id]
        review.attendees.append(ReviewAttendee(user_id=user_id, name=m.user.full_name,
                                               email=m.user.email, side=m.side,
                                               organisation=contract.organisation_of(m.side).name))  # fmt: skip
    for name, email, organisation in guests:
        if name.strip():
            review.attendees.append(ReviewAttendee(name=name.strip()[:120], email=email.strip()[:254],
                                                   side="invite", organisation=organisation.strip()[:200]))  # fmt: skip
    db.session.add(review)
    db.session.flush()
    record("revue.planification", actor=membership.user, contract_id=contract.id,
           object_type="revue", object_id=review.id,
           after={"numero": number, "type": kind, "debut": starts_at.isoformat()})  # fmt: skip
    from app.reviews.invitations import invite_attendees

    invite_attendees(review)
    _announce(review)
    db.session.commit()
    return review


def cancel_review(review: Review, membership: Membership, reason: str) -> None:
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'organiser une revue."),
    )
    _not_frozen(review)
    if not (reason or "").strip():
        raise DomainError(_("Indiquez pourquoi la revue est annulée."), field="reason")
    review.status = "annulee"
    record("revue.annulation", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"motif": reason.strip()})  # fmt: skip
    from app.reviews.invitations import invite_attendees

    invite_attendees(review, cancelled=True)
    _announce(review)
    db.session.commit()


# --- the agenda -----------------------------------------------------------------------------


def propose_topic(
    contract: Contract, membership: Membership, title: str, details: str = ""
) -> TopicProposal:
    _require(membership, Permission.COMMENT, _("Votre rôle ne permet pas de proposer un sujet."))
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au sujet."), field="title")
    topic = TopicProposal(contract_id=contract.id, title=title[:300], details=(details or "").strip()[:TEXT_MAX],
                          proposed_by_id=membership.user_id, proposed_by_name=membership.user.full_name,
                          side=membership.side)  # fmt: skip
    db.session.add(topic)
    publish_after_commit(channel(contract.id), "revues", {})
    db.session.commit()
    return topic


def backlog(contract: Contract) -> list[TopicProposal]:
    return db.session.scalars(
        select(TopicProposal).where(TopicProposal.contract_id == contract.id,
                                    TopicProposal.review_id.is_(None))
        .order_by(TopicProposal.created_at)
    ).all()  # fmt: skip


def agenda_sources(review: Review, today: date) -> list[dict]:
    """What happened since the previous review, as agenda items to be (source, key, title…)."""
    from app.dashboard.services import summaries
    from app.difficulties.register import for_next_review

    contract = review.contract
    previous = previous_review(review)
    since = previous.starts_at if previous else None
    found = []
    for d in for_next_review(contract, since):
        found.append({"source": "difficulte", "source_key": str(d.id), "duration_minutes": 10,
                      "title": _("Difficulté n° %(n)d : %(title)s", n=d.number, title=d.title),
                      "details": d.request})  # fmt: skip
    (summary,) = summaries([contract], today)
    for state in summary.indicators:
        if state.status == "sous_la_trajectoire" or state.missing:
            why = (_("sous la trajectoire") if state.status == "sous_la_trajectoire"
                   else _("valeurs manquantes : %(list)s", list=", ".join(p.label for p in state.missing)))  # fmt: skip
            found.append({"source": "indicateur", "source_key": state.indicator.uid, "duration_minutes": 10,
                          "title": _("Indicateur « %(name)s » : %(why)s", name=state.indicator.name, why=why),
                          "details": ""})  # fmt: skip
    for action, _status in summary.late_actions:
        found.append({"source": "action", "source_key": action.uid, "duration_minutes": 5,
                      "title": _("Action en retard : %(title)s", title=action.title), "details": ""})  # fmt: skip
    found.append({"source": "partage", "source_key": "", "duration_minutes": 10,
                  "title": _("Bilan du partage des gains"), "details": ""})  # fmt: skip
    for topic in backlog(contract):
        found.append({"source": "sujet", "source_key": str(topic.id), "duration_minutes": 10,
                      "title": topic.title, "details": topic.details,
                      "presenter": topic.proposed_by_name})  # fmt: skip
    return found


def build_agenda(review: Review, membership: Membership, today: date) -> int:
    """Add the items from what happened that the agenda does not hold yet; returns how many."""
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'organiser une revue."),
    )
    _not_frozen(review)
    present = {(i.source, i.source_key) for i in review.items}
    position = max((i.position for i in review.items), default=0)
    added = 0
    for values in agenda_sources(review, today):
        if (values["source"], values["source_key"]) in present:
            continue
        position += 1
        review.items.append(AgendaItem(position=position, **values))
        added += 1
        if values["source"] == "sujet":
            db.session.get(TopicProposal, int(values["source_key"])).review_id = review.id
    review.agenda_built_at = utcnow()
    _ensure_assessments(review)
    record("revue.ordre_du_jour", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"points_ajoutes": added})  # fmt: skip
    _announce(review)
    db.session.commit()
    return added


def add_item(review: Review, membership: Membership, title: str, duration_minutes=10) -> AgendaItem:
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    _not_frozen(review)
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au point."), field="title")
    item = AgendaItem(source="libre", title=title[:300], duration_minutes=_minutes(duration_minutes),
                      position=max((i.position for i in review.items), default=0) + 1)  # fmt: skip
    review.items.append(item)
    _announce(review, f"ordre-du-jour-{review.id}")
    db.session.commit()
    return item


def _minutes(value) -> int:
    try:
        minutes = int(str(value).strip() or 0)
    except ValueError:
        minutes = -1
    if not 0 <= minutes <= 480:
        raise DomainError(_("Indiquez une durée en minutes, de 0 à 480."), field="duration_minutes")
    return minutes


def edit_item(item: AgendaItem, membership: Membership, *, title: str, duration_minutes,
              presenter: str, details: str, seen_version: int) -> AgendaItem:  # fmt: skip
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    _not_frozen(item.review)
    _check_version(
        item, seen_version, _("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer.")
    )
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au point."), field="title")
    who = membership.user.full_name  # loaded before any change: no autoflush ahead of the check
    item.title, item.duration_minutes = title[:300], _minutes(duration_minutes)
    item.presenter, item.details = (
        (presenter or "").strip()[:120],
        (details or "").strip()[:TEXT_MAX],
    )
    item.updated_at, item.updated_by = utcnow(), who
    _flush(_("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer."))
    _announce(item.review, f"ordre-du-jour-{item.review_id}")
    db.session.commit()
    return item


def move_item(item: AgendaItem, membership: Membership, direction: int) -> None:
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    _not_frozen(item.review)
    items = list(item.review.items)
    index = items.index(item)
    target = index + (1 if direction > 0 else -1)
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
        for position, each in enumerate(items, start=1):
            each.position = position
    _announce(item.review, f"ordre-du-jour-{item.review_id}")
    db.session.commit()


def remove_item(item: AgendaItem, membership: Membership) -> None:
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    review = item.review
    _not_frozen(review)
    if item.source == "sujet" and item.source_key:  # the topic goes back to the backlog
        topic = db.session.get(TopicProposal, int(item.source_key))
        if topic is not None:
            topic.review_id = None
    review.items.remove(item)
    _announce(review, f"ordre-du-jour-{review.id}")
    db.session.commit()


def total_minutes(review: Review) -> int:
    return sum(i.duration_minutes for i in review.items)


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
    draft = open_draft(plan, label=_("Revue n° %(n)d", n=review.number), actor=membership.user)
    review.draft_version_id = draft.id
    return draft


def open_meeting_draft(review: Review, membership: Membership) -> None:
    _require(membership, Permission.EDIT_PLAN, _("Votre rôle ne permet pas de modifier le plan."))
    _not_frozen(review)
    if review.status != "en_seance":
        raise Conflict(_("Le projet de plan d'une revue s'ouvre pendant la séance."))
    meeting_draft(review, membership)
    record("revue.projet_de_plan", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"version": review.draft_version_id})  # fmt: skip
    _announce(review)
    db.session.commit()


def start_meeting(review: Review, membership: Membership) -> None:
    """Open the meeting (notes and outcomes are written live)."""
    _require(
        membership, Permission.ORGANISE_REVIEWS, _("Votre rôle ne permet pas d'ouvrir la séance.")
    )
    _not_frozen(review)
    if review.status != "planifiee":
        raise Conflict(_("La séance est déjà ouverte ou terminée."))
    review.status = "en_seance"
    _ensure_assessments(review)
    record("revue.ouverture", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id)  # fmt: skip
    _announce(review)
    db.session.commit()


def close_meeting(review: Review, membership: Membership) -> None:
    _require(
        membership, Permission.ORGANISE_REVIEWS, _("Votre rôle ne permet pas de clore la séance.")
    )
    _not_frozen(review)
    if review.status != "en_seance":
        raise Conflict(_("La séance n'est pas ouverte."))
    review.status = "tenue"
    record("revue.cloture", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id)  # fmt: skip
    _announce(review)
    db.session.commit()


def save_notes(
    item: AgendaItem, membership: Membership, notes: str, seen_version: int
) -> AgendaItem:
    """Both sides write the same item's notes: a save based on an older version is refused
    (409) and the person's text is given back, never lost nor silently overwritten."""
    _require(membership, Permission.COMMENT, _("Votre rôle ne permet pas d'écrire les notes."))
    _not_frozen(item.review)
    _check_version(item, seen_version, _("%(who)s vient d'enregistrer d'autres notes sur ce point : reprenez-les avant d'enregistrer, votre texte est gardé ci-dessous.", who=item.updated_by or _("quelqu'un")))  # fmt: skip
    notes = (notes or "").strip()
    if len(notes) > TEXT_MAX:
        raise DomainError(
            _("Ce texte est trop long (%(max)d caractères au plus).", max=TEXT_MAX), field="notes"
        )
    item.notes, item.updated_at, item.updated_by = notes, utcnow(), membership.user.full_name
    _flush(_("Les notes viennent d'être modifiées par quelqu'un d'autre : rechargez le point."))
    _announce(item.review, f"point-{item.id}")
    db.session.commit()
    return item


def record_outcome(item: AgendaItem, membership: Membership, *, kind: str, text: str,
                   seen_version: int, objective_uid: str = "", owner_side: str = "titulaire",
                   due: date | None = None) -> AgendaItem:  # fmt: skip
    """Information, decision or action; an action can become a plan action in the meeting's
    draft version (under the objective chosen)."""
    from app.plan import services as plan_items
    from app.plan.models import Objective

    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'enregistrer une suite."),
    )
    _not_frozen(item.review)
    _check_version(
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
    _flush(_("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer."))
    record("revue.suite", actor=membership.user, contract_id=item.review.contract_id,
           object_type="point", object_id=item.id, after={"type": kind, "texte": text[:500]})  # fmt: skip
    _announce(item.review, f"point-{item.id}")
    db.session.commit()
    return item


def _ensure_assessments(review: Review) -> None:
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
    _require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'évaluer les résultats."),
    )
    _not_frozen(assessment.review)
    _check_version(
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
    _flush(_("Cette évaluation a été modifiée entre-temps : vérifiez avant d'enregistrer."))
    record("revue.evaluation", actor=membership.user, contract_id=assessment.review.contract_id,
           object_type="evaluation", object_id=assessment.id,
           after={"atteint": assessment.met, "decision": assessment.buyer_decision})  # fmt: skip
    _announce(assessment.review)
    db.session.commit()
    return assessment


# --- the minutes ----------------------------------------------------------------------------


def may_write_minutes(review: Review, membership: Membership) -> bool:
    return (membership.side == review.minutes_side and membership.may(Permission.ORGANISE_REVIEWS)
            and review.minutes_status in ("a_rediger", "a_reprendre") and not review.minutes_frozen)  # fmt: skip


def may_judge_minutes(review: Review, membership: Membership) -> bool:
    return (membership.side != review.minutes_side and membership.is_lead
            and review.minutes_status == "soumis")  # fmt: skip


def hand_over(review: Review, membership: Membership, reason: str) -> None:
    """The buyer lead gives the turn of writing to the other side, with a reason."""
    if not (membership.side == "acheteur" and membership.is_lead):
        raise NotAllowed(_("Seul le référent acheteur peut confier la rédaction à l'autre partie."))
    _not_frozen(review)
    if review.minutes_status == "soumis":
        raise Conflict(_("Le compte-rendu est soumis : attendez l'avis de l'autre partie."))
    if not (reason or "").strip():
        raise DomainError(_("Indiquez pourquoi la rédaction change de main."), field="reason")
    before = review.minutes_side
    review.minutes_side, review.minutes_handover_reason = other(before), reason.strip()[:TEXT_MAX]
    record("revue.relais_redaction", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id,
           before={"redaction": before}, after={"redaction": review.minutes_side, "motif": reason.strip()})  # fmt: skip
    _announce(review)
    db.session.commit()


def save_summary(review: Review, membership: Membership, text: str, seen_version: int) -> None:
    if not may_write_minutes(review, membership):
        raise NotAllowed(_("Le compte-rendu est rédigé par la partie dont c'est le tour."))
    _check_version(
        review,
        seen_version,
        _(
            "Le compte-rendu a été modifié entre-temps : votre texte est gardé, vérifiez avant d'enregistrer."
        ),
    )
    review.minutes_summary = (text or "").strip()[:TEXT_MAX]
    _flush(_("Le compte-rendu a été modifié entre-temps : rechargez la page."))
    _announce(review)
    db.session.commit()


def submit_minutes(review: Review, membership: Membership) -> None:
    if not may_write_minutes(review, membership):
        raise NotAllowed(_("Le compte-rendu est soumis par la partie qui le rédige."))
    if review.status != "tenue":
        raise Conflict(_("Clôturez la séance avant de soumettre le compte-rendu."))
    review.minutes_status = "soumis"
    record("revue.cr_soumis", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id)  # fmt: skip
    _notify_other_side(
        review,
        membership,
        _("Le compte-rendu de la revue n° %(n)d est soumis à votre approbation.", n=review.number),
    )
    _announce(review)
    db.session.commit()


def request_changes(review: Review, membership: Membership, comment: str) -> None:
    if not may_judge_minutes(review, membership):
        raise NotAllowed(
            _("Le compte-rendu est approuvé ou renvoyé par le référent de l'autre partie.")
        )
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(_("Dites ce qu'il faut reprendre."), field="comment")
    with db.session.no_autoflush:  # the comments are loaded without writing the status first
        review.minutes_status = "a_reprendre"
        review.comments.append(MinutesComment(author_id=membership.user_id, author_name=membership.user.full_name,
                                              side=membership.side, body=comment[:TEXT_MAX]))  # fmt: skip
    record("revue.cr_a_reprendre", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"commentaire": comment[:500]})  # fmt: skip
    _notify_other_side(
        review,
        membership,
        _("Le compte-rendu de la revue n° %(n)d est à reprendre.", n=review.number),
    )
    _announce(review)
    db.session.commit()


def approve_minutes(review: Review, membership: Membership) -> None:
    """Freeze the minutes: render the PDF, keep its SHA-256, send it to the attendees."""
    from app.reviews.minutes import freeze

    if not may_judge_minutes(review, membership):
        raise NotAllowed(
            _("Le compte-rendu est approuvé ou renvoyé par le référent de l'autre partie.")
        )
    review.minutes_status = "approuve"
    review.minutes_approved_at, review.minutes_approved_by_id = utcnow(), membership.user_id
    freeze(review, membership)
    record("revue.cr_approuve", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"sha256": review.minutes_sha256})  # fmt: skip
    _announce(review)
    db.session.commit()


def _notify_other_side(review: Review, membership: Membership, text: str) -> None:
    from app.notifications.services import notify

    path = f"/contrats/{review.contract_id}/revues/{review.id}/"
    people = [m.user for m in db.session.scalars(select(Membership).where(
        Membership.contract_id == review.contract_id, Membership.side != membership.side))]  # fmt: skip
    notify(people, review.contract, "revue", lambda: text, path, exclude=membership.user)
