"""What bench/pages.py and bench/load.py share: gunicorn started as in production on loopback,
a small HTTP client (one keep-alive connection, its own cookies), percentiles."""

from __future__ import annotations

import html
import http.client
import os
import platform
import re
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TMP = Path(tempfile.gettempdir())
SECRET_KEY = "banc-de-mesure-production-" + "k" * 32
UPLOADS = TMP / "bench-uploads"  # the generated documents, read by the bench's servers
# A big section a page sends after itself (app/rendering.deferred): what htmx then asks for.
DEFERRED = re.compile(rb'class="deferred" hx-get="([^"]+)"')


def percentiles(values: list[float]) -> tuple[float, float, float]:
    ordered = sorted(values)
    p95 = ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(database_url: str) -> dict:
    """The production configuration (PROGRES_CONFIG=production), HTTP on loopback: no HTTPS
    redirect (FORCE_HTTPS=false), the proxy hop trusted as behind nginx (PROXY_FIX_X_FOR=1, so
    each simulated person has their own client address for the login rate limits). The live bus
    and the rate limits stay in memory: the machine's Redis is shared with the test suite."""
    return {**os.environ, "PROGRES_CONFIG": "production", "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url, "FORCE_HTTPS": "false", "PROXY_FIX_X_FOR": "1",
            "LOG_JSON": "true", "LIVE_BUS_URL": "memory://", "RATELIMIT_STORAGE_URI": "memory://",
            "OUTBOX_DELIVER_AFTER_REQUEST": "false", "UPLOAD_FOLDER": str(UPLOADS)}  # fmt: skip


def start_gunicorn(app_spec: str, env: dict, port: int, log: Path | None = None):
    """gunicorn with gunicorn.conf.py as it is (workers, gthread, threads, keepalive)."""
    err = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind",
         f"127.0.0.1:{port}", "--access-logfile", "/dev/null", app_spec],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            Client(port).request("GET", "/favicon-none")
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError(f"gunicorn did not answer on {port}")


def stop(server) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()


class Client:
    """One browser: one keep-alive connection, cookies kept whatever their Secure flag (the
    production cookie is `__Host-…; Secure`: behind TLS in real life, plain HTTP here)."""

    def __init__(self, port: int, address: str = "127.0.0.1", timeout: float = 120):
        self.port, self.address, self.timeout = port, address, timeout
        self.cookies: dict[str, str] = {}
        self.connection = None
        self.csrf = None

    def _connect(self):
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes, float]:  # fmt: skip
        headers = {"X-Forwarded-For": self.address, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.connection is None:
                self._connect()
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.connection.close()  # the server closed an idle keep-alive connection
                self.connection = None
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    if "expires=thu, 01 jan 1970" in value.lower() or val in ("", '""'):
                        self.cookies.pop(key.strip(), None)
                    else:
                        self.cookies[key.strip()] = val
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return response.status, dict(response.getheaders()), data, elapsed
        raise RuntimeError("unreachable")

    def get(self, path: str, **headers):
        status, head, data, elapsed = self.request("GET", path, headers=headers)
        found = re.search(rb'"X-CSRFToken": "([^"]+)"', data)
        if found:
            self.csrf = found.group(1).decode()
        return status, head, data, elapsed

    def post(self, path: str, form: dict, htmx: bool = True):
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRFToken": self.csrf or ""})
        body = urllib.parse.urlencode({"csrf_token": self.csrf or "", **form}).encode()
        return self.request("POST", path, body=body, headers=headers)

    def log_in(self, email: str, password: str) -> Client:
        _status, _h, page, _e = self.request("GET", "/connexion")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
            rb'name="csrf_token" value="([^"]+)"', page)  # fmt: skip
        body = urllib.parse.urlencode({"email": email, "password": password,
                                       "csrf_token": html.unescape(token.group(1).decode())})  # fmt: skip
        status, _h, data, _e = self.request(
            "POST", "/connexion", body=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        if status != 302:
            raise RuntimeError(f"login of {email} refused: {status} {data[:300]!r}")
        return self


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
                 platform.processor())  # fmt: skip
    memory = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), "0")  # fmt: skip
    return (f"{os.cpu_count()} CPU ({model}), {int(memory) / 1024 / 1024:.1f} GiB RAM, "
            f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")  # fmt: skip
