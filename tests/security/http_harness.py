"""Real servers for the reliability tests: gunicorn on 127.0.0.1 and a free port, a database of
the test's own (SQLite file or PostgreSQL), and browsers that log in and submit forms over HTTP.

Every server is started in a process group of its own and killed with that group at teardown,
even when the test fails (and with the test runner itself, through PR_SET_PDEATHSIG), so no
gunicorn outlives its test. Nothing here stops or touches a shared service."""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from sqlalchemy import create_engine, func, select

from app import create_app
from app.auth.models import User
from app.extensions import db
from tests import factories
from tests.conftest import ON_CI, POSTGRES_URL, sqlite_copy

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fiabilite-http-" + "x" * 32


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the database of one test ------------------------------------------------------------------


# Fixtures, named for the tests' parameters; a test module imports them as `*_fixture`.


@pytest.fixture(scope="session", name="sqlite_template")
def sqlite_template_fixture(request, tmp_path_factory):
    """A migrated SQLite file to copy: the suite's own on a SQLite run, else one of ours."""
    if not POSTGRES_URL:
        return request.getfixturevalue("migrated_database")
    from tests.conftest import _migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"], name="store")
def store_fixture(request, tmp_path):
    """The database URL a test's servers use: a fresh SQLite file in the SQLite suite,
    PostgreSQL (emptied after the test) in the PostgreSQL one. Each suite runs its own."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL : PROGRES_TEST_DATABASE_URL n'est pas défini")
        return request.getfixturevalue("database_url")
    if POSTGRES_URL:
        pytest.skip("SQLite : lancé par la suite SQLite")
    return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)


@contextlib.contextmanager
def app_on(url: str, **config):
    """An app context on `url` whose connections are closed on exit (the servers need the
    SQLite write lock, and PostgreSQL is emptied after the test)."""
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url, **config)
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()
            db.engine.dispose()


def seed(url: str, editors: int = 4) -> SimpleNamespace:
    """One contract, `editors` people allowed to edit its plan (both sides), an observer, an
    outsider, and a draft plan with an axis, an objective and one action."""
    from app.config import Config
    from app.plan import services as items
    from app.plan import versions

    # Hashed as the servers (development settings) want them: a login then verifies once and
    # never rehashes (two Argon2 runs at 19 MiB per login otherwise).
    argon2 = {k: getattr(Config, k) for k in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST")}
    with app_on(url, **argon2):
        buyer = factories.make_organisation("Métropole de Lyon", "acheteur_public")
        supplier = factories.make_organisation("Textiles Rhône SAS")
        contract = factories.make_contract(buyer, supplier, "2025-0142")
        people = []
        for n in range(editors):
            side = "acheteur" if n % 2 == 0 else "titulaire"
            user = factories.make_user(
                f"editeur{n}@{side}.example", f"Éditeur {n}",
                organisation=buyer if side == "acheteur" else supplier,
            )  # fmt: skip
            factories.add_member(contract, user, side, "referent" if n < 2 else "contributeur")
            people.append(user.email)
        observer = factories.make_user("observatrice@acheteur.example", organisation=buyer)
        factories.add_member(contract, observer, "acheteur", "observateur")
        outsider = factories.make_user("personne@ailleurs.example")
        version = versions.working_version(versions.plan_of(contract))
        lead = db.session.scalar(select(User).where(User.email == people[0]))
        axis = items.create_item(version, "axe", {"kind": "environnemental",
                                                  "title": "Matières recyclées"}, actor=lead)  # fmt: skip
        objective = items.create_item(version, "objectif", {"title": "30 % de recyclé",
                                                            "obligation": "resultats"},
                                      parent=axis, actor=lead)  # fmt: skip
        action = items.create_item(version, "action", {"title": "Sourcer du fil recyclé",
                                                       "owner_side": "titulaire",
                                                       "description": "Début",
                                                       "resources": "Début"},
                                   parent=objective, actor=lead)  # fmt: skip
        return SimpleNamespace(
            contract_id=contract.id, version_id=version.id, objective_id=objective.id,
            action_id=action.id, action_uid=action.uid, editors=people,
            observer=observer.email, outsider=outsider.email,
        )  # fmt: skip


# --- servers ------------------------------------------------------------------------------------


try:
    _prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):
    _prctl = None


def _die_with_parent():
    """In the child, before exec (the library was loaded beforehand: nothing to lock here):
    SIGKILL when the thread that started it ends, so no server outlives the test runner."""
    if _prctl is not None:
        _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py` as in production, on 127.0.0.1 and a free port."""

    def __init__(self, database_url: str, logs: Path, *, workers: int = 1, threads: int = 16,
                 app: str = "wsgi:app", **env):  # fmt: skip
        self.database_url, self.logs = database_url, logs
        self.workers, self.threads, self.app_path = workers, threads, app
        self.env = {"LIVE_BUS_URL": "memory://", "RATELIMIT_STORAGE_URI": "memory://",
                    "LIVE_KEEPALIVE_SECONDS": "1", **env}  # fmt: skip
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0
        self.clients: list = []  # browsers and streams, closed at stop()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Gunicorn:
        self.port, self.starts = free_port(), self.starts + 1
        env = {**os.environ, "DATABASE_URL": self.database_url, "SECRET_KEY": SECRET,
               "PROGRES_CONFIG": "development", "OUTBOX_DELIVER_AFTER_REQUEST": "false",
               **self.env}  # fmt: skip
        self.logs.mkdir(parents=True, exist_ok=True)
        self._errors = open(self.logs / f"gunicorn-{self.starts}.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--workers",
             str(self.workers), "--threads", str(self.threads), "--graceful-timeout", "3",
             "--bind", f"127.0.0.1:{self.port}",
             "--access-logfile", str(self.logs / f"access-{self.starts}.log"), self.app_path],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=self._errors,
            start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn s'est arrêté :\n{self.log_text()[-3000:]}")
            with contextlib.suppress(OSError):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", "/connexion")
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"gunicorn ne répond pas :\n{self.log_text()[-3000:]}")

    def kill9(self) -> None:
        """SIGKILL to the whole group: the master and its workers at once, mid-request."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._errors.close()

    def stop(self) -> None:
        """SIGKILL to the group: these tests never need a graceful stop (tests/live/
        test_two_processes.py tests that one), and a quick stop waits for open streams."""
        for client in self.clients:
            client.close()
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self._errors.close()

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
        return [int(pid) for pid in out.split()]

    def threads_of_workers(self) -> list[int]:
        """Each worker's number of threads (/proc/<pid>/status)."""
        counts = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            counts.append(int(re.search(r"^Threads:\s+(\d+)", status, re.M).group(1)))
        return counts

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def statuses(self) -> list[int]:
        """Every status gunicorn logged (the access log's « "GET /… HTTP/1.1" 200 »)."""
        found = []
        for path in self.logs.glob("access-*.log"):
            found += [int(s) for s in re.findall(r'HTTP/1\.[01]" (\d{3}) ', path.read_text())]
        return found


