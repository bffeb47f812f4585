"""One table for every thread: a message names its subject (`subject_type`, `subject_key`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User

SHARED, INTERNAL = "partage", "interne"


class ThreadMessage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    subject_type: Mapped[str] = mapped_column(String(20))  # "difficulte", later "objectif"…
    subject_key: Mapped[str] = mapped_column(String(40))  # the difficulty's id, an item's uid…
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(120))  # kept if the account goes
    author_side: Mapped[str] = mapped_column(String(10))
    visibility: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)  # Markdown
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    __table_args__ = (
        Index("ix_thread_message_subject", "contract_id", "subject_type", "subject_key"),
        CheckConstraint("visibility IN ('partage', 'interne')", name="visibility"),
        CheckConstraint("author_side IN ('acheteur', 'titulaire')", name="author_side"),
    )

    @property
    def is_internal(self) -> bool:
        return self.visibility == INTERNAL
