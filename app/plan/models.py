"""The plan de progrès: versions, and the items each version holds (DESIGN §6).

Every item has a `uid` shared by its copies in every version, so two versions can be compared
item by item; `version` counts the edits of this copy and is what a save is based on."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.contracts.models import Contract

VERSION_STATUSES = ("brouillon", "en_vigueur", "remplacee", "abandonnee")
AXIS_KINDS = ("technique", "organisationnel", "financier", "societal", "environnemental")
ENVIRONMENTAL_PRIORITIES = ("decarbonation", "adaptation", "ressources", "vivant")
OBLIGATIONS = ("moyens", "resultats")
DIRECTIONS = ("hausse", "baisse")
PERIODICITIES = ("mensuelle", "trimestrielle", "semestrielle", "annuelle")
SIDES = ("acheteur", "titulaire", "les_deux")
ACTION_MODES = ("immediate", "progressive")
ACTION_STATUSES = ("proposee", "validee", "en_cours", "realisee", "abandonnee")


def new_uid() -> str:
    return str(uuid.uuid4())


class Plan(db.Model):
    """One per contract. `seq` numbers every change of its content, in commit order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), unique=True
    )
    seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[Contract] = relationship()
    versions: Mapped[list[PlanVersion]] = relationship(
        back_populates="plan", order_by="PlanVersion.id", foreign_keys="PlanVersion.plan_id"
    )


class PlanVersion(db.Model):
    """A state of the plan. Before the baseline: one draft. The baseline makes it version 1;
    later drafts are copies of the current version that a change request opens."""

    __tablename__ = "plan_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)  # 1, 2… once in force
    status: Mapped[str] = mapped_column(String(12), default="brouillon")
    label: Mapped[str] = mapped_column(String(200), default="")
    base_id: Mapped[int | None] = mapped_column(ForeignKey("plan_version.id"))
    content_hash: Mapped[str | None] = mapped_column(String(64))  # SHA-256 once frozen
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )

    plan: Mapped[Plan] = relationship(back_populates="versions", foreign_keys=[plan_id])
    base: Mapped[PlanVersion | None] = relationship(remote_side=[id])
    created_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint(
            "status IN ('brouillon', 'en_vigueur', 'remplacee', 'abandonnee')", name="status"
        ),
        UniqueConstraint("plan_id", "number", name="uq_plan_version_plan_number"),
    )

    @property
    def is_draft(self) -> bool:
        return self.status == "brouillon"


class PlanVisa(db.Model):
    """A lead's approval of a draft, bound to the SHA-256 of its content at that moment:
    any later edit changes the hash, and the visa no longer counts."""

    __tablename__ = "plan_visa"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_version.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_seq: Mapped[int | None] = mapped_column(Integer)

    user: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("side IN ('acheteur', 'titulaire')", name="side"),)


class PlanItem:
    """Columns and behaviour every plan item shares."""

    KIND: ClassVar[str]  # URL and history name: "objectif", "action"…
    FIELDS: ClassVar[tuple[str, ...]]  # what users edit, compared by the merge
    PARENT: ClassVar[str | None] = None  # attribute of the parent item, if any

    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), default=new_uid, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @declared_attr
    def plan_version_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("plan_version.id", ondelete="CASCADE"), index=True)

    @declared_attr
    def updated_by_id(cls) -> Mapped[int | None]:
        return mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    @declared_attr
    def plan_version(cls) -> Mapped[PlanVersion]:
        return relationship()

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        # The database's guard behind the merge: an UPDATE based on a stale version fails.
        return {"version_id_col": cls.__table__.c.version}

    @declared_attr
    def updated_by(cls) -> Mapped[User | None]:
        return relationship()

    def values(self) -> dict:
        """The editable fields, JSON-ready (dates and amounts as text)."""
        return {name: to_json(getattr(self, name)) for name in self.FIELDS}

    @property
    def parent(self):
        return getattr(self, self.PARENT) if self.PARENT else None


def to_json(value):
    if isinstance(value, date | Decimal):
        return str(value)
    if isinstance(value, list):
        return sorted(value)
    return value


class Axis(PlanItem, db.Model):
    KIND = "axe"
    FIELDS = ("kind", "title", "priorities", "mandatory", "description")

    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    priorities: Mapped[list] = mapped_column(JSON, default=list)  # environmental axes only
    mandatory: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    objectives: Mapped[list[Objective]] = relationship(
        back_populates="axis", order_by="Objective.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(
            "kind IN ('technique', 'organisationnel', 'financier', 'societal', 'environnemental')",
            name="kind",
        ),
    )


