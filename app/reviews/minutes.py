"""Frozen minutes: the PDF (WeasyPrint, through the static-only fetcher of app.exports.pdf),
its SHA-256, its storage as an attachment of the contract, and its sending to the attendees."""

from __future__ import annotations

import hashlib
import uuid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from app.attachments.models import Attachment
from app.attachments.storage import storage
from app.extensions import db
from app.links import external_url
from app.outbox.services import queue_email
from app.reviews.models import BUYER_DECISIONS, KINDS, OUTCOMES, SOURCES, Review
from app.reviews.services import total_minutes


def minutes_html(review: Review) -> str:
    from app.plan.versions import plan_in_force, version_label

    in_force = plan_in_force(review.contract)
    return render_template(
        "reviews/minutes_pdf.html", review=review, contract=review.contract, kinds=KINDS,
        outcomes=OUTCOMES, sources=SOURCES, decisions=BUYER_DECISIONS,
        total=total_minutes(review), plan_label=version_label(in_force) if in_force else "",
    )  # fmt: skip


def minutes_pdf(review: Review) -> bytes:
    from app.exports.pdf import render_pdf

    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # the minutes are in French
        return render_pdf(minutes_html(review))


def file_name(review: Review) -> str:
    return f"compte-rendu-revue-{review.number}-{review.contract.reference}.pdf"


def freeze(review: Review, membership) -> Attachment:
    """Render, hash and store the approved minutes; send them to every attendee with an address."""
    pdf = minutes_pdf(review)
    digest = hashlib.sha256(pdf).hexdigest()
    attachment = Attachment(
        contract_id=review.contract_id, storage_key=uuid.uuid4().hex, display_name=file_name(review),
        size=len(pdf), mime="application/pdf", sha256=digest, uploaded_by_id=membership.user_id,
    )  # fmt: skip
    storage().save(review.contract_id, attachment.storage_key, pdf)
    db.session.info.setdefault("files_written", []).append(
        (review.contract_id, attachment.storage_key)
    )
    db.session.add(attachment)
    db.session.flush()
    review.minutes_pdf_id, review.minutes_sha256 = attachment.id, digest
    link = external_url(
        "contract.reviews.show", contract_id=review.contract_id, review_id=review.id
    )
    for person in review.attendees:
        if person.email:
            queue_email(
                person.email,
                _("[Progrès] Compte-rendu approuvé : revue n° %(n)d, marché %(ref)s",
                  n=review.number, ref=review.contract.reference),
                render_template("reviews/emails/minutes.txt", review=review, person=person,
                                digest=digest, link=link),
                kind="compte_rendu", attachments=[(file_name(review), "application/pdf", pdf)],
            )  # fmt: skip
    return attachment
