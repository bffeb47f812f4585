"""Live collaboration: the event bus, presence, and `publish` for every feature."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app

from app.live.bus import EventBus, LiveEvent, make_bus
from app.live.presence import MemoryHashes, PresenceStore


@dataclass
class Live:
    bus: EventBus
    presence: PresenceStore


def init_live(app: Flask) -> None:
    url = app.config["LIVE_BUS_URL"]
    bus = make_bus(url, keepalive=app.config["LIVE_KEEPALIVE_SECONDS"])
    if url.startswith(("redis://", "rediss://")):
        import redis

        hashes = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2)
    else:
        hashes = MemoryHashes()
    app.extensions["live"] = Live(bus, PresenceStore(hashes))


def live() -> Live:
    return current_app.extensions["live"]


def channel(contract_id: int) -> str:
    return f"contract:{contract_id}"


def publish(contract_id: int, name: str, data: dict, event_id: int | None = None) -> None:
    """Tell the contract's open pages that something changed (call it after the commit)."""
    live().bus.publish(channel(contract_id), LiveEvent(name, data, event_id))
