"""Contracts (marchés), who belongs to them, and pending invitations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.organisations.models import Organisation

CATEGORIES = ("travaux", "fournitures", "services")
SIDES = ("acheteur", "titulaire")
ROLES = ("referent", "contributeur", "observateur")


class Contract(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(50), unique=True)
    object: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(12))
    notification_date: Mapped[date] = mapped_column(Date)
    duration_months: Mapped[int]
    initial_amount_ht: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    buyer_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    buyer_service: Mapped[str] = mapped_column(String(200), default="")
    supplier_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    progress_clause: Mapped[str] = mapped_column(Text, default="")  # Markdown
    plan_deadline: Mapped[date] = mapped_column(Date)
    min_reviews_per_year: Mapped[int] = mapped_column(default=2)
    # Working days the other side has to acknowledge a difficulty (the clause may say more).
    difficulty_response_days: Mapped[int] = mapped_column(default=5, server_default="5")
    # What amendments need (shared/LEGAL.md §A): who buys, how the contract was awarded, its
    # amounts and the article of the CCAP that holds the clause de progrès.
    buyer_type: Mapped[str] = mapped_column(
        String(20), default="autre_pa", server_default="autre_pa"
    )
    procedure: Mapped[str] = mapped_column(
        String(12), default="formalisee", server_default="formalisee"
    )
    awarded_by_cao: Mapped[bool] = mapped_column(default=False, server_default=false())
    buyer_is_collectivite: Mapped[bool] = mapped_column(default=False, server_default=false())
    vat_rate: Mapped[Decimal] = mapped_column(
        Numeric(5, 4), default=Decimal("0.20"), server_default="0.20"
    )
    price_regime: Mapped[str] = mapped_column(String(10), default="ferme", server_default="ferme")
    consultation_date: Mapped[date | None] = mapped_column(Date)
    lot: Mapped[str] = mapped_column(String(300), default="", server_default="")
    clause_article: Mapped[str] = mapped_column(String(60), default="", server_default="")
    clause_is_review_clause: Mapped[bool] = mapped_column(default=False, server_default=false())
    buyer_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    signing_place: Mapped[str] = mapped_column(String(120), default="", server_default="")
    # UNCONFIRMED in law (LEGAL.md §H): whether the holder's in-app visa is an acceptance.
    acceptance_by_visa: Mapped[bool] = mapped_column(default=False, server_default=false())
    print_vigilance: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Set by the buyer lead: both leads need the two-factor authentication to give a visa.
    visa_requires_2fa: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    buyer: Mapped[Organisation] = relationship(foreign_keys=[buyer_organisation_id])
    supplier: Mapped[Organisation] = relationship(foreign_keys=[supplier_organisation_id])
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="contract", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("category IN ('travaux', 'fournitures', 'services')", name="category"),
        CheckConstraint("duration_months > 0", name="duration_positive"),
        CheckConstraint("initial_amount_ht >= 0", name="amount_not_negative"),
        CheckConstraint("min_reviews_per_year >= 1", name="min_reviews_positive"),
        CheckConstraint(
            "buyer_organisation_id <> supplier_organisation_id", name="two_distinct_parties"
        ),
    )

    def organisation_of(self, side: str) -> Organisation:
        return self.buyer if side == "acheteur" else self.supplier

    def __repr__(self) -> str:
        return f"<Contract {self.reference}>"


class Membership(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(12))
    qualite: Mapped[str] = mapped_column(
        String(200), default="", server_default=""
    )  # printed on visas
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    contract: Mapped[Contract] = relationship(back_populates="memberships")

    __table_args__ = (
        UniqueConstraint("contract_id", "user_id", name="uq_membership_contract_user"),
        # A person's contracts, and « is this notification's contract still theirs » in one
        # probe (notifications.unread_count); by user_id alone, a buyer in 1,001 contracts
        # scanned them all for each unread notification.
        Index("ix_membership_user_contract", "user_id", "contract_id"),
        CheckConstraint("side IN ('acheteur', 'titulaire')", name="side"),
        CheckConstraint("role IN ('referent', 'contributeur', 'observateur')", name="role"),
    )

    @property
    def is_lead(self) -> bool:
        return self.role == "referent"

    def may(self, permission) -> bool:
        from app.permissions import membership_may

        return membership_may(self, permission)


class Invitation(db.Model):
    """A single-use, expiring link that makes its holder a member; the token is stored hashed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(254))
    full_name: Mapped[str] = mapped_column(String(120), default="")
    side: Mapped[str] = mapped_column(String(10))
    role: Mapped[str] = mapped_column(String(12))
    invited_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contract: Mapped[Contract] = relationship()
    invited_by: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("side IN ('acheteur', 'titulaire')", name="side"),
        CheckConstraint("role IN ('referent', 'contributeur', 'observateur')", name="role"),
    )

    def is_pending(self, now: datetime) -> bool:
        return self.accepted_at is None and self.cancelled_at is None and self.expires_at > now
