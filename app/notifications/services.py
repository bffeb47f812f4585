"""Create notifications (bell + e-mail per the person's choice), read them, send the digest.

A notification is written in the recipient's language when it is created, in the caller's
transaction; its e-mail goes through the outbox of the same transaction, and the bell of the
person's open pages is told after the commit (notify, then pull)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update

from app.auth.models import User
from app.contracts.models import Contract, Membership
from app.database import built_once
from app.db_types import utcnow
from app.extensions import db
from app.live import person_channel, publish_after_commit
from app.notifications.models import KINDS, Notification, NotificationPreference
from app.outbox.services import queue_email

LIST_LENGTH = 50


def mode_of(user: User, kind: str) -> str:
    chosen = db.session.scalar(
        select(NotificationPreference.mode).where(
            NotificationPreference.user_id == user.id, NotificationPreference.kind == kind
        )
    )
    return chosen or KINDS[kind][1]


def preferences_of(user: User) -> dict[str, str]:
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.mode).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind, default) for kind, (_label, default) in KINDS.items()}


def set_preferences(user: User, modes: dict[str, str]) -> None:
    existing = {
        p.kind: p
        for p in db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    for kind, mode in modes.items():
        if kind not in KINDS:
            continue
        if kind in existing:
            existing[kind].mode = mode
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, mode=mode))
    db.session.commit()


def _locale(user: User) -> str:
    return user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]


def notify(recipients: Iterable[User], contract: Contract, kind: str,
           describe: Callable[[], str], path: str, *, exclude: User | None = None) -> int:  # fmt: skip
    """One notification per recipient (never the person who acted). `describe` is called in
    each recipient's language. Returns how many were created; the caller commits."""
    seen, created = set(), 0
    for user in recipients:
        if user is None or user.id in seen or (exclude is not None and user.id == exclude.id):
            continue
        seen.add(user.id)
        mode = mode_of(user, kind)
        with force_locale(_locale(user)):
            text = describe()[:400]
            notification = Notification(
                user_id=user.id, contract_id=contract.id, kind=kind, text=text, path=path,
                email={"immediat": "envoye", "quotidien": "a_resumer"}.get(mode, "sans"),
            )  # fmt: skip
            db.session.add(notification)
            if mode == "immediat":
                _queue_immediate(user, contract, text, path)
        publish_after_commit(person_channel(user.id), "notifications", {})
        created += 1
    return created


def _link(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path


def _queue_immediate(user: User, contract: Contract, text: str, path: str) -> None:
    queue_email(
        user.email,
        _("[Progrès] Marché %(ref)s : %(text)s", ref=contract.reference, text=text)[:250],
        render_template("notifications/emails/immediate.txt", user=user, contract=contract,
                        text=text, link=_link(path), settings=_link("/notifications/preferences")),
        kind="notification",
    )  # fmt: skip


def _visible(user: User):
    """A person sees the notifications of the contracts they are still a member of."""
    return (
        select(Notification)
        .join(
            Membership,
            (Membership.contract_id == Notification.contract_id)
            & (Membership.user_id == Notification.user_id),
        )
        .where(Notification.user_id == user.id)
    )


def unread_count(user: User) -> int:
    """The bell's figure, on every page: the unread notifications (a few, by the index on user
    and read_at), each kept if its contract is still one of the person's. Written as a join,
    the planners started from the memberships: for a buyer in 1,001 contracts, 103,000 row
    visits and 15 ms a page (bench/, PostgreSQL and SQLite); the correlated subquery with its
    LIMIT cannot be turned into that join."""
    return db.session.scalar(_unread_count(), {"user_id": user.id}) or 0


def unread_count_shown(user: User) -> int:
    """The bell's count as a page shows it: read with the session on a read request
    (auth.services.resume_session_for_page), else now."""
    read = g.get("read_with_session")
    if read is not None and read["user_id"] == user.id:
        return read["unread"] or 0
    return unread_count(user)


def unread_count_of(user_id):
    """The count as an expression, for `user_id` a bindparam or a column of an outer query."""
    still_member = (
        select(Membership.id)
        .where(
            Membership.contract_id == Notification.contract_id,
            Membership.user_id == Notification.user_id,
        )
        .limit(1)
        .scalar_subquery()
    )
    return (
        select(func.count())
        .select_from(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            still_member.is_not(None),
        )
    )


@built_once
def _unread_count():
    return unread_count_of(bindparam("user_id"))


def latest(user: User, limit: int = LIST_LENGTH) -> list[Notification]:
    return db.session.scalars(
        _visible(user).order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ).all()


def notification_of(user: User, notification_id: int) -> Notification | None:
    return db.session.scalar(_visible(user).where(Notification.id == notification_id))


def mark_read(user: User, notification: Notification | None = None) -> None:
    """Mark one notification, or all of the person's, as read."""
    query = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    if notification is not None:
        query = query.where(Notification.id == notification.id)
    db.session.execute(query)
    publish_after_commit(person_channel(user.id), "notifications", {})
    db.session.commit()


def send_digests() -> int:
    """One e-mail per person gathering what waits for the daily digest; returns how many.
    Run it once a day (cron); a second run the same day finds nothing left to send."""
    waiting = db.session.scalars(
        select(Notification).where(Notification.email == "a_resumer")
        .order_by(Notification.user_id, Notification.created_at, Notification.id)
        .with_for_update(skip_locked=True)
    ).all()  # fmt: skip
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in waiting:
        by_user[notification.user_id].append(notification)
    sent = 0
    for notifications in by_user.values():
        user = notifications[0].user
        member_of = set(
            db.session.scalars(select(Membership.contract_id).where(Membership.user_id == user.id))
        )
        kept = [n for n in notifications if n.contract_id in member_of]
        for notification in notifications:
            notification.email = "envoye"
        if not kept:
            continue
        with force_locale(_locale(user)):
            queue_email(
                user.email,
                _("[Progrès] Votre résumé : %(num)d notification(s)", num=len(kept)),
                render_template("notifications/emails/digest.txt", user=user,
                                notifications=kept, link=_link, settings=_link("/notifications/preferences")),
                kind="resume",
            )  # fmt: skip
        sent += 1
    db.session.commit()
    return sent
