"""Change requests (demandes de modification), their documents and the visas given on them.

A change request holds a draft plan version both sides co-edit; once approved by the buyer
lead it is formalised as an exchange of letters or an amendment draft (EXE10), whose stored
PDFs receive visas bound to their SHA-256; it is applied to the plan only once the holder's
acceptance (letter) or the signed and notified amendment is recorded (shared/LEGAL.md §H)."""

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
    Integer,
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
    from app.contracts.models import Contract
    from app.plan.models import PlanVersion

STATUSES = {
    "brouillon": _l("Brouillon"),
    "soumise": _l("Soumise à l'acheteur"),
    "approuvee": _l("Approuvée, à formaliser"),
    "refusee": _l("Refusée"),
    "retiree": _l("Retirée"),
    "formalisation": _l("En formalisation (visas)"),
    "signature": _l("Transmise pour signature"),
    "signee": _l("Signée, à notifier"),
    "a_appliquer": _l("À appliquer (mise à jour du projet nécessaire)"),
    "appliquee": _l("Appliquée"),
}
# Still moving towards the plan: what the dashboard and the review agenda list.
PENDING = ("soumise", "approuvee", "formalisation", "signature", "signee", "a_appliquer")
FORMALISATIONS = {"lettre": _l("Échange de lettres"), "avenant": _l("Avenant")}
DOCUMENT_KINDS = {
    "lettre": _l("Courrier de l'acheteur"),
    "acceptation": _l("Accord du titulaire"),
    "avenant": _l("Projet d'avenant (PDF)"),
    "avenant_docx": _l("Projet d'avenant (DOCX, modifiable)"),
}
SIGNATURE_KINDS = {
    "manuscrite": _l("Signature manuscrite"),
    "avancee_qualifiee": _l("Signature électronique avancée avec certificat qualifié"),
    "qualifiee": _l("Signature électronique qualifiée"),
}
NOTIFICATION_MODES = {
    "recepisse": _l("Remise contre récépissé"),
    "lrar": _l("Lettre recommandée avec accusé de réception"),
    "electronique": _l("Voie électronique (première consultation par le titulaire)"),
}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ChangeRequest(db.Model):
    __tablename__ = "change_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]  # évolution n° k, per contract
    title: Mapped[str] = mapped_column(String(200))
    rationale: Mapped[str] = mapped_column(Text, default="")  # Markdown
    status: Mapped[str] = mapped_column(String(14), default="brouillon")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_side: Mapped[str] = mapped_column(String(10))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))
    draft_version_id: Mapped[int] = mapped_column(ForeignKey("plan_version.id"), index=True)
    # The version in force the change replaced, once applied (what its diff is taken against).
    replaced_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_version.id"))
    # Effect on the contract: LEGAL.md §B questions {key: {"answer": bool|None, "note": str}}.
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    financial_impact_ht: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=Decimal("0"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    # Formalisation: letter or amendment, confirmed (or overridden with a reason) by the buyer.
    formalisation: Mapped[str | None] = mapped_column(String(8))
    formalisation_reason: Mapped[str] = mapped_column(Text, default="")
    # The amendment draft (EXE10).
    amendment_number: Mapped[int | None] = mapped_column(Integer)
    legal_basis: Mapped[str | None] = mapped_column(String(16))
    basis_justification: Mapped[str] = mapped_column(Text, default="")
    revised_initial_ht: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))  # B
    modifications: Mapped[list] = mapped_column(JSON, default=list)  # [{article, text, impact_ht}]
    r2194_7_answers: Mapped[dict] = mapped_column(JSON, default=dict)
    touches_price_formula: Mapped[bool] = mapped_column(default=False)
    signatory_name: Mapped[str] = mapped_column(String(200), default="")  # the side's signatory
    signatory_qualite: Mapped[str] = mapped_column(String(200), default="")
    holder_signatory_name: Mapped[str] = mapped_column(String(200), default="")
    holder_signatory_qualite: Mapped[str] = mapped_column(String(200), default="")
    effective_date: Mapped[date | None] = mapped_column(Date)
    # Signature outside Progrès, then notification (amendment).
    transmitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signed_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL")
    )
    signature_kind: Mapped[str | None] = mapped_column(String(20))
    signatories: Mapped[list] = mapped_column(
        JSON, default=list
    )  # [{name, qualite, side, delegation}]
    notification_mode: Mapped[str | None] = mapped_column(String(12))
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The holder's acceptance (letter): an in-app visa or an uploaded signed reply.
    acceptance_attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL")
    )
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the last update of the draft onto the version in force could not merge.
    rebase_conflicts: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    contract: Mapped[Contract] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    draft_version: Mapped[PlanVersion] = relationship(foreign_keys=[draft_version_id])
    replaced_version: Mapped[PlanVersion | None] = relationship(foreign_keys=[replaced_version_id])
    signed_attachment: Mapped[Attachment | None] = relationship(foreign_keys=[signed_attachment_id])
    acceptance_attachment: Mapped[Attachment | None] = relationship(
        foreign_keys=[acceptance_attachment_id]
    )
    documents: Mapped[list[ChangeDocument]] = relationship(
        back_populates="change_request", order_by="ChangeDocument.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "number", name="uq_change_request_number"),
        UniqueConstraint("contract_id", "amendment_number", name="uq_change_request_amendment"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint("author_side IN ('acheteur', 'titulaire')", name="author_side"),
        CheckConstraint(
            "formalisation IS NULL OR formalisation IN ('lettre', 'avenant')", name="formalisation"
        ),
    )

    @property
    def is_amendment(self) -> bool:
        return self.formalisation == "avenant"

    @property
    def is_open(self) -> bool:
        return self.status in ("brouillon", *PENDING)


class ChangeDocument(db.Model):
    """One generated document, stored as the bytes the visas are bound to. Regenerating a
    document voids it (and its visas) and stores a new generation."""

    __tablename__ = "change_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    change_request_id: Mapped[int] = mapped_column(
        ForeignKey("change_request.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(14))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachment.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    change_request: Mapped[ChangeRequest] = relationship(back_populates="documents")
    attachment: Mapped[Attachment] = relationship()
    created_by: Mapped[User | None] = relationship()
    visas: Mapped[list[ChangeVisa]] = relationship(
        back_populates="document", order_by="ChangeVisa.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint(_in("kind", DOCUMENT_KINDS), name="kind"),
        UniqueConstraint("change_request_id", "kind", "generation", name="uq_change_document"),
    )

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None


class ChangeVisa(db.Model):
    """A lead's visa on one stored document: who (name, organisation, qualité at the time),
    when (UTC) and the SHA-256 of the exact bytes. Not a signature (LEGAL.md §H)."""

    __tablename__ = "change_visa"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("change_document.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    full_name: Mapped[str] = mapped_column(String(120))
    organisation_name: Mapped[str] = mapped_column(String(200))
    qualite: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    audit_seq: Mapped[int | None] = mapped_column(Integer)

    document: Mapped[ChangeDocument] = relationship(back_populates="visas")

    __table_args__ = (
        UniqueConstraint("document_id", "side", name="uq_change_visa_side"),
        CheckConstraint("side IN ('acheteur', 'titulaire')", name="side"),
    )
