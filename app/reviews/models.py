from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import UTCDateTime, utcnow
from app.extensions import db

if TYPE_CHECKING:
    from app.auth.models import User
    from app.contracts.models import Contract

KINDS = {
    "revue_performance": _l("Revue de performance"),
    "comite_pilotage": _l("Comité de pilotage"),
    "rendez_vous": _l("Rendez-vous exceptionnel"),
}
STATUSES = {
    "planifiee": _l("Planifiée"),
    "en_seance": _l("En séance"),
    "tenue": _l("Tenue"),
    "annulee": _l("Annulée"),
}
MINUTES_STATUSES = {
    "a_rediger": _l("À rédiger"),
    "soumis": _l("Soumis à l'autre partie"),
    "a_reprendre": _l("À reprendre"),
    "approuve": _l("Approuvé"),
}
SOURCES = {
    "difficulte": _l("Difficulté"),
    "indicateur": _l("Indicateur"),
    "action": _l("Action en retard"),
    "partage": _l("Partage des gains"),
    "modification": _l("Demande de modification"),
    "sujet": _l("Sujet proposé"),
    "libre": _l("Point ajouté"),
}
OUTCOMES = {"information": _l("Information"), "decision": _l("Décision"), "action": _l("Action")}
BUYER_DECISIONS = {
    "acceptee": _l("Justification acceptée"),
    "nouveau_delai": _l("Nouveau délai"),
    "nouvel_objectif": _l("Nouvel objectif"),
    "penalite": _l("Pénalité"),
    "risque_non_renouvellement": _l("Risque de non-reconduction"),
}


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Review(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_minutes: Mapped[int] = mapped_column(default=120)
    place: Mapped[str] = mapped_column(String(300), default="")
    video_link: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(12), default="planifiee")
    agenda_built_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("plan_version.id", ondelete="SET NULL")
    )
    # Minutes: which side writes them (alternating), where they stand, their frozen form.
    minutes_side: Mapped[str] = mapped_column(String(10))
    minutes_handover_reason: Mapped[str] = mapped_column(Text, default="")
    minutes_summary: Mapped[str] = mapped_column(Text, default="")  # Markdown
    minutes_status: Mapped[str] = mapped_column(String(12), default="a_rediger")
    minutes_sha256: Mapped[str] = mapped_column(String(64), default="")
    minutes_pdf_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL")
    )
    minutes_approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    minutes_approved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    contract: Mapped[Contract] = relationship()
    attendees: Mapped[list[ReviewAttendee]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewAttendee.id"
    )
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="review", cascade="all, delete-orphan",
        order_by="(AgendaItem.position, AgendaItem.id)",
    )  # fmt: skip
    assessments: Mapped[list[ResultAssessment]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ResultAssessment.id"
    )
    comments: Mapped[list[MinutesComment]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="MinutesComment.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("contract_id", "number", name="uq_review_contract_number"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("minutes_status", MINUTES_STATUSES), name="minutes_status"),
        CheckConstraint("minutes_side IN ('acheteur', 'titulaire')", name="minutes_side"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 720", name="duration"),
    )

    @property
    def minutes_frozen(self) -> bool:
        return self.minutes_status == "approuve"


class ReviewAttendee(db.Model):
    """A member of the contract, or a named outside guest (e-mail optional)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254), default="")
    side: Mapped[str] = mapped_column(String(10))  # acheteur, titulaire, invite
    organisation: Mapped[str] = mapped_column(String(200), default="")

    review: Mapped[Review] = relationship(back_populates="attendees")
    user: Mapped[User | None] = relationship()


class AgendaItem(db.Model):
    """One point of the agenda, with its notes (co-written in the meeting) and its outcome."""

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    source: Mapped[str] = mapped_column(String(12))
    source_key: Mapped[str] = mapped_column(String(40), default="")  # difficulty id, item uid…
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(default=10)
    presenter: Mapped[str] = mapped_column(String(120), default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # Markdown, written in the meeting
    outcome_kind: Mapped[str | None] = mapped_column(String(12))
    outcome_text: Mapped[str] = mapped_column(Text, default="")
    created_action_uid: Mapped[str] = mapped_column(String(36), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(120), default="")
    version: Mapped[int] = mapped_column(default=1)

    review: Mapped[Review] = relationship(back_populates="items")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint(
            "outcome_kind IS NULL OR " + _in("outcome_kind", OUTCOMES), name="outcome_kind"
        ),
        CheckConstraint("duration_minutes BETWEEN 0 AND 480", name="duration"),
    )


class TopicProposal(db.Model):
    """A topic either side proposes between reviews for the next agenda (the backlog)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    details: Mapped[str] = mapped_column(Text, default="")
    proposed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    proposed_by_name: Mapped[str] = mapped_column(String(120))
    side: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("review.id", ondelete="SET NULL"))


class ResultAssessment(db.Model):
    """For an objective « obligation de résultats » whose due date has passed: met or not, the
    supplier's justification, the buyer's decision."""

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    objective_uid: Mapped[str] = mapped_column(String(36))
    objective_title: Mapped[str] = mapped_column(String(300))
    met: Mapped[bool | None]
    supplier_justification: Mapped[str] = mapped_column(Text, default="")
    buyer_decision: Mapped[str | None] = mapped_column(String(30))
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    review: Mapped[Review] = relationship(back_populates="assessments")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("review_id", "objective_uid", name="uq_result_assessment_objective"),
        CheckConstraint(
            "buyer_decision IS NULL OR " + _in("buyer_decision", BUYER_DECISIONS),
            name="buyer_decision",
        ),
    )


class MinutesComment(db.Model):
    """The other side's request for changes to the minutes (or the author's reply)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_name: Mapped[str] = mapped_column(String(120))
    side: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[Review] = relationship(back_populates="comments")
