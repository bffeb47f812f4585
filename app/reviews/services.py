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
  by the other side, then frozen: nothing of the review changes any more.

This module holds the reading, the shared checks and the scheduling; the agenda is in
agenda.py, the meeting in meeting.py, the minutes in minutes.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.audit.services import record
from app.contracts.models import Contract, Membership
from app.db_types import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.reviews.models import (
    KINDS,
    Review,
    ReviewAttendee,
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


def require(membership: Membership, permission: Permission, message: str) -> None:
    if not membership.may(permission):
        raise NotAllowed(message)


def not_frozen(review: Review) -> None:
    if review.minutes_frozen:
        raise DomainError(
            _("Le compte-rendu de cette revue est approuvé : la revue ne change plus.")
        )
    if review.status == "annulee":
        raise DomainError(_("Cette revue est annulée."))


def check_version(obj, seen_version: int | None, message: str) -> None:
    if seen_version is None or obj.version != seen_version:
        raise Conflict(message)


def announce(review: Review, name: str | None = None) -> None:
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
    require(
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
    announce(review)
    db.session.commit()
    return review


def cancel_review(review: Review, membership: Membership, reason: str) -> None:
    require(
        membership,
        Permission.ORGANISE_REVIEWS,
        _("Votre rôle ne permet pas d'organiser une revue."),
    )
    not_frozen(review)
    if not (reason or "").strip():
        raise DomainError(_("Indiquez pourquoi la revue est annulée."), field="reason")
    review.status = "annulee"
    record("revue.annulation", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"motif": reason.strip()})  # fmt: skip
    from app.reviews.invitations import invite_attendees

    invite_attendees(review, cancelled=True)
    announce(review)
    db.session.commit()
