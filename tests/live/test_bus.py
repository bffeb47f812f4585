"""The event bus: in-process fan-out, and Redis between separate app instances."""

import threading
import time
import uuid

from app.live.bus import EventBus, LiveEvent, RedisEventBus


def test_events_reach_every_subscriber_of_the_channel_only():
    bus = EventBus(keepalive=60, tick=0.05)
    mine, theirs = bus.subscribe("contract:1"), bus.subscribe("contract:2")
    bus.publish("contract:1", LiveEvent("item-action-3", {"item": 3}, 7))
    assert mine.queue.get(timeout=1).name == "item-action-3"
    assert theirs.queue.empty()
    assert LiveEvent("x", {"a": 1}, 7).encode() == 'id: 7\nevent: x\ndata: {"a": 1}\n\n'


def test_a_slow_reader_is_cut_off_not_allowed_to_eat_memory():
    bus = EventBus(keepalive=60, tick=0.05)
    slow = bus.subscribe("contract:1")
    for n in range(300):
        bus.publish("contract:1", LiveEvent("item", {"n": n}))
    assert slow.lagging  # its stream ends; the browser reconnects and catches up
    assert list(bus.listen(slow)) == []


def test_listen_yields_keepalives_and_stops_on_shutdown_or_kick():
    bus = EventBus(keepalive=0.1, tick=0.02)
    sub = bus.subscribe("contract:1", who=5)
    stream = bus.listen(sub)
    assert next(stream) is None  # a keepalive when nothing happens
    assert bus.kick(who=5) == 1
    assert list(stream) == []
    other = bus.subscribe("contract:1")
    threading.Timer(0.1, bus.close).start()
    started = time.monotonic()
    assert [e for e in bus.listen(other) if e is not None] == []
    assert time.monotonic() - started < 2


def test_redis_carries_events_between_two_app_processes(redis_url):
    channel = f"contract:{uuid.uuid4()}"
    first, second = RedisEventBus(redis_url, tick=0.05), RedisEventBus(redis_url, tick=0.05)
    try:
        viewer = second.subscribe(channel)
        first.publish(channel, LiveEvent("item-action-3", {"item": 3, "version": 2}, 11))
        received = viewer.queue.get(timeout=3)
        assert (received.name, received.data, received.id) == (
            "item-action-3",
            {"item": 3, "version": 2},
            11,
        )
    finally:
        first.close()
        second.close()


def test_two_redis_databases_never_hear_each_other(redis_url):
    """Pub/sub ignores the database number: the channels carry it, so two installations (or
    the SQLite and PostgreSQL test runs) sharing one Redis stay apart."""
    channel = f"contract:{uuid.uuid4()}"
    other_db = redis_url.rsplit("/", 1)[0] + "/" + str((int(redis_url.rsplit("/", 1)[1]) + 1) % 16)
    here, there = RedisEventBus(redis_url, tick=0.05), RedisEventBus(other_db, tick=0.05)
    try:
        elsewhere, alongside = there.subscribe(channel), here.subscribe(channel)
        here.publish(channel, LiveEvent("item-action-3", {"item": 3}, 12))
        assert alongside.queue.get(timeout=3).name == "item-action-3"
        time.sleep(0.3)  # what `there` would have received by now
        assert elsewhere.queue.empty()
    finally:
        here.close()
        there.close()
