"""The agenda of a review: built from what happened since the previous one (difficulties,
indicators, late actions, gain sharing, topics proposed in between), then edited by hand."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.audit.services import record, text_digest
from app.contracts.models import Contract, Membership
from app.database import flush_or_conflict
from app.db_types import utcnow
from app.errors import DomainError
from app.extensions import db
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.reviews.meeting import ensure_assessments
from app.reviews.models import (
    AgendaItem,
    Review,
    TopicProposal,
)
from app.reviews.services import (
    TEXT_MAX,
    announce,
    check_version,
    not_frozen,
    previous_review,
    require,
)

# --- the agenda -----------------------------------------------------------------------------


def propose_topic(
    contract: Contract, membership: Membership, title: str, details: str = ""
) -> TopicProposal:
    require(membership, Permission.COMMENT, _("Votre rôle ne permet pas de proposer un sujet."))
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au sujet."), field="title")
    topic = TopicProposal(contract_id=contract.id, title=title[:300], details=(details or "").strip()[:TEXT_MAX],
                          proposed_by_id=membership.user_id, proposed_by_name=membership.user.full_name,
                          side=membership.side)  # fmt: skip
    db.session.add(topic)
    db.session.flush()
    record("revue.sujet_propose", actor=membership.user, contract_id=contract.id,
           object_type="sujet", object_id=topic.id,
           after={"intitule": topic.title, "details": text_digest(topic.details)})  # fmt: skip
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
    for change in summary.pending_changes:
        found.append({"source": "modification", "source_key": str(change.id), "duration_minutes": 10,
                      "title": _("Demande de modification n° %(n)d : %(title)s", n=change.number, title=change.title),
                      "details": ""})  # fmt: skip
    found.append({"source": "partage", "source_key": "", "duration_minutes": 10,
                  "title": _("Bilan du partage des gains"), "details": ""})  # fmt: skip
    for topic in backlog(contract):
        found.append({"source": "sujet", "source_key": str(topic.id), "duration_minutes": 10,
                      "title": topic.title, "details": topic.details,
                      "presenter": topic.proposed_by_name})  # fmt: skip
    return found


def build_agenda(review: Review, membership: Membership, today: date) -> int:
    """Add the items from what happened that the agenda does not hold yet; returns how many."""
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'organiser une revue."),
    )
    not_frozen(review)
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
    ensure_assessments(review)
    record("revue.ordre_du_jour", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"points_ajoutes": added})  # fmt: skip
    announce(review)
    db.session.commit()
    return added


def add_item(review: Review, membership: Membership, title: str, duration_minutes=10) -> AgendaItem:
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    not_frozen(review)
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au point."), field="title")
    item = AgendaItem(source="libre", title=title[:300], duration_minutes=_minutes(duration_minutes),
                      position=max((i.position for i in review.items), default=0) + 1)  # fmt: skip
    review.items.append(item)
    db.session.flush()
    record("revue.point_ajout", actor=membership.user, contract_id=review.contract_id,
           object_type="point", object_id=item.id,
           after={"intitule": item.title, "duree": item.duration_minutes})  # fmt: skip
    announce(review, f"ordre-du-jour-{review.id}")
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
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    not_frozen(item.review)
    check_version(
        item, seen_version, _("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer.")
    )
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au point."), field="title")
    who = membership.user.full_name  # loaded before any change: no autoflush ahead of the check
    before = {"intitule": item.title, "duree": item.duration_minutes, "presentateur": item.presenter,
              "details": text_digest(item.details or "")}  # fmt: skip
    item.title, item.duration_minutes = title[:300], _minutes(duration_minutes)
    item.presenter, item.details = (
        (presenter or "").strip()[:120],
        (details or "").strip()[:TEXT_MAX],
    )
    item.updated_at, item.updated_by = utcnow(), who
    flush_or_conflict(_("Ce point a été modifié entre-temps : vérifiez avant d'enregistrer."))
    record("revue.point_modification", actor=membership.user, contract_id=item.review.contract_id,
           object_type="point", object_id=item.id, before=before,
           after={"intitule": item.title, "duree": item.duration_minutes,
                  "presentateur": item.presenter, "details": text_digest(item.details)})  # fmt: skip
    announce(item.review, f"ordre-du-jour-{item.review_id}")
    db.session.commit()
    return item


def move_item(item: AgendaItem, membership: Membership, direction: int) -> None:
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    not_frozen(item.review)
    items = list(item.review.items)
    index = items.index(item)
    target = index + (1 if direction > 0 else -1)
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
        for position, each in enumerate(items, start=1):
            each.position = position
        record("revue.point_deplacement", actor=membership.user,
               contract_id=item.review.contract_id, object_type="point", object_id=item.id,
               before={"rang": index + 1}, after={"rang": target + 1})  # fmt: skip
    announce(item.review, f"ordre-du-jour-{item.review_id}")
    db.session.commit()


def remove_item(item: AgendaItem, membership: Membership) -> None:
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas de modifier l'ordre du jour."),
    )
    review = item.review
    not_frozen(review)
    if item.source == "sujet" and item.source_key:  # the topic goes back to the backlog
        topic = db.session.get(TopicProposal, int(item.source_key))
        if topic is not None:
            topic.review_id = None
    record("revue.point_retrait", actor=membership.user, contract_id=review.contract_id,
           object_type="point", object_id=item.id, before={"intitule": item.title})  # fmt: skip
    review.items.remove(item)
    announce(review, f"ordre-du-jour-{review.id}")
    db.session.commit()


def total_minutes(review: Review) -> int:
    return sum(i.duration_minutes for i in review.items)
