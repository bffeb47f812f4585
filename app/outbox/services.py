"""Queue e-mails in the outbox and deliver them (SMTP when configured, else the log)."""

from __future__ import annotations

import base64
import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app, g
from sqlalchemy import inspect, select

from app.database import writing
from app.db_types import utcnow
from app.extensions import db
from app.outbox.models import OutboxEmail

log = logging.getLogger("progres.outbox")
MAX_ATTEMPTS = 5


def queue_email(recipient: str, subject: str, body: str, *, kind: str = "",
                attachments: list[tuple[str, str, bytes]] = ()) -> OutboxEmail:  # fmt: skip
    """Add an e-mail to the caller's transaction: it exists only if the change commits.
    `attachments`: (file name, MIME type, content) of each file sent with it."""
    email = OutboxEmail(
        recipient=recipient, subject=subject, body=body, kind=kind,
        attachments=[{"filename": name, "mime": mime, "base64": base64.b64encode(data).decode()}
                     for name, mime, data in attachments],
    )  # fmt: skip
    db.session.add(email)
    if g:  # remembered so the request can deliver it right after its commit
        g.setdefault("queued_emails", []).append(email)
    return email


def _deliver(email: OutboxEmail) -> None:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = email.recipient
    message["Subject"] = email.subject
    # A stable Message-ID lets mail clients drop a duplicate after a crash between send and mark.
    host = urlsplit(config["PUBLIC_URL"]).hostname or "progres.localhost"
    message["Message-ID"] = f"<outbox-{email.id}.{email.created_at:%Y%m%d%H%M%S}@{host}>"
    message.set_content(email.body)
    for item in email.attachments or ():
        maintype, _slash, subtype = item["mime"].partition("/")
        message.add_attachment(base64.b64decode(item["base64"]), maintype=maintype,
                               subtype=subtype, filename=item["filename"])  # fmt: skip
    if not config["MAIL_SERVER"]:
        log.info("E-mail (pas de serveur SMTP configuré) :\n%s", message.as_string())
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def _pending_query(limit: int, ids: list[int] | None, tried: set[int]):
    query = (
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxEmail.id)
        .limit(limit)
    )
    if tried:  # one attempt per e-mail and per run: a failing server is retried next run
        query = query.where(OutboxEmail.id.not_in(tried))
    if ids is not None:
        query = query.where(OutboxEmail.id.in_(ids))
    # Several senders may run: each takes rows the others have not locked (PostgreSQL).
    return query.with_for_update(skip_locked=True)


def send_pending(limit: int = 100, ids: list[int] | None = None) -> int:
    """Send up to `limit` unsent e-mails, one transaction each; return how many were sent."""
    sent, tried = 0, set()
    for _ in range(limit):
        email = db.session.scalars(_pending_query(1, ids, tried)).first()
        if email is None:
            break
        tried.add(email.id)
        email.attempts += 1
        try:
            _deliver(email)
        except (OSError, smtplib.SMTPException) as error:
            email.last_error = str(error)[:2000]
            log.warning("Envoi de l'e-mail %s échoué : %s", email.id, error)
            db.session.commit()
            continue
        email.sent_at = utcnow()
        db.session.commit()
        sent += 1
    return sent


def deliver_queued_after_request() -> None:
    """Send what this request queued, once its transaction has committed (dev convenience)."""
    queued = g.pop("queued_emails", [])
    ids = [email.id for email in queued if inspect(email).persistent]
    if ids and current_app.config["OUTBOX_DELIVER_AFTER_REQUEST"]:
        with writing():  # after a GET too: each e-mail's row is locked, then marked sent
            send_pending(limit=len(ids), ids=ids)
