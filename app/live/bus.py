"""The event bus behind live pages: in-process queues (one server process) or Redis pub/sub
(several processes or hosts). Events carry ids only, never content: a page that receives one
pulls the fragment through an ordinary, authorised request (« notify, then pull »)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

log = logging.getLogger("progres.live")
_CLOSE = object()
# Sent to this process's pages when the live bus is lost or back: they pull the notice.
STATE_EVENT = "direct-etat"


@dataclass(frozen=True)
class LiveEvent:
    name: str  # the SSE "event:": "item-action-42", "added-action-7", "presence"
    data: dict  # ids, version, who — never text
    id: int | None = None  # the plan's change sequence, for catch-up (None: presence)

    def encode(self) -> str:
        head = [] if self.id is None else [f"id: {self.id}"]
        body = "data: " + json.dumps(self.data, ensure_ascii=False)
        return "\n".join([*head, f"event: {self.name}", body]) + "\n\n"

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "data": self.data, "id": self.id})

    @classmethod
    def from_json(cls, raw: str | bytes) -> LiveEvent:
        payload = json.loads(raw)
        return cls(payload["name"], payload["data"], payload["id"])


@dataclass(eq=False)
class Subscription:
    channels: tuple[str, ...]
    who: int | None
    queue: queue.Queue = field(default_factory=lambda: queue.Queue(maxsize=256))
    lagging: bool = False


class EventBus:
    """In-process fan-out: one bounded queue per open stream."""

    def __init__(self, keepalive: float = 10.0, tick: float = 1.0):
        self.keepalive, self.tick = keepalive, tick
        self.shutdown = threading.Event()  # set when the worker stops: every stream returns
        self._lock = threading.Lock()
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(
        self, channel: str, who: int | None = None, also: tuple[str, ...] = ()
    ) -> Subscription:
        """One queue fed by `channel` and the `also` channels (a person's own, a side's…)."""
        sub = Subscription((channel, *also), who)
        with self._lock:
            for name in sub.channels:
                self._subs[name].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            for name in sub.channels:
                self._subs[name].discard(sub)
                if not self._subs[name]:
                    del self._subs[name]

    def _all(self) -> set[Subscription]:
        return {s for subs in self._subs.values() for s in subs}

    def count(self, who: int | None = None) -> int:
        with self._lock:
            return sum(1 for s in self._all() if who in (None, s.who))

    def publish(self, channel: str, event: LiveEvent) -> None:
        self._deliver(channel, event)

    def _deliver(self, channel: str, event: LiveEvent) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, ()))
        for sub in subs:
            try:
                sub.queue.put_nowait(event)
            except queue.Full:
                # Never drop silently: that stream ends, the browser reconnects and catches up.
                sub.lagging = True

    def kick(self, channel: str | None = None, who: int | None = None) -> int:
        """End the matching streams (their browsers reconnect and resync)."""
        with self._lock:
            subs = {s for ch, ss in self._subs.items() if channel in (None, ch)
                    for s in ss if who in (None, s.who)}  # fmt: skip
        for sub in subs:
            try:
                sub.queue.put_nowait(_CLOSE)
            except queue.Full:
                sub.lagging = True
        return len(subs)

    def close(self) -> None:
        self.shutdown.set()

    @property
    def healthy(self) -> bool:
        """Whether every process's events reach this one's streams (always, in one process)."""
        return True

    def _deliver_everywhere(self, event: LiveEvent) -> None:
        """To every stream of this process, whatever its channel (the bus's own state)."""
        with self._lock:
            subs = self._all()
        for sub in subs:
            try:
                sub.queue.put_nowait(event)
            except queue.Full:
                sub.lagging = True

    def listen(self, sub: Subscription):
        """Yield events, and None every `keepalive` seconds (busy or not: the stream re-checks
        access then, ASVS 8.3.2); wake every tick to see `shutdown`."""
        due = time.monotonic() + self.keepalive
        while not self.shutdown.is_set() and not sub.lagging:
            try:
                item = sub.queue.get(timeout=self.tick)
            except queue.Empty:
                item = None
            if item is _CLOSE:
                return
            if item is not None:
                yield item
            if time.monotonic() >= due:
                due = time.monotonic() + self.keepalive
                yield None


class RedisEventBus(EventBus):
    """Publishes through Redis; one listener thread per process feeds the local queues.

    Redis unreachable: events are delivered in this process only (other processes' edits no
    longer reach its pages), the streams stay open, and each page is told (STATE_EVENT) so it
    shows that live updates are down. Redis back: the streams are ended once, so every
    browser reconnects with Last-Event-ID and catches up from the database on what it missed."""

    def __init__(self, url: str, **kwargs):
        super().__init__(**kwargs)
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=10)
        # Pub/sub ignores the database number that keys obey: the channels carry it, so two
        # installations (or test runs) on one Redis with different databases never mix.
        self.prefix = f"progres:live:{self._redis.connection_pool.connection_kwargs.get('db', 0)}:"
        self._connected = False
        self._lost = False  # lost since the last connection (the pages were told)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen_forever, name="live-redis", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=3)  # set at the first success or failure, not after 3 s

    @property
    def healthy(self) -> bool:
        return self._connected

    def publish(self, channel: str, event: LiveEvent) -> None:
        if not self._connected:  # no 2 s connect timeout per save while Redis is away
            self._deliver(channel, event)
            return
        try:
            self._redis.publish(self.prefix + channel, event.to_json())
        except Exception:
            log.warning("live.redis_publish_failed channel=%s", channel, exc_info=True)
            self._deliver(channel, event)

    def _set_connected(self, connected: bool) -> None:
        """Tell this process's pages when the bus is lost, and when it is back after a loss
        (at start too: pages rendered while Redis was not there yet show the notice)."""
        self._connected = connected
        if connected and self._lost:
            self._lost = False
            log.warning("live.redis_back: streams end once and catch up")
            self._deliver_everywhere(LiveEvent(STATE_EVENT, {"ok": True}))
            self.kick()
        elif not connected and not self._lost:
            self._lost = True
            log.warning("live.redis_lost: events stay within this process", exc_info=True)
            self._deliver_everywhere(LiveEvent(STATE_EVENT, {"ok": False}))

    def _listen_forever(self) -> None:
        while not self.shutdown.is_set():
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self.prefix + "*")
                self._set_connected(True)
                self._ready.set()
                while not self.shutdown.is_set():
                    message = pubsub.get_message(timeout=self.tick)
                    if message and message["type"] == "pmessage":
                        channel = message["channel"].decode()[len(self.prefix) :]
                        self._deliver(channel, LiveEvent.from_json(message["data"]))
                pubsub.close()
            except Exception:
                self._set_connected(False)
                self._ready.set()
                time.sleep(self.tick)


def make_bus(url: str, keepalive: float) -> EventBus:
    if url.startswith(("redis://", "rediss://")):
        return RedisEventBus(url, keepalive=keepalive)
    return EventBus(keepalive=keepalive)
