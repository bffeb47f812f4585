"""The contract's live stream (SSE) and the presence bar."""

from __future__ import annotations

import secrets

from flask import Blueprint, Response, abort, current_app, g, request
from flask_login import current_user

from app.auth.services import resume_session
from app.extensions import db
from app.live import channel, live, person_channel, publish
from app.live.bus import STATE_EVENT, LiveEvent
from app.permissions import MEMBER, allow
from app.plan.services import backlog_events
from app.rendering import render_fragment

bp = Blueprint("live", __name__, url_prefix="/direct", template_folder="templates")


def _since() -> int | None:
    raw = request.headers.get("Last-Event-ID") or request.args.get("since")
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@bp.get("/")
@allow(MEMBER)
def stream():
    """One stream per open contract page. Subscribe first, then replay what the page missed;
    hold no database session while streaming; re-check membership at every keepalive."""
    config, state = current_app.config, live()
    contract_id, user_id = g.contract.id, current_user.id
    entry_id = f"flux:{secrets.token_hex(8)}"
    # Counted across processes (through Redis when the bus has it): a stream holds a thread.
    if not state.presence.open_stream(user_id, entry_id, config["LIVE_MAX_STREAMS_PER_USER"],
                                      ttl=3 * config["LIVE_KEEPALIVE_SECONDS"] + 5):  # fmt: skip
        abort(429)
    session_id = current_user.current_session.id
    person = {"user_id": user_id, "name": current_user.full_name, "side": g.membership.side}
    # The contract's events, its own side's, and the person's own (their bell).
    subscription = state.bus.subscribe(
        channel(contract_id), who=user_id,
        also=(channel(contract_id, g.membership.side), person_channel(user_id)),
    )  # fmt: skip
    since = _since()
    missed = backlog_events(g.contract, since) if since is not None else []
    if not state.bus.healthy:  # this page shows (or must show) that live updates are down
        missed.insert(0, LiveEvent(STATE_EVENT, {"ok": False}))
    # Presence means « on the plan page »; the contract's other pages only listen.
    present = request.args.get("page", "plan") == "plan"
    if present:
        state.presence.touch(contract_id, entry_id, **person)
        publish(contract_id, "presence", {"user": user_id})
    app = current_app._get_current_object()
    db.session.remove()

    def still_member() -> bool:
        """A stream is not a standing grant (ASVS 8.3.2): a logout, a closed session or a
        removed membership ends it. An open live page also counts as activity."""
        with app.app_context():
            try:
                return resume_session(session_id) is not None and _is_member(contract_id, user_id)
            finally:
                db.session.remove()

    def events():
        try:
            yield f"retry: {config['SSE_RETRY_MS']}\n: connecté\n\n"
            for event in missed:
                yield event.encode()
            for event in state.bus.listen(subscription):
                if event is None:
                    if not still_member():
                        return
                    state.presence.touch_stream(user_id, entry_id)
                    if present:
                        state.presence.touch(contract_id, entry_id, **person)
                    yield ": keepalive\n\n"
                else:
                    yield event.encode()
        finally:
            state.bus.unsubscribe(subscription)
            state.presence.close_stream(user_id, entry_id)
            if present:
                state.presence.leave(contract_id, entry_id)
                with app.app_context():
                    publish(contract_id, "presence", {"user": user_id})

    return Response(
        events(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _is_member(contract_id: int, user_id: int) -> bool:
    from sqlalchemy import select

    from app.contracts.models import Membership

    return (
        db.session.scalar(
            select(Membership.id).where(
                Membership.contract_id == contract_id, Membership.user_id == user_id
            )
        )
        is not None
    )


@bp.get("/presence")
@allow(MEMBER)
def presence():
    return render_fragment("live/presence.html", "presence_bar",
                           people=live().presence.present(g.contract.id))  # fmt: skip


@bp.get("/etat")
@allow(MEMBER)
def status():
    """The notice a contract page shows while other people's changes cannot reach it live
    (pulled when the stream says the bus was lost or is back); empty when all is well."""
    return render_fragment("live/status.html", "live_status", live_ok=live().bus.healthy)
