from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.attachments.models import Attachment
    from app.auth.models import User

VALIDATIONS = {
    "a_valider": _l("À valider"),
    "validee": _l("Validée"),
    "questionnee": _l("Questionnée"),
}
SOURCES = {"saisie": _l("Saisie"), "import": _l("Import"), "api": _l("API")}


class Measurement(db.Model):
    """One value of an indicator for one period (period_start … period_end), entered by one
    side and validated or questioned by the other. One value per indicator and period: a new
    value for the same period is a correction, checked against the version the person saw."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    indicator_uid: Mapped[str] = mapped_column(String(36))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    comment: Mapped[str] = mapped_column(Text, default="")
    evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(8), default="saisie")
    entered_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    entered_by_side: Mapped[str] = mapped_column(String(10))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    validation: Mapped[str] = mapped_column(String(12), default="a_valider")
    validation_note: Mapped[str] = mapped_column(Text, default="")
    validated_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    evidence: Mapped[Attachment | None] = relationship()
    events: Mapped[list[MeasurementEvent]] = relationship(
        back_populates="measurement", cascade="all, delete-orphan", order_by="MeasurementEvent.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint(
            "contract_id", "indicator_uid", "period_start", name="uq_measurement_indicator_period"
        ),
        Index("ix_measurement_contract_indicator", "contract_id", "indicator_uid"),
        CheckConstraint("validation IN ('a_valider', 'validee', 'questionnee')", name="validation"),
        CheckConstraint("source IN ('saisie', 'import', 'api')", name="source"),
        CheckConstraint("entered_by_side IN ('acheteur', 'titulaire')", name="entered_by_side"),
        CheckConstraint("period_end >= period_start", name="period_in_order"),
    )


class MeasurementEvent(db.Model):
    """A value's history: entered, corrected, validated, questioned (who, when, what)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    measurement_id: Mapped[int] = mapped_column(
        ForeignKey("measurement.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(12))  # saisie, correction, validation, question
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {field: [before, after]}
    note: Mapped[str] = mapped_column(Text, default="")

    measurement: Mapped[Measurement] = relationship(back_populates="events")


class IdempotentRequest(db.Model):
    """An API write already done, by its Idempotency-Key: a retried push answers the same
    and stores nothing twice (SECURITY.md catalogue 29)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))  # the same key with another body: 422
    status: Mapped[int]
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotent_request_token_key"),)


class ApiToken(db.Model):
    """A personal access token for suppliers' systems: one contract, read or write, shown once,
    stored as its SHA-256, revocable, expiring."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    scope: Mapped[str] = mapped_column(String(8))  # lecture, ecriture
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_api_token_contract", "contract_id"),
        CheckConstraint("scope IN ('lecture', 'ecriture')", name="scope"),
    )
