"""A difficulty, the plan items it affects (by uid: they survive new versions), its files and
its history. Its thread lives in `app.threads` (subject « difficulte », key = its id)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.attachments.models import Attachment
from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.contracts.models import Contract

STATUSES = {
    "ouverte": _l("Ouverte"),
    "prise_en_compte": _l("Prise en compte"),
    "en_cours": _l("En cours de traitement"),
    "a_traiter_en_revue": _l("À traiter en revue"),
    "resolue": _l("Résolue"),
    "close": _l("Close"),
}
UNRESOLVED = ("ouverte", "prise_en_compte", "en_cours", "a_traiter_en_revue")
CATEGORIES = {
    "delais": _l("Délais"),
    "approvisionnement": _l("Approvisionnement"),
    "technique": _l("Technique"),
    "financier": _l("Financier"),
    "organisationnel": _l("Organisationnel"),
    "reglementaire": _l("Réglementaire"),
    "autre": _l("Autre"),
}
SEVERITIES = {
    "faible": _l("Faible"),
    "moyenne": _l("Moyenne"),
    "elevee": _l("Élevée"),
    "critique": _l("Critique"),
}
LINKABLE = {"objectif": _l("Objectif"), "indicateur": _l("Indicateur"), "action": _l("Action")}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


difficulty_attachment = Table(
    "difficulty_attachment",
    db.metadata,
    Column("difficulty_id", ForeignKey("difficulty.id", ondelete="CASCADE"), primary_key=True),
    Column("attachment_id", ForeignKey("attachment.id", ondelete="CASCADE"), primary_key=True),
)


class Difficulty(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    number: Mapped[int]  # n° within the contract: « Difficulté n° 3 »
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    category: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    request: Mapped[str] = mapped_column(Text, default="")  # what is asked of the other side
    raised_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    raised_by_side: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="ouverte")
    response_due: Mapped[date] = mapped_column(Date)  # acknowledgement expected by
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    for_review_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_on: Mapped[date | None] = mapped_column(Date)  # last overdue reminder
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    contract: Mapped[Contract] = relationship()
    raised_by: Mapped[User | None] = relationship(foreign_keys=[raised_by_id])
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    links: Mapped[list[DifficultyLink]] = relationship(
        back_populates="difficulty", cascade="all, delete-orphan", order_by="DifficultyLink.id"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        secondary=difficulty_attachment, order_by=Attachment.id
    )
    events: Mapped[list[DifficultyEvent]] = relationship(
        back_populates="difficulty", cascade="all, delete-orphan", order_by="DifficultyEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "number", name="uq_difficulty_contract_number"),
        Index("ix_difficulty_contract_status", "contract_id", "status"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("category", CATEGORIES), name="category"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint("raised_by_side IN ('acheteur', 'titulaire')", name="raised_by_side"),
    )

    @property
    def other_side(self) -> str:
        return "titulaire" if self.raised_by_side == "acheteur" else "acheteur"

    @property
    def is_unresolved(self) -> bool:
        return self.status in UNRESOLVED

    def is_overdue(self, today: date) -> bool:
        """Not yet acknowledged by the other side after its response deadline."""
        return self.status == "ouverte" and today > self.response_due


class DifficultyLink(db.Model):
    """A plan item the difficulty affects, by the item's uid (stable across versions)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    difficulty_id: Mapped[int] = mapped_column(ForeignKey("difficulty.id", ondelete="CASCADE"))
    item_kind: Mapped[str] = mapped_column(String(12))
    item_uid: Mapped[str] = mapped_column(String(36), index=True)

    difficulty: Mapped[Difficulty] = relationship(back_populates="links")

    __table_args__ = (
        UniqueConstraint("difficulty_id", "item_uid", name="uq_difficulty_link_item"),
        CheckConstraint(_in("item_kind", LINKABLE), name="item_kind"),
    )


class DifficultyEvent(db.Model):
    """One step of a difficulty's life: who, when, from which status to which, and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    difficulty_id: Mapped[int] = mapped_column(
        ForeignKey("difficulty.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    actor_side: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(20))  # signalement, prise_en_compte, …
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")

    difficulty: Mapped[Difficulty] = relationship(back_populates="events")
