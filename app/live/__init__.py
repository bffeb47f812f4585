"""Live collaboration: the event bus, presence, and `publish` for every feature."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, has_app_context
from sqlalchemy import event as sa_event

from app.extensions import db
from app.live.bus import EventBus, LiveEvent, make_bus
from app.live.presence import MemoryHashes, PresenceStore, ResilientHashes


@dataclass
class Live:
    bus: EventBus
    presence: PresenceStore


def init_live(app: Flask) -> None:
    url = app.config["LIVE_BUS_URL"]
    bus = make_bus(url, keepalive=app.config["LIVE_KEEPALIVE_SECONDS"])
    if url.startswith(("redis://", "rediss://")):
        import redis

        hashes = ResilientHashes(
            redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)
        )
    else:
        hashes = MemoryHashes()
    app.extensions["live"] = Live(bus, PresenceStore(hashes))
    # Contract pages say so when other people's changes no longer reach them live.
    app.add_template_global(lambda: bus.healthy, "live_available")


def live() -> Live:
    return current_app.extensions["live"]


def channel(contract_id: int, side: str | None = None) -> str:
    """A contract's channel, or one side's only (what the other side must not even notice)."""
    return f"contract:{contract_id}" if side is None else f"contract:{contract_id}:{side}"


def person_channel(user_id: int) -> str:
    return f"user:{user_id}"


def publish(contract_id: int, name: str, data: dict, event_id: int | None = None,
            *, side: str | None = None) -> None:  # fmt: skip
    """Tell the contract's open pages that something changed (call it after the commit)."""
    live().bus.publish(channel(contract_id, side), LiveEvent(name, data, event_id))


def publish_after_commit(channel_name: str, name: str, data: dict) -> None:
    """Publish once the caller's transaction has committed (nothing if it rolls back), so a
    page that pulls on the event finds the change."""
    pending = db.session.info.setdefault("live_pending", {})
    pending[(channel_name, name)] = data  # one event per channel and name is enough


def _flush_pending(session) -> None:
    pending = session.info.pop("live_pending", None)
    if pending and has_app_context():
        for (channel_name, name), data in pending.items():
            live().bus.publish(channel_name, LiveEvent(name, data))


def _drop_pending(session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the transaction, not a savepoint, rolled back
        session.info.pop("live_pending", None)


sa_event.listen(db.session, "after_commit", _flush_pending)
sa_event.listen(db.session, "after_soft_rollback", _drop_pending)
