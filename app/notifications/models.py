from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.contracts.models import Contract
from app.db_types import UTCDateTime, utcnow
from app.extensions import db

# Each kind, what the person sees in their preferences, and the default e-mail mode.
KINDS = {
    "difficulte_signalee": (_l("Nouvelle difficulté signalée"), "immediat"),
    "difficulte_suivi": (_l("Suivi d'une difficulté (prise en compte, résolution…)"), "quotidien"),
    "message": (_l("Nouveau message dans une discussion"), "quotidien"),
    "mention": (_l("Quelqu'un vous mentionne (@)"), "immediat"),
    "relance": (_l("Relance : prise en compte en retard"), "immediat"),
    "revue": (_l("Revues : invitation, compte-rendu à approuver ou à reprendre"), "immediat"),
    "modification": (
        _l("Demandes de modification : proposition, décision, visas, application"),
        "immediat",
    ),
}
MODES = {
    "immediat": _l("E-mail immédiat"),
    "quotidien": _l("Résumé quotidien"),
    "aucun": _l("Pas d'e-mail (seulement dans Progrès)"),
}


class Notification(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("contract.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(String(400))  # written in the recipient's language
    path: Mapped[str] = mapped_column(String(300))  # the page it points to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # « sans » no e-mail, « envoye » queued at once, « a_resumer » waits for the digest.
    email: Mapped[str] = mapped_column(String(10), default="sans")

    user: Mapped[User] = relationship()
    contract: Mapped[Contract] = relationship()

    __table_args__ = (
        Index("ix_notification_user_unread", "user_id", "read_at"),
        Index("ix_notification_digest", "email", "user_id"),
        CheckConstraint("email IN ('sans', 'envoye', 'a_resumer')", name="email"),
    )


class NotificationPreference(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    mode: Mapped[str] = mapped_column(String(10))

    __table_args__ = (
        UniqueConstraint("user_id", "kind", name="uq_notification_preference_user_kind"),
        CheckConstraint("mode IN ('immediat', 'quotidien', 'aucun')", name="mode"),
    )
