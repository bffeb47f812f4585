"""Catalogue 40: live streams are capped per person and a slow reader harms nobody else
(SECURITY.md §9; ASVS 15.2.2, 15.1.3).

Two gunicorn instances share a Redis of the test's own, as two production workers do. One
person opens LIVE_MAX_STREAMS_PER_USER streams, half on each instance: the next one is refused
on both (the count is shared, not per process), and closing one frees a place. A viewer that
reads one byte a second sits among the viewers of the plan while a colleague saves 20 times:
every other viewer, on either instance, gets every save within the push budget (p95 < 150 ms
from the moment the save is sent), and the worker's threads stay within gunicorn's pool."""

from __future__ import annotations

import queue
import socket
import statistics
import threading
import time

from app.live.bus import EventBus, LiveEvent
from tests.conftest import sqlite_copy
from tests.security.http_harness import (  # noqa: F401  (the *_fixture ones are fixtures)
    Browser,
    StreamReader,
    form_fields,
    own_redis_fixture,
    seed,
    servers_fixture,
    sqlite_template_fixture,
)

CAP = 12  # LIVE_MAX_STREAMS_PER_USER's default (config.py)
THREADS = 32
PUSH_P95_BUDGET = 0.150
SAVES = 20


class SlowReader:
    """A browser on a bad line: a tiny receive buffer, one byte read per second."""

    def __init__(self, server, browser, path):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        self.sock.connect(("127.0.0.1", server.port))
        cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\n"
                          "Accept: text/event-stream\r\n\r\n".encode())  # fmt: skip
        self.received = b""
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.stop.wait(1.0):
            try:
                byte = self.sock.recv(1)
            except OSError:
                return
            if not byte:
                return
            self.received += byte

    def close(self):
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def test_sse_caps_and_slow_clients(sqlite_template, tmp_path, servers, own_redis):
    url = sqlite_copy(sqlite_template, tmp_path)
    plan = seed(url, editors=6)
    config = {"LIVE_BUS_URL": own_redis.url, "RATELIMIT_STORAGE_URI": own_redis.url,
              "LIVE_KEEPALIVE_SECONDS": "1"}  # fmt: skip
    first = servers(url, workers=1, threads=THREADS, **config)
    second = servers(url, workers=1, threads=THREADS, **config)
    people = [Browser(first) for _ in range(6)]
    for person, email in zip(people, plan.editors, strict=True):
        assert person.log_in(email).status == 302
    cid, aid = plan.contract_id, plan.action_id
    page = f"/contrats/{cid}/direct/?page=marche"

    # --- the cap, shared by both instances ------------------------------------------------
    heavy = people[0]
    held = [StreamReader(first if n % 2 else second, heavy, page) for n in range(CAP)]
    assert [s.status for s in held] == [200] * CAP
    assert StreamReader(first, heavy, page).status == 429
    assert StreamReader(second, heavy, page).status == 429
    assert StreamReader(first, people[1], page).status == 200  # someone else is not affected
    held.pop().close()  # one tab closed: its place is free within a keepalive or two
    deadline, reopened = time.monotonic() + 5, None
    while time.monotonic() < deadline:
        reopened = StreamReader(first, heavy, page)
        if reopened.status == 200:
            break
        time.sleep(0.3)
    assert reopened.status == 200
    held.append(reopened)

    # --- a slow reader among the viewers, 20 saves ---------------------------------------
    plan_page = f"/contrats/{cid}/direct/?page=plan"
    slow = SlowReader(first, people[1], plan_page)
    viewers = [StreamReader(first if n % 2 else second, people[n], plan_page) for n in (2, 3, 4, 5)]
    assert [v.status for v in viewers] == [200] * 4
    editor, latencies = people[0], []
    base = f"/contrats/{cid}/plan/action/{aid}"
    try:
        time.sleep(0.3)  # the streams are subscribed
        for k in range(SAVES):
            fields = form_fields(editor.get(f"{base}/modifier", htmx=True).body, "editor")
            fields[f"action-{aid}-title"] = f"Titre {k}"
            sent = time.monotonic()
            reply = editor.post(base, fields)
            assert reply.status == 200, reply.status
            version = int(fields[f"action-{aid}-base_version"]) + 1
            for viewer in viewers:
                arrived = viewer.wait_for(f"item-action-{aid}", timeout=5, version=version,
                                          action="modification")  # fmt: skip
                assert arrived is not None, (k, viewer.names()[-5:])
                latencies.append(arrived[0] - sent)
            time.sleep(0.05)
        threads = first.threads_of_workers() + second.threads_of_workers()
        slow_bytes = len(slow.received)
        slow_alive = slow.thread.is_alive()
    finally:
        slow.close()
    latencies.sort()
    p95 = latencies[int(0.95 * len(latencies)) - 1]
    print(f"\npush to 4 viewers beside a 1 byte/s reader: {len(latencies)} deliveries, "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms; worker threads {threads} (pool {THREADS})")  # fmt: skip
    assert p95 < PUSH_P95_BUDGET
    assert slow_alive and slow_bytes < 60  # it really was slow (and still connected)
    # gunicorn's pool, its main thread and ours (Redis listener) — no thread per stream beyond.
    assert all(count <= THREADS + 4 for count in threads), threads

    # --- more streams than threads: the pool does not grow, and it recovers ----------------
    flood = []
    for person in people[2:]:
        cookie = "; ".join(f"{k}={v}" for k, v in person.cookies.items())
        for _ in range(10):  # 40 in all on `second`, whose pool has 32 threads
            sock = socket.create_connection(("127.0.0.1", second.port))
            sock.sendall(f"GET {page} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\n\r\n".encode())
            flood.append(sock)
    time.sleep(1.5)
    flooded = second.threads_of_workers()
    for sock in flood:
        sock.close()
    print(f"40 streams on a pool of {THREADS}: worker threads {flooded}")
    assert all(count <= THREADS + 4 for count in flooded), flooded
    deadline, answered = time.monotonic() + 15, None
    while time.monotonic() < deadline:  # closed streams free their threads at the next keepalive
        answered = Browser(second)
        answered.cookies = dict(people[1].cookies)
        if answered.get(f"/contrats/{cid}/").status == 200:
            break
    assert answered.get(f"/contrats/{cid}/").status == 200


def test_a_reader_that_never_reads_cannot_hold_up_publishers():
    """The bus under the streams: a full queue marks its stream lagging (it ends, the browser
    reconnects and catches up) instead of blocking the saver or dropping events silently."""
    bus = EventBus(keepalive=60, tick=0.05)
    stuck = bus.subscribe("contract:1", who=1)
    reading = bus.subscribe("contract:1", who=2)
    got: queue.Queue = queue.Queue()
    listener = threading.Thread(target=lambda: [got.put(e) for e in bus.listen(reading)],
                                daemon=True)  # fmt: skip
    listener.start()
    slowest = 0.0
    for n in range(400):
        started = time.monotonic()
        bus.publish("contract:1", LiveEvent(f"item-action-{n}", {"item": n}, n))
        slowest = max(slowest, time.monotonic() - started)
        if n % 50 == 49:  # saves come in bursts the reading stream keeps up with
            deadline = time.monotonic() + 5
            while reading.queue.qsize() and time.monotonic() < deadline:
                time.sleep(0.01)
    time.sleep(0.3)
    bus.close()
    listener.join(5)
    names = [got.get_nowait().name for _ in range(got.qsize())]
    assert names == [f"item-action-{n}" for n in range(400)]  # the reading stream got all
    assert stuck.lagging and stuck.queue.qsize() == stuck.queue.maxsize
    assert list(EventBus(keepalive=60).listen(stuck)) == []  # its stream ends at once
    assert not reading.lagging and slowest < 0.05
