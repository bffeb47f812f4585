"""Two gunicorn processes sharing Redis: an edit served by one reaches a page held by the other."""

import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.request import HTTPCookieProcessor, Request, build_opener

import pytest
from sqlalchemy import select

from app.changes.models import ChangeRequest
from app.demo.data import DEMO_PASSWORD, load
from app.extensions import db
from app.plan.models import Action

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port, database_url, redis_url):
    env = {**os.environ, "DATABASE_URL": database_url, "LIVE_BUS_URL": redis_url,
           "SECRET_KEY": "deux-processus-" + "x" * 32, "PROGRES_CONFIG": "development",
           "LIVE_KEEPALIVE_SECONDS": "1", "OUTBOX_DELIVER_AFTER_REQUEST": "false"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers", "1",
         "--threads", "16", "--graceful-timeout", "20", "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null",
         "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(process.stderr.read().decode())


class Browser:
    """Cookies and CSRF token, as a browser keeps them."""

    def __init__(self, base):
        self.base, self.jar = base, CookieJar()
        self.opener = build_opener(HTTPCookieProcessor(self.jar))

    def get(self, path):
        return self.opener.open(self.base + path, timeout=10).read().decode()

    def post(self, path, data, token=None):
        headers = {"X-CSRFToken": token, "HX-Request": "true"} if token else {}
        request = Request(self.base + path, data=urllib.parse.urlencode(data).encode(),
                          headers=headers)  # fmt: skip
        return self.opener.open(request, timeout=10)

    def log_in(self, email):
        page = self.get("/connexion")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        self.post("/connexion", {"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
        return self

    def cookie_header(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)


@pytest.fixture
def two_servers(app, database_url, redis_url):
    load()
    db.session.commit()
    ports = free_port(), free_port()
    servers = [start_server(port, database_url, redis_url) for port in ports]
    yield [f"http://127.0.0.1:{port}" for port in ports], servers
    for server in servers:
        if server.poll() is None:
            server.send_signal(15)
    for server in servers:
        server.wait(timeout=15)
        server.stderr.close()


def test_an_edit_served_by_one_process_reaches_a_page_on_the_other(app, two_servers):
    (first, second), processes = two_servers
    # The draft of the demo's change request still being written (a submitted one is frozen).
    action = db.session.scalar(
        select(Action).join(ChangeRequest, Action.plan_version_id == ChangeRequest.draft_version_id)
        .where(ChangeRequest.status == "brouillon", Action.title.like("Sourcer un fil%"))
    )  # fmt: skip
    action_id, version_id = action.id, action.plan_version_id
    db.session.commit()

    viewer = Browser(second).log_in("claire.martin@grandlyon.example")
    received = []
    connection = http.client.HTTPConnection("127.0.0.1", int(second.rsplit(":", 1)[1]), timeout=10)
    connection.request("GET", "/contrats/1/direct/", headers={"Cookie": viewer.cookie_header()})
    stream = connection.getresponse()
    assert stream.status == 200

    def read():
        for raw in stream:
            line = raw.decode().strip()
            if line.startswith("event: "):
                received.append(line[7:])
            if f"item-action-{action_id}" in received:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    editor = Browser(first).log_in("sophie.durand@textiles-rhone.example")
    page = editor.get(f"/contrats/1/plan/versions/{version_id}/")
    token = re.search(r"X-CSRFToken&#34;: &#34;([^&]+)&#34;|X-CSRFToken\": \"([^\"]+)\"", page)
    token = token.group(1) or token.group(2)
    prefix = f"action-{action_id}-"
    with app.app_context():
        fresh = db.session.get(Action, action_id)
        fields = {
            name: ("" if value is None else str(value)) for name, value in fresh.values().items()
        }
        fields["title"] = "Modifié sur le premier processus"
        fields["base_version"] = str(fresh.version)
        db.session.remove()
    started = time.monotonic()
    response = editor.post(f"/contrats/1/plan/action/{action_id}",
                           {prefix + k: v for k, v in fields.items()}, token)  # fmt: skip
    assert response.status == 200
    reader.join(5)
    connection.close()
    assert f"item-action-{action_id}" in received, received
    assert time.monotonic() - started < 5

    # A graceful stop does not wait for open streams (gunicorn.conf.py closes them first).
    held = http.client.HTTPConnection("127.0.0.1", int(first.rsplit(":", 1)[1]), timeout=10)
    held.request("GET", "/contrats/1/direct/", headers={"Cookie": editor.cookie_header()})
    assert held.getresponse().status == 200
    stopping = time.monotonic()
    processes[0].send_signal(15)
    processes[0].wait(timeout=15)
    held.close()
    assert time.monotonic() - stopping < 10  # the streams did not hold it for graceful_timeout
