"""How fast does a save reach every open page? `python bench/live_latency.py [--viewers 50]`

Starts gunicorn on loopback with a fresh SQLite database and the demo data, opens N live
streams (the plan page's SSE), posts edits over HTTP as a browser would, and prints the
p50/p95/max delay from « save sent » to « event received » on every stream. Then the same
fan-out with a raw Redis PUBLISH to N subscribers, as the floor, and the ratio between them.
Ratios measured in one run are what to compare (these machines are noisy)."""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.request import HTTPCookieProcessor, Request, build_opener

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PASSWORD = "lin-navette-velo-2026"


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare_database(path: Path) -> tuple[str, int, int]:
    """Migrated database with the demo; returns its URL and the draft action to edit."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from app import create_app
    from app.changes.models import ChangeRequest
    from app.demo.data import load
    from app.extensions import db
    from app.plan.models import Action

    url = f"sqlite:///{path}"
    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, LOG_JSON=False)
    with app.app_context():
        upgrade()
        load()
        action = db.session.scalar(
            # the draft of the demo's change request still being written (a submitted one
            # is frozen)
            select(Action).join(ChangeRequest,
                                Action.plan_version_id == ChangeRequest.draft_version_id)
            .where(ChangeRequest.status == "brouillon").order_by(Action.id)
        )  # fmt: skip
        found = action.id, action.version
        db.engine.dispose()
    return url, *found


class Browser:
    def __init__(self, base: str):
        self.base, self.jar = base, CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> str:
        return self.opener.open(self.base + path, timeout=30).read().decode()

    def post(self, path: str, data: dict, token: str | None = None):
        headers = {"X-CSRFToken": token, "HX-Request": "true"} if token else {}
        body = urllib.parse.urlencode(data).encode()
        return self.opener.open(Request(self.base + path, data=body, headers=headers), timeout=30)

    def log_in(self, email: str) -> Browser:
        page = self.get("/connexion")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        self.post("/connexion", {"email": email, "password": PASSWORD, "csrf_token": token})
        return self

    def cookie(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


def open_viewers(port: int, cookie: str, count: int, event: str, arrivals: list[dict]):
    ready = threading.Barrier(count + 1)

    def view(index: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        connection.request("GET", "/contrats/1/direct/", headers={"Cookie": cookie})
        stream = connection.getresponse()
        ready.wait()
        name = None
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == event:
                version = int(re.search(r'"version": (\d+)', line).group(1))
                arrivals[index][version] = time.perf_counter()

    threads = [threading.Thread(target=view, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=60)


def app_latency(viewers: int, edits: int, bus_url: str) -> list[float]:
    workdir = Path(tempfile.mkdtemp(prefix="progres-bench-"))
    url, action_id, version = prepare_database(workdir / "bench.db")
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "LIVE_BUS_URL": bus_url,
           "SECRET_KEY": "banc-de-mesure-" + "x" * 32, "PROGRES_CONFIG": "development",
           "LIVE_MAX_STREAMS_PER_USER": str(viewers + 5), "OUTBOX_DELIVER_AFTER_REQUEST": "false"}  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers", "1",
         "--threads", str(viewers + 16), "--bind", f"127.0.0.1:{port}", "--access-logfile",
         "/dev/null", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        viewer = Browser(base).log_in("claire.martin@grandlyon.example")
        arrivals: list[dict] = [{} for _ in range(viewers)]
        open_viewers(port, viewer.cookie(), viewers, f"item-action-{action_id}", arrivals)
        editor = Browser(base).log_in("sophie.durand@textiles-rhone.example")
        page = editor.get("/contrats/1/plan/")
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
        sent = {}
        prefix = f"action-{action_id}-"
        for n in range(edits):
            form = {"title": f"Mesure {n}", "owner_side": "titulaire", "mode": "progressive",
                    "status": "en_cours", "base_version": str(version)}  # fmt: skip
            # the other fields as the editor shows them
            sent[version + 1] = time.perf_counter()
            editor.post(f"/contrats/1/plan/action/{action_id}",
                        {prefix + k: v for k, v in form.items()}, token)  # fmt: skip
            version += 1
            time.sleep(0.05)
        time.sleep(1.0)
        delays = [(got[v] - at) * 1000 for got in arrivals for v, at in sent.items() if v in got]
        missing = viewers * edits - len(delays)
        if missing:
            print(f"  {missing} deliveries missing of {viewers * edits}")
        return delays
    finally:
        server.terminate()
        server.wait(timeout=15)


def redis_floor(viewers: int, edits: int, redis_url: str) -> list[float] | None:
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=1)
        client.ping()
    except Exception:
        return None
    arrivals: list[dict] = [{} for _ in range(viewers)]
    ready = threading.Barrier(viewers + 1)

    def subscriber(index):
        pubsub = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe("progres:bench")
        ready.wait()
        while len(arrivals[index]) < edits:
            message = pubsub.get_message(timeout=1)
            if message:
                arrivals[index][int(message["data"])] = time.perf_counter()
        pubsub.close()

    threads = [threading.Thread(target=subscriber, args=(i,), daemon=True) for i in range(viewers)]
    for thread in threads:
        thread.start()
    ready.wait(timeout=30)
    time.sleep(0.2)
    sent = {}
    for n in range(edits):
        sent[n] = time.perf_counter()
        client.publish("progres:bench", n)
        time.sleep(0.05)
    for thread in threads:
        thread.join(5)
    return [(got[n] - at) * 1000 for got in arrivals for n, at in sent.items() if n in got]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--bus", default="memory://", help="memory:// or redis://127.0.0.1:6379/0")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="for the floor")
    args = parser.parse_args()
    print(f"{args.viewers} viewers, {args.edits} edits, bus {args.bus}")
    app_delays = app_latency(args.viewers, args.edits, args.bus)
    p50, p95, worst = percentiles(app_delays)
    print(f"save → every page : p50 {p50:.1f} ms  p95 {p95:.1f} ms  max {worst:.1f} ms "
          f"({len(app_delays)} deliveries)")  # fmt: skip
    floor = redis_floor(args.viewers, args.edits, args.redis)
    if floor:
        f50, f95, fmax = percentiles(floor)
        print(f"raw Redis publish : p50 {f50:.1f} ms  p95 {f95:.1f} ms  max {fmax:.1f} ms")
        print(f"ratio p95 (save / raw publish): {p95 / f95:.1f}×  — target p95 < 150 ms")


if __name__ == "__main__":
    main()
