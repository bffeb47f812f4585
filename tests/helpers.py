"""Small helpers shared by tests."""

import html
import re

from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxEmail


def emails_to(address: str, kind: str | None = None) -> list[OutboxEmail]:
    query = select(OutboxEmail).where(OutboxEmail.recipient == address).order_by(OutboxEmail.id)
    if kind:
        query = query.where(OutboxEmail.kind == kind)
    return list(db.session.scalars(query))


def link_in(email: OutboxEmail) -> str:
    """The path of the single link an e-mail carries (the host is PUBLIC_URL)."""
    match = re.search(r"https?://[^/\s]+(/\S+)", email.body)
    assert match, email.body
    return match.group(1)


def page_text(response) -> str:
    """The response body with HTML entities decoded (&#39; → ')."""
    return html.unescape(response.get_data(as_text=True))
