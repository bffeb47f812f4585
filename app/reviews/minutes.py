"""The minutes: whose turn it is to write them, submission, approval or changes asked by the
other side's lead, then frozen: the PDF (WeasyPrint, through the static-only fetcher of app.exports.pdf),
its SHA-256, its storage as an attachment of the contract, and its sending to the attendees."""

from __future__ import annotations

import hashlib
import uuid

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from app.attachments.models import Attachment
from app.attachments.storage import storage
from app.audit.services import record, text_digest
from app.contracts.models import Membership
from app.database import flush_or_conflict
from app.db_types import utcnow
from app.errors import Conflict, DomainError, NotAllowed
from app.extensions import db
from app.links import external_url
from app.outbox.services import queue_email
from app.permissions import Permission
from app.reviews.agenda import total_minutes
from app.reviews.models import BUYER_DECISIONS, KINDS, OUTCOMES, SOURCES, MinutesComment, Review
from app.reviews.services import (
    TEXT_MAX,
    announce,
    check_version,
    not_frozen,
    other,
)


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
    not_frozen(review)
    if review.minutes_status == "soumis":
        raise Conflict(_("Le compte-rendu est soumis : attendez l'avis de l'autre partie."))
    if not (reason or "").strip():
        raise DomainError(_("Indiquez pourquoi la rédaction change de main."), field="reason")
    before = review.minutes_side
    review.minutes_side, review.minutes_handover_reason = other(before), reason.strip()[:TEXT_MAX]
    record("revue.relais_redaction", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id,
           before={"redaction": before}, after={"redaction": review.minutes_side, "motif": reason.strip()})  # fmt: skip
    announce(review)
    db.session.commit()


def save_summary(review: Review, membership: Membership, text: str, seen_version: int) -> None:
    if not may_write_minutes(review, membership):
        raise NotAllowed(_("Le compte-rendu est rédigé par la partie dont c'est le tour."))
    check_version(
        review,
        seen_version,
        _(
            "Le compte-rendu a été modifié entre-temps : votre texte est gardé, vérifiez avant d'enregistrer."
        ),
    )
    review.minutes_summary = (text or "").strip()[:TEXT_MAX]
    flush_or_conflict(_("Le compte-rendu a été modifié entre-temps : rechargez la page."))
    record("revue.cr_synthese", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id,
           after={"empreinte": text_digest(review.minutes_summary)})  # fmt: skip
    announce(review)
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
    announce(review)
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
    announce(review)
    db.session.commit()


def approve_minutes(review: Review, membership: Membership) -> None:
    """Freeze the minutes: render the PDF, keep its SHA-256, send it to the attendees."""
    if not may_judge_minutes(review, membership):
        raise NotAllowed(
            _("Le compte-rendu est approuvé ou renvoyé par le référent de l'autre partie.")
        )
    review.minutes_status = "approuve"
    review.minutes_approved_at, review.minutes_approved_by_id = utcnow(), membership.user_id
    freeze(review, membership)
    record("revue.cr_approuve", actor=membership.user, contract_id=review.contract_id,
           object_type="revue", object_id=review.id, after={"sha256": review.minutes_sha256})  # fmt: skip
    announce(review)
    db.session.commit()


def _notify_other_side(review: Review, membership: Membership, text: str) -> None:
    from app.notifications.services import notify

    path = f"/contrats/{review.contract_id}/revues/{review.id}/"
    people = [m.user for m in db.session.scalars(select(Membership).where(
        Membership.contract_id == review.contract_id, Membership.side != membership.side))]  # fmt: skip
    notify(people, review.contract, "revue", lambda: text, path, exclude=membership.user)
