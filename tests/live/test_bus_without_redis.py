"""The live bus and presence when Redis is not there (yet, or any more): nothing fails, events
stay within the process, and the pages are told when that starts and when it ends."""

import time

import redis

from app.live.bus import STATE_EVENT, LiveEvent, RedisEventBus
from app.live.presence import PresenceStore, ResilientHashes
from tests.security.http_harness import free_port, own_redis_fixture  # noqa: F401  (fixture)


def drain(sub):
    events = []
    while not sub.queue.empty():
        events.append(sub.queue.get_nowait())
    return events


def test_a_bus_started_without_redis_serves_its_own_process_then_resyncs(own_redis):
    own_redis.kill()  # its port is known, nothing listens there yet
    started = time.monotonic()
    bus = RedisEventBus(own_redis.url, keepalive=60, tick=0.1)
    try:
        assert time.monotonic() - started < 1  # no 3 s wait for a Redis that refuses
        assert not bus.healthy
        sub = bus.subscribe("contract:1", who=7)
        bus.publish("contract:1", LiveEvent("item-action-1", {"item": 1}, 5))
        assert [e.name for e in drain(sub)] == ["item-action-1"]  # delivered here, at once

        own_redis.start()
        deadline = time.monotonic() + 5
        while not bus.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        assert bus.healthy
        # The page is told live updates are back, then its stream ends (the browser reconnects
        # with Last-Event-ID and catches up): listen() returns after that one event.
        assert sub.queue.qsize() == 2
        assert list(bus.listen(sub)) == [LiveEvent(STATE_EVENT, {"ok": True})]

        other = bus.subscribe("contract:1", who=8)
        own_redis.kill()
        deadline = time.monotonic() + 5
        while bus.healthy and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not bus.healthy
        assert other.queue.get(timeout=2) == LiveEvent(STATE_EVENT, {"ok": False})  # told…
        time.sleep(0.3)
        assert drain(other) == [] and not other.lagging  # …and not ended
    finally:
        bus.close()


def test_presence_and_the_stream_cap_keep_working_without_redis():
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", decode_responses=True,
                                socket_connect_timeout=0.5)  # fmt: skip
    store = PresenceStore(ResilientHashes(dead))
    store.touch(1, "flux:a", user_id=3, name="Claire", side="acheteur")
    assert [p["name"] for p in store.present(1)] == ["Claire"]
    assert all(store.open_stream(3, f"flux:{n}", cap=2, ttl=30) for n in range(2))
    assert not store.open_stream(3, "flux:2", cap=2, ttl=30)  # the cap, counted in this process
    store.close_stream(3, "flux:0")
    assert store.open_stream(3, "flux:3", cap=2, ttl=30)
    started = time.monotonic()
    for _ in range(50):  # Redis is not asked again at every call while it is away
        store.present(1)
    assert time.monotonic() - started < 0.5
