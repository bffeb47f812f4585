"""Single-use link tokens: 256 random bits sent to the person, only their SHA-256 stored."""

import hashlib
import secrets

from sqlalchemy import update

from app.db_types import utcnow
from app.extensions import db


def new_token() -> tuple[str, str]:
    """Return (token for the link, hash for the database)."""
    token = secrets.token_urlsafe(32)
    return token, token_hash(token)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def claim_once(model, row_id: int, column: str = "used_at") -> bool:
    """Mark a link's row used in one conditional UPDATE: of two concurrent uses, one wins."""
    used = getattr(model, column)
    result = db.session.execute(
        update(model).where(model.id == row_id, used.is_(None)).values({column: utcnow()})
    )
    return result.rowcount == 1
