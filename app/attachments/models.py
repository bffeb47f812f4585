"""A file attached to a contract (pièce jointe): the row describes it, the bytes live in storage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import db


class Attachment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    # The file's name on disk: a uuid4 hex, never anything the uploader chose (ASVS 5.3.2).
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))  # sanitised, shown and downloaded
    size: Mapped[int]
    mime: Mapped[str] = mapped_column(String(100))  # checked against the content
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.display_name!r}>"
