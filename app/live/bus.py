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

    def listen(self, sub: Subscription):
        """Yield events, or None when a keepalive is due; wake every tick to see `shutdown`."""
        idle = time.monotonic()
        while not self.shutdown.is_set() and not sub.lagging:
            try:
                item = sub.queue.get(timeout=self.tick)
            except queue.Empty:
                if time.monotonic() - idle >= self.keepalive:
                    idle = time.monotonic()
                    yield None
                continue
            if item is _CLOSE:
                return
            idle = time.monotonic()
            yield item


class RedisEventBus(EventBus):
    """Publishes through Redis; one listener thread per process feeds the local queues."""

    PREFIX = "progres:live:"

    def __init__(self, url: str, **kwargs):
        super().__init__(**kwargs)
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=10)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._listen_forever, name="live-redis", daemon=True)
        self._thread.start()
        self._ready.wait(timeout=3)

    def publish(self, channel: str, event: LiveEvent) -> None:
        try:
            self._redis.publish(self.PREFIX + channel, event.to_json())
        except Exception:
            log.warning("live.redis_publish_failed channel=%s", channel, exc_info=True)
            self._deliver(channel, event)

    def _listen_forever(self) -> None:
        while not self.shutdown.is_set():
            try:
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe(self.PREFIX + "*")
                self._ready.set()
                while not self.shutdown.is_set():
                    message = pubsub.get_message(timeout=self.tick)
                    if message and message["type"] == "pmessage":
                        channel = message["channel"].decode()[len(self.PREFIX) :]
                        self._deliver(channel, LiveEvent.from_json(message["data"]))
                pubsub.close()
            except Exception:
                log.warning("live.redis_listener_lost", exc_info=True)
                self.kick()
                time.sleep(1)


def make_bus(url: str, keepalive: float) -> EventBus:
    if url.startswith(("redis://", "rediss://")):
        return RedisEventBus(url, keepalive=keepalive)
    return EventBus(keepalive=keepalive)
