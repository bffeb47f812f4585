"""Small helpers shared by tests."""

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, select

from app.extensions import db
from app.outbox.models import OutboxEmail
from tests.factories import PASSWORD


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


def logged_in_client(app, user, password: str = PASSWORD, **headers):
    """A new browser (test client) logged in as `user` through the login form."""
    client = app.test_client()
    response = client.post("/connexion", data={"email": user.email, "password": password},
                           headers=headers)  # fmt: skip
    assert response.status_code == 302
    return client


@contextmanager
def statements_run() -> Iterator[list[str]]:
    """The SQL statements run inside the block (white space folded), as a list that fills."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