@pytest.fixture(name="servers")
def servers_fixture(tmp_path):
    """`servers(url, …)` starts a Gunicorn; all of them are killed at teardown."""
    started: list[Gunicorn] = []

    def start(database_url: str, **kwargs) -> Gunicorn:
        server = Gunicorn(database_url, tmp_path / f"server-{len(started)}", **kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(name="own_redis")
def own_redis_fixture(tmp_path):
    """A Redis server of this test's own, on a free port (nothing shared is touched, no other
    test's events cross it): `kill()` and `start()` it at will."""
    if shutil.which("redis-server") is None:
        if ON_CI:
            pytest.fail("redis-server absent (obligatoire sous CI=true)")
        pytest.skip("redis-server absent")

    class OwnRedis:
        port = free_port()
        url = f"redis://127.0.0.1:{port}/0"
        process: subprocess.Popen | None = None

        def start(self):
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
            client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
            for _ in range(50):
                with contextlib.suppress(redis.ConnectionError):
                    client.ping()
                    client.close()
                    return
                time.sleep(0.1)
            raise RuntimeError("redis-server ne démarre pas")

        def kill(self):
            self.process.kill()
            self.process.wait(timeout=10)

    own = OwnRedis()
    own.start()
    yield own
    if own.process.poll() is None:
        own.kill()


# --- browsers -----------------------------------------------------------------------------------


class FormFields(HTMLParser):
    """What a browser submits for the first form matching `selector_class`: inputs (checked
    radios and boxes only), selected options, textareas (the newline after the tag dropped)."""

    def __init__(self, form_class: str | None = None):
        super().__init__(convert_charrefs=True)
        self.form_class, self.inside, self.done = form_class, False, False
        self.fields: dict[str, str] = {}
        self._select = self._textarea = None
        self._first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and not self.done and not self.inside:
            wanted = self.form_class is None or self.form_class in (a.get("class") or "").split()
            self.inside = wanted
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.fields.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            value = self.fields[self._textarea]
            self.fields[self._textarea] = value[1:] if value.startswith("\n") else value
            self._textarea = None
        elif tag == "form" and self.inside:
            self.inside, self.done = False, True

    def handle_data(self, data):
        if self._textarea and self.inside:
            self.fields[self._textarea] += data


def form_fields(page: str, form_class: str | None = None) -> dict[str, str]:
    parser = FormFields(form_class)
    parser.feed(page)
    return parser.fields


@dataclass
class Reply:
    status: int
    body: str
    headers: dict


class Browser:
    """One person's browser: a kept-alive connection, the session cookie, the CSRF token."""

    def __init__(self, server: Gunicorn, timeout: float = 15):
        self.server, self.timeout = server, timeout
        server.clients.append(self)
        self.cookies: dict[str, str] = {}
        self.token = ""
        self._connection: http.client.HTTPConnection | None = None

    def _send(self, method, path, body=None, headers=None) -> Reply:
        if self._connection is None:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                                          timeout=self.timeout)  # fmt: skip
        sent = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
                **(headers or {})}  # fmt: skip
        try:
            self._connection.request(method, path, body=body, headers=sent)
            response = self._connection.getresponse()
            data = response.read().decode()
        except Exception:
            self._connection.close()
            self._connection = None
            raise
        for raw in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if "expires=Thu, 01 Jan 1970" in raw or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if response.getheader("Connection", "").lower() == "close":
            self._connection.close()
            self._connection = None
        return Reply(response.status, data, dict(response.headers))

    def get(self, path: str, htmx: bool = False) -> Reply:
        return self._send("GET", path, headers={"HX-Request": "true"} if htmx else {})

    def post(self, path: str, fields: dict, htmx: bool = True) -> Reply:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if htmx:
            headers |= {"HX-Request": "true", "X-CSRFToken": self.token}
        return self._send("POST", path, urllib.parse.urlencode(fields).encode(), headers)

    def log_in(self, email: str, password: str = factories.PASSWORD) -> Reply:
        page = self.get("/connexion").body
        fields = form_fields(page)
        fields.update(email=email, password=password)
        reply = self.post("/connexion", fields, htmx=False)
        if reply.status == 302:
            self.refresh_token()
        return reply

    def refresh_token(self) -> None:
        page = self.get("/").body
        match = re.search(r"X-CSRFToken&#34;: &#34;([^&]+)&#34;|\"X-CSRFToken\": \"([^\"]+)\"",
                          page)  # fmt: skip
        if match:
            self.token = match.group(1) or match.group(2)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def sse_events(response):
    """Yield (name, data, id) for each event of a stream; a comment (keepalive) yields
    (None, comment, None)."""
    name, data, event_id = None, [], None
    for raw in response:
        line = raw.decode().rstrip("\r\n")
        if not line:
            if name or data:
                yield name or "message", "\n".join(data), event_id
            name, data, event_id = None, [], None
        elif line.startswith(":"):
            yield None, line[1:].strip(), None
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])
        elif line.startswith("id: "):
            event_id = int(line[4:])


