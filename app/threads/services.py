"""Reading and writing a thread. The one field rule (SECURITY.md 8.1.2): an internal note is
visible to its author's side only, so every read goes through `visible_to`."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.contracts.models import Membership
from app.errors import DomainError
from app.extensions import db
from app.threads.models import INTERNAL, SHARED, ThreadMessage

MAX_BODY = 20_000


def visible_to(membership: Membership):
    """The SQL condition « this member may read this message »."""
    return readable_by(membership.side)


def readable_by(side):
    """The same for a member of `side` (a value, or a bindparam in a statement built once)."""
    return or_(ThreadMessage.visibility == SHARED, ThreadMessage.author_side == side)


def messages(contract_id: int, subject_type: str, key, membership: Membership):
    return db.session.scalars(
        select(ThreadMessage)
        .where(ThreadMessage.contract_id == contract_id, ThreadMessage.subject_type == subject_type,
               ThreadMessage.subject_key == str(key), visible_to(membership))
        .order_by(ThreadMessage.created_at, ThreadMessage.id)
    ).all()  # fmt: skip


def add_message(contract_id: int, subject_type: str, key, membership: Membership, body: str,
                *, internal: bool) -> ThreadMessage:  # fmt: skip
    """Add a message to the caller's transaction (no commit)."""
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Écrivez votre message avant de l'envoyer."), field="body")
    if len(body) > MAX_BODY:
        raise DomainError(
            _("Le message est trop long (%(max)d caractères au plus).", max=MAX_BODY), field="body"
        )
    message = ThreadMessage(
        contract_id=contract_id,
        subject_type=subject_type,
        subject_key=str(key),
        author=membership.user,
        author_name=membership.user.full_name,
        author_side=membership.side,
        visibility=INTERNAL if internal else SHARED,
        body=body,
    )
    db.session.add(message)
    db.session.flush()
    return message


def mentioned(body: str, candidates: list[Membership]) -> list[Membership]:
    """The members named as « @Prénom Nom » in `body` (case and accents as written; the longest
    name wins when one is the start of another)."""
    found, text = [], body
    for member in sorted(candidates, key=lambda m: -len(m.user.full_name)):
        pattern = re.compile(r"@" + re.escape(member.user.full_name) + r"(?!\w)", re.IGNORECASE)
        if pattern.search(text):
            found.append(member)
            text = pattern.sub(" ", text)
    return found
