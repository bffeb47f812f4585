"""The append-only audit trail: one SHA-256 hash chain per contract, one for the platform."""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime
from app.extensions import db

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "contrat:<id>" or "plateforme": each chain can be verified and exported on its own.
    chain: Mapped[str] = mapped_column(String(30))
    seq: Mapped[int] = mapped_column(Integer)
    contract_id: Mapped[int | None] = mapped_column(
        ForeignKey("contract.id", ondelete="RESTRICT"), index=True
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    # No foreign key: the trail outlives the accounts it names.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_label: Mapped[str] = mapped_column(String(300), default="")
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40), default="")
    object_id: Mapped[str] = mapped_column(String(64), default="")
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON: {"before": …, "after": …}
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_event_chain_seq"),)