class StreamReader:
    """An SSE stream read in a thread: every (monotonic time, event name, data) it carried."""

    def __init__(self, server: Gunicorn, browser: Browser, path: str, last_event_id=None):
        server.clients.append(self)
        self.connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
                   "Accept": "text/event-stream"}  # fmt: skip
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: list[tuple[float, str | None, str]] = []
        self.ids: list[int] = []
        self.ended = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        if self.status == 200:
            self._thread.start()
        else:
            self.response.read()
            self.close()

    def _read(self) -> None:
        try:
            for name, data, event_id in sse_events(self.response):
                with self._changed:
                    self.events.append((time.monotonic(), name, data))
                    if event_id is not None:
                        self.ids.append(event_id)
                    self._changed.notify_all()
        except (OSError, ValueError, http.client.HTTPException):
            pass  # closed by close(), or cut by the server
        finally:
            self.ended.set()
            with self._changed:
                self._changed.notify_all()

    def names(self) -> list[str]:
        return [name for _t, name, _d in self.events if name]

    def wait_for(self, name: str, timeout: float = 5, after: int = 0, **expected):
        """(time, data) of the first event called `name` from index `after` on whose data has
        the `expected` values; None if none came within `timeout`."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for at, event, data in self.events[after:]:
                    if event == name and expected.items() <= json.loads(data).items():
                        return at, data
                left = deadline - time.monotonic()
                if left <= 0 or self.ended.is_set():
                    return None
                self._changed.wait(left)

    def close(self) -> None:
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)  # the reader wakes up, ends
        if self._thread.is_alive():
            self._thread.join(5)
        self.connection.close()


# --- checks on what is stored -----------------------------------------------------------------


def integrity_report(url: str) -> dict:
    """SQLite's own checks (integrity_check, foreign_key_check), every foreign key of the
    schema checked by a join (both databases), and the audit chains recomputed."""
    from app.audit.services import verify_all

    report = {"integrity": "ok", "fk_violations": [], "orphans": [], "broken_chains": []}
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.connect() as connection:
            report["integrity"] = connection.exec_driver_sql("PRAGMA integrity_check").scalar()
            report["fk_violations"] = connection.exec_driver_sql(
                "PRAGMA foreign_key_check"
            ).fetchall()
        engine.dispose()
    with app_on(url):
        for table in db.metadata.sorted_tables:
            for fk in table.foreign_keys:
                child = fk.parent
                # An alias: some keys point at their own table.
                target = fk.column.table.alias("cible")
                parent = target.c[fk.column.name]
                orphans = db.session.scalar(
                    select(func.count()).select_from(table.outerjoin(target, child == parent))
                    .where(child.is_not(None), parent.is_(None))
                )  # fmt: skip
                if orphans:
                    report["orphans"].append((str(child), str(parent), orphans))
        report["broken_chains"] = [(r.chain, r.broken_at, r.reason) for r in verify_all()
                                   if not r.ok]  # fmt: skip
        report["chains"] = len(verify_all())
    return report
