"""The .ics of a review (icalendar) and the invitation e-mails that carry it.

The event's UID is stable per review, and SEQUENCE follows the review's version, so a changed
or cancelled review updates the event already in people's calendars instead of adding one."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from app.db_types import utcnow
from app.links import external_url
from app.outbox.services import queue_email
from app.reviews.models import KINDS, Review


def _host() -> str:
    from urllib.parse import urlsplit

    return urlsplit(current_app.config["PUBLIC_URL"]).hostname or "progres.localhost"


def review_title(review: Review) -> str:
    return _("%(kind)s n° %(n)d — marché %(ref)s", kind=KINDS[review.kind], n=review.number,
             ref=review.contract.reference)  # fmt: skip


def ics_of(reviews: list[Review], *, cancelled: bool = False, name: str = "") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Progrès//Revues//FR")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    if name:
        calendar.add("x-wr-calname", name)
    for review in reviews:
        event = Event()
        event.add("uid", f"revue-{review.id}@{_host()}")
        event.add("dtstamp", utcnow())
        event.add("dtstart", review.starts_at)
        event.add("dtend", review.starts_at + timedelta(minutes=review.duration_minutes))
        event.add("summary", review_title(review))
        event.add("sequence", review.version)
        where = review.place or review.video_link
        if where:
            event.add("location", where)
        link = external_url(
            "contract.reviews.show", contract_id=review.contract_id, review_id=review.id
        )
        description = [review.contract.object, link]
        if review.video_link:
            description.insert(1, _("Visioconférence : %(link)s", link=review.video_link))
        event.add("description", "\n".join(description))
        event.add("url", link)
        event.add("status", "CANCELLED" if cancelled or review.status == "annulee" else "CONFIRMED")
        for person in review.attendees:
            if person.email:
                attendee = vCalAddress(f"mailto:{person.email}")
                attendee.params["cn"] = vText(person.name)
                event.add("attendee", attendee, encode=0)
        calendar.add_component(event)
    return calendar.to_ical()


def invite_attendees(review: Review, *, cancelled: bool = False) -> int:
    """One e-mail per attendee with an address, with the .ics; in the caller's transaction."""
    sent = 0
    ics = ics_of([review], cancelled=cancelled)
    for person in review.attendees:
        if not person.email:
            continue
        locale = (person.user.locale if person.user else None) or current_app.config[
            "BABEL_DEFAULT_LOCALE"
        ]
        with force_locale(locale):
            subject = (_("[Progrès] Annulée : %(title)s", title=review_title(review)) if cancelled
                       else _("[Progrès] Invitation : %(title)s", title=review_title(review)))  # fmt: skip
            body = render_template("reviews/emails/invitation.txt", review=review, person=person,
                                   cancelled=cancelled, kinds=KINDS,
                                   link=external_url("contract.reviews.show", contract_id=review.contract_id,
                                                     review_id=review.id))  # fmt: skip
        queue_email(
            person.email,
            subject[:200],
            body,
            kind="revue",
            attachments=[(f"revue-{review.number}.ics", "text/calendar", ics)],
        )
        sent += 1
    return sent
