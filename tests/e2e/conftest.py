"""Browser fixtures: Debian's Chromium driven by pytest-playwright, the app (with the demo
data and CSRF on) served from a thread, and a recorder of CSP violations."""

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.demo.data import DEMO_PASSWORD
from app.extensions import db
from tests.conftest import POSTGRES_URL, _empty_postgres, fresh_database, sqlite_copy
from tests.snapshots import TableRows

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--lang=fr-FR"]  # fmt: skip
CSP_RECORDER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + e.blockedURI);
});
"""


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "headless": True,
        "args": CHROMIUM_FLAGS,
        "executable_path": shutil.which("chromium") or "/usr/bin/chromium",
        # French date pickers (jj/mm/aaaa) need the process locale, not only the page's
        "env": {**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"},
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "fr-FR", "timezone_id": "Europe/Paris",
            "viewport": {"width": 1366, "height": 900}}  # fmt: skip


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}  # the real browser sends the real tokens


@pytest.fixture(scope="session")
def demo_database(migrated_database, tmp_path_factory):
    """The demo loaded once per run (its documents take seconds to render): a SQLite file to
    copy, or PostgreSQL rows to put back, for each browser test."""
    from app.demo.data import load

    folder = tmp_path_factory.mktemp("demo")
    app = create_app("test", SQLALCHEMY_DATABASE_URI=fresh_database(migrated_database, folder,
                                                                    "demo.db"))  # fmt: skip
    with app.app_context():
        load()
        db.session.commit()
        demo = TableRows(db.engine) if POSTGRES_URL else folder / "demo.db"
        db.engine.dispose()  # on SQLite, the WAL is folded into the file
    if POSTGRES_URL:
        _empty_postgres(POSTGRES_URL)
    return demo


@pytest.fixture
def database_url(demo_database, tmp_path):
    """Each browser test starts from the demo, as `make run` serves it."""
    if POSTGRES_URL:
        from sqlalchemy import create_engine

        engine = create_engine(POSTGRES_URL)
        demo_database.restore(engine)
        engine.dispose()
        yield POSTGRES_URL
        _empty_postgres(POSTGRES_URL)
    else:
        yield sqlite_copy(demo_database, tmp_path)


class InFlight:
    """The WSGI app, counting the requests it is still answering (a stream until it closes):
    the test's end waits for them, else a request the browser made last still holds a
    connection when the pool is disposed, and that connection is only closed by the garbage
    collector, in a later test (« psycopg.Connection deleted while still open »)."""

    def __init__(self, app):
        self.app, self.count, self.lock = app, 0, threading.Lock()

    def _add(self, n: int) -> None:
        with self.lock:
            self.count += n

    def __call__(self, environ, start_response):
        self._add(1)
        try:
            body = self.app(environ, start_response)
        except BaseException:
            self._add(-1)
            raise
        return _Counted(body, self)


class _Counted:
    def __init__(self, body, flight: InFlight):
        self.body, self.flight = body, flight

    def __iter__(self):
        return iter(self.body)

    def close(self):
        try:
            if hasattr(self.body, "close"):
                self.body.close()
        finally:
            self.flight._add(-1)


@pytest.fixture
def live_server(app):
    flight = InFlight(app)
    server = make_server("127.0.0.1", 0, flight, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    bus = app.extensions["live"].bus
    bus.close()  # open live streams end within a second…
    server.shutdown()
    thread.join(timeout=5)
    deadline = time.monotonic() + 5
    while (bus.count() or flight.count) and time.monotonic() < deadline:
        time.sleep(0.05)  # …and every answer is sent before the database goes away


@pytest.fixture
def draft_plan(live_server):
    """The plan page of the demo's change request still in draft: after the baseline, the plan
    in force is frozen and both sides co-edit a request's draft version."""
    from sqlalchemy import select

    from app.changes.models import ChangeRequest

    change = db.session.scalar(select(ChangeRequest).where(ChangeRequest.status == "brouillon"))
    url = f"/contrats/{change.contract_id}/plan/versions/{change.draft_version_id}/"
    db.session.commit()  # on SQLite every transaction holds the write lock: give it back
    return url


@pytest.fixture
def new_page(browser, browser_context_args, live_server):
    """Open a page in a fresh browser context (one per person), with the CSP recorder."""
    contexts = []

    def open_page():
        context = browser.new_context(**browser_context_args, base_url=live_server)
        context.add_init_script(CSP_RECORDER)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        for page in context.pages:
            violations = page.evaluate("() => window.__cspViolations || []")
            assert violations == [], f"CSP violations on {page.url}: {violations}"
        context.close()


@pytest.fixture
def page_as(new_page):
    """A page logged in as `email` through the real login form."""

    def log_in(email: str, password: str = DEMO_PASSWORD):
        page = new_page()
        page.goto("/connexion")
        page.get_by_label("Adresse e-mail").fill(email)
        page.get_by_label("Mot de passe").fill(password)
        page.get_by_role("button", name="Se connecter").click()
        page.wait_for_url("**/")
        return page

    return log_in


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
