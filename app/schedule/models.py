from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User


class ActionFollowUp(db.Model):
    """Where an action of the plan in force stands: status, progress, actual dates. The plan's
    own Action.status is what was agreed; this is what happens (no change request needed)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    action_uid: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12))
    progress: Mapped[int] = mapped_column(default=0)  # percent
    actual_start: Mapped[date | None] = mapped_column(Date)
    actual_end: Mapped[date | None] = mapped_column(Date)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    updated_by: Mapped[User | None] = relationship()
    events: Mapped[list[ActionFollowUpEvent]] = relationship(
        back_populates="follow_up", cascade="all, delete-orphan", order_by="ActionFollowUpEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "action_uid", name="uq_action_follow_up_action"),
        CheckConstraint(
            "status IN ('proposee', 'validee', 'en_cours', 'realisee', 'abandonnee')",
            name="status",
        ),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress"),
        CheckConstraint(
            "actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start",
            name="actual_dates_in_order",
        ),
    )


class ActionFollowUpEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    follow_up_id: Mapped[int] = mapped_column(
        ForeignKey("action_follow_up.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {field: [before, after]}

    follow_up: Mapped[ActionFollowUp] = relationship(back_populates="events")