class Objective(PlanItem, db.Model):
    KIND = "objectif"
    FIELDS = ("title", "obligation", "description", "due_date", "accountable_side",
              "accountable_name")  # fmt: skip
    PARENT = "axis"

    axis_id: Mapped[int] = mapped_column(ForeignKey("axis.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    obligation: Mapped[str] = mapped_column(String(10), default="moyens")
    description: Mapped[str] = mapped_column(Text, default="")
    due_date: Mapped[date | None] = mapped_column(Date)
    accountable_side: Mapped[str] = mapped_column(String(10), default="titulaire")
    accountable_name: Mapped[str] = mapped_column(String(200), default="")

    axis: Mapped[Axis] = relationship(back_populates="objectives")
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="objective", order_by="Indicator.position", cascade="all, delete-orphan"
    )
    actions: Mapped[list[Action]] = relationship(
        back_populates="objective", order_by="Action.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("obligation IN ('moyens', 'resultats')", name="obligation"),
        CheckConstraint(
            "accountable_side IN ('acheteur', 'titulaire', 'les_deux')", name="accountable_side"
        ),
    )


class Indicator(PlanItem, db.Model):
    KIND = "indicateur"
    FIELDS = ("name", "unit", "direction", "baseline_value", "baseline_date", "target_value",
              "target_date", "periodicity", "reporting_side", "data_source")  # fmt: skip
    PARENT = "objective"

    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objective.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str] = mapped_column(String(40), default="")
    direction: Mapped[str] = mapped_column(String(6), default="hausse")
    baseline_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    baseline_date: Mapped[date | None] = mapped_column(Date)
    target_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    target_date: Mapped[date | None] = mapped_column(Date)
    periodicity: Mapped[str] = mapped_column(String(14), default="trimestrielle")
    reporting_side: Mapped[str] = mapped_column(String(10), default="titulaire")
    data_source: Mapped[str] = mapped_column(String(300), default="")

    objective: Mapped[Objective] = relationship(back_populates="indicators")
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="indicator", order_by="Milestone.due_date", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("direction IN ('hausse', 'baisse')", name="direction"),
        CheckConstraint(
            "periodicity IN ('mensuelle', 'trimestrielle', 'semestrielle', 'annuelle')",
            name="periodicity",
        ),
        CheckConstraint(
            "reporting_side IN ('acheteur', 'titulaire', 'les_deux')", name="reporting_side"
        ),
    )


class Milestone(PlanItem, db.Model):
    """An intermediate target of an indicator (montée en puissance)."""

    KIND = "jalon"
    FIELDS = ("due_date", "value", "note")
    PARENT = "indicator"

    indicator_id: Mapped[int] = mapped_column(
        ForeignKey("indicator.id", ondelete="CASCADE"), index=True
    )
    due_date: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    note: Mapped[str] = mapped_column(String(300), default="")

    indicator: Mapped[Indicator] = relationship(back_populates="milestones")


class Action(PlanItem, db.Model):
    KIND = "action"
    FIELDS = ("title", "owner_side", "description", "resources", "cost_estimate",
              "planned_start", "planned_end", "mode", "status", "abandon_reason")  # fmt: skip
    PARENT = "objective"

    objective_id: Mapped[int] = mapped_column(
        ForeignKey("objective.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    owner_side: Mapped[str] = mapped_column(String(10), default="titulaire")
    description: Mapped[str] = mapped_column(Text, default="")
    resources: Mapped[str] = mapped_column(Text, default="")  # moyens et ressources (Markdown)
    cost_estimate: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(12), default="immediate")
    status: Mapped[str] = mapped_column(String(12), default="proposee")
    abandon_reason: Mapped[str] = mapped_column(Text, default="")

    objective: Mapped[Objective] = relationship(back_populates="actions")

    __table_args__ = (
        CheckConstraint("owner_side IN ('acheteur', 'titulaire', 'les_deux')", name="owner_side"),
        CheckConstraint("mode IN ('immediate', 'progressive')", name="mode"),
        CheckConstraint(
            "status IN ('proposee', 'validee', 'en_cours', 'realisee', 'abandonnee')",
            name="status",
        ),
        CheckConstraint(
            "planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start",
            name="dates_in_order",
        ),
    )


class GainSharing(PlanItem, db.Model):
    """How gains are shared: one per plan version."""

    __tablename__ = "gain_sharing"
    KIND = "partage"
    FIELDS = ("buyer_share", "supplier_share", "financial_terms", "non_financial_gains")

    buyer_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # percent
    supplier_share: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    financial_terms: Mapped[str] = mapped_column(Text, default="")
    non_financial_gains: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (UniqueConstraint("plan_version_id", name="uq_gain_sharing_plan_version_id"),)


class ItemChange(db.Model):
    """One accepted change of one item: who, when, which fields before and after, and the
    item's full snapshot after it (what a later save based on this version merges against)."""

    __tablename__ = "item_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    plan_version_id: Mapped[int] = mapped_column(
        ForeignKey("plan_version.id", ondelete="CASCADE"), index=True
    )
    item_kind: Mapped[str] = mapped_column(String(12))
    item_uid: Mapped[str] = mapped_column(String(36))
    item_id: Mapped[int] = mapped_column(Integer)
    item_version: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(12))  # creation, modification, suppression…
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [before, after]
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        UniqueConstraint("plan_id", "seq", name="uq_item_change_plan_seq"),
        db.Index("ix_item_change_item", "item_kind", "item_id", "item_version"),
    )


ITEM_MODELS: dict[str, type[PlanItem]] = {
    model.KIND: model for model in (Axis, Objective, Indicator, Milestone, Action, GainSharing)
}
