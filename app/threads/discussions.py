"""Threads on plan items (DESIGN §3.2: every plan item, like every difficulty, carries one).

A plan item's thread is keyed by its kind and uid, so the discussion follows the item from one
plan version to the next. Same rules as a difficulty's thread: shared messages, or internal
notes seen by one's own side only; @mentions notify; live events carry ids only and go on the
side's own channel for an internal note."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from app.audit.services import record, text_digest
from app.contracts.models import Contract, Membership
from app.database import built_once
from app.errors import NotAllowed
from app.extensions import db
from app.live import channel, publish_after_commit
from app.permissions import Permission
from app.threads import services as threads
from app.threads.models import ThreadMessage

PLAN_KINDS = ("axe", "objectif", "indicateur", "jalon", "action", "partage")


def counts(contract: Contract, membership: Membership) -> dict[tuple[str, str], int]:
    """Messages this member may read, per (kind, uid), in one query."""
    rows = db.session.execute(
        _counts(), {"contract_id": contract.id, "side": membership.side}
    ).all()
    return {(kind, key): n for kind, key, n in rows}


@built_once
def _counts():
    readable = threads.readable_by(bindparam("side"))
    return (
        select(ThreadMessage.subject_type, ThreadMessage.subject_key, func.count())
        .where(ThreadMessage.contract_id == bindparam("contract_id"),
               ThreadMessage.subject_type.in_(PLAN_KINDS), readable)
        .group_by(ThreadMessage.subject_type, ThreadMessage.subject_key)
    )  # fmt: skip


def post(
    contract: Contract, membership: Membership, item, body: str, *, internal: bool
) -> ThreadMessage:
    from app.notifications.services import notify

    if not membership.may(Permission.COMMENT):
        raise NotAllowed(_("Votre rôle ne permet pas d'écrire dans la discussion."))
    message = threads.add_message(
        contract.id, item.KIND, item.uid, membership, body, internal=internal
    )
    # As a difficulty's message: the text's hash, not the text (an internal note stays so).
    record(f"plan.{item.KIND}.message", actor=membership.user, contract_id=contract.id,
           object_type="message", object_id=message.id,
           after={"element": item.uid, "visibilite": message.visibility,
                  "empreinte": text_digest(message.body)})  # fmt: skip
    audience = db.session.scalars(
        select(Membership).where(Membership.contract_id == contract.id,
                                 *( [Membership.side == membership.side] if internal else []))
    ).all()  # fmt: skip
    writers = set(db.session.scalars(select(ThreadMessage.author_id).where(
        ThreadMessage.contract_id == contract.id, ThreadMessage.subject_type == item.KIND,
        ThreadMessage.subject_key == item.uid)))  # fmt: skip
    path = _path(contract, item)
    who, title = membership.user.full_name, _title(item)
    mentioned = threads.mentioned(message.body, audience)
    notify([m.user for m in mentioned], contract, "mention",
           lambda: _("%(who)s vous mentionne dans la discussion de « %(title)s »", who=who, title=title),
           path, exclude=membership.user)  # fmt: skip
    followers = [m.user for m in audience if (m.user_id in writers or m.is_lead)
                 and m not in mentioned]  # fmt: skip
    notify(followers, contract, "message",
           lambda: _("%(who)s a écrit dans la discussion de « %(title)s »", who=who, title=title),
           path, exclude=membership.user)  # fmt: skip
    publish_after_commit(channel(contract.id, membership.side if internal else None),
                         f"discussion-{item.KIND}-{item.uid}", {})  # fmt: skip
    db.session.commit()
    return message


def _path(contract: Contract, item) -> str:
    """The item on its plan page, from a request, a command or a test alike."""
    values = {"contract_id": contract.id, "version_id": item.plan_version_id}
    if has_request_context():
        return url_for("contract.plan.version_page", **values) + f"#{item.KIND}-{item.id}"
    with current_app.test_request_context():
        return url_for("contract.plan.version_page", **values) + f"#{item.KIND}-{item.id}"


def _title(item) -> str:
    return getattr(item, "title", None) or getattr(item, "name", None) or _("élément du plan")
