"""Organisations: the public buyers and the companies that hold contracts."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

ORGANISATION_KINDS = ("acheteur_public", "entreprise")
COMPANY_SIZES = ("TPE", "PME", "ETI", "GE")


class Organisation(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # Company size (TPE/PME/ETI/GE); None for a public buyer.
    size: Mapped[str | None] = mapped_column(String(3))
    ess: Mapped[bool] = mapped_column(Boolean, default=False)  # économie sociale et solidaire
    # Identification printed on letters and amendments (EXE10 sections A and B).
    trade_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    address: Mapped[str] = mapped_column(Text, default="", server_default="")  # establishment
    head_office_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    head_office_siret: Mapped[str] = mapped_column(String(14), default="", server_default="")
    email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("kind IN ('acheteur_public', 'entreprise')", name="kind"),
        CheckConstraint("size IS NULL OR size IN ('TPE', 'PME', 'ETI', 'GE')", name="size"),
    )

    @property
    def is_public_buyer(self) -> bool:
        return self.kind == "acheteur_public"

    def __repr__(self) -> str:
        return f"<Organisation {self.name}>"
