"""Catalogue 39: Redis unreachable degrades safely (SECURITY.md §9 « Fault injections »;
ASVS 16.5.2, 16.5.3). Redis carries two things here: the live bus with presence and the
per-person stream count (LIVE_BUS_URL), and the login limiter's counts (RATELIMIT_STORAGE_URI).

What the app does without it, as README « En production » documents:
* login, pages, fragments and saves work as before, never a 500;
* live updates stay within the process that served the save (other processes' saves no longer
  reach its pages), the streams stay open, and every contract page says so: « Mises à jour en
  direct indisponibles : rechargez la page pour voir les changements des autres. » (rendered in
  the page, and pulled by open pages when their stream sends `direct-etat`);
* when Redis is back, the notice goes and each stream ends once, so its browser reconnects with
  Last-Event-ID and catches up on what it missed;
* the limiter counts in each process's memory (Flask-Limiter's in-memory fallback): still 429
  after 10 failed logins from one address in one process. The same fallback for the login
  form alone: tests/security/test_rate_limit.py::
  test_when_redis_is_down_logins_still_work_and_are_limited_per_process.

No shared service is stopped: the first test points the app at a closed port, the second
starts a Redis of its own on a free port and kills that one (by its pid)."""

from __future__ import annotations

import html
import time

from sqlalchemy import select

from app.extensions import db
from app.plan.models import Action
from tests.conftest import sqlite_copy
from tests.security.http_harness import (  # noqa: F401  (the *_fixture ones are fixtures)
    Browser,
    StreamReader,
    app_on,
    form_fields,
    free_port,
    own_redis_fixture,
    seed,
    servers_fixture,
    sqlite_template_fixture,
)

NOTICE = "Mises à jour en direct indisponibles : rechargez la page pour voir les changements"


def text(reply) -> str:
    return html.unescape(reply.body)


def save(browser: Browser, plan, **changes):
    """Open the action's editor and save it with `changes` (field → new text)."""
    base = f"/contrats/{plan.contract_id}/plan/action/{plan.action_id}"
    editor = browser.get(f"{base}/modifier", htmx=True)
    assert editor.status == 200, editor.status
    fields = form_fields(editor.body, "editor")
    for name, value in changes.items():
        fields[f"action-{plan.action_id}-{name}"] = value
    return browser.post(base, fields)


def create(browser: Browser, plan, title: str):
    prefix = f"nouveau-action-{plan.objective_id}-"
    fields = {"parent_id": plan.objective_id, f"{prefix}title": title,
              f"{prefix}owner_side": "acheteur", f"{prefix}mode": "immediate",
              f"{prefix}status": "proposee"}  # fmt: skip
    return browser.post(f"/contrats/{plan.contract_id}/plan/versions/{plan.version_id}/action",
                        fields)  # fmt: skip


def no_server_error(*servers):
    for server in servers:
        assert [s for s in server.statuses() if s >= 500] == []
        log = server.log_text()
        assert "error.unexpected" not in log and "[ERROR]" not in log, log[-3000:]


def test_redis_down_degrades_safely(sqlite_template, tmp_path, servers):
    store = sqlite_copy(sqlite_template, tmp_path)  # Redis's absence is the same on any database
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    plan = seed(store)
    server = servers(store, workers=1, threads=16, LIVE_BUS_URL=dead, RATELIMIT_STORAGE_URI=dead)
    editor, viewer = Browser(server), Browser(server)
    assert editor.log_in(plan.editors[0]).status == 302
    assert viewer.log_in(plan.editors[1]).status == 302
    cid, aid = plan.contract_id, plan.action_id

    # Pages and fragments, each contract page with the notice.
    for path in (f"/contrats/{cid}/", f"/contrats/{cid}/plan/",
                 f"/contrats/{cid}/plan/versions/{plan.version_id}/"):  # fmt: skip
        page = viewer.get(path)
        assert page.status == 200, path
        assert NOTICE in text(page), path
        assert 'id="etat-direct" role="status"' in page.body
    assert viewer.get("/").status == 200
    for path in (f"/contrats/{cid}/plan/action/{aid}", f"/contrats/{cid}/plan/action/{aid}/modifier",
                 f"/contrats/{cid}/direct/presence"):  # fmt: skip
        assert viewer.get(path, htmx=True).status == 200, path
    status = viewer.get(f"/contrats/{cid}/direct/etat", htmx=True)
    assert status.status == 200 and NOTICE in text(status)

    # The live stream opens, says the bus is down, and still carries this process's saves.
    stream = StreamReader(server, viewer, f"/contrats/{cid}/direct/?page=plan")
    try:
        assert stream.status == 200
        assert stream.wait_for("direct-etat", timeout=3) is not None
        assert save(editor, plan, title="Enregistré sans Redis").status == 200
        assert stream.wait_for(f"item-action-{aid}", timeout=5, action="modification")
        assert create(editor, plan, "Créée sans Redis").status == 200
        time.sleep(2.5)  # keepalives every second: the stream is not ended in a loop
        assert not stream.ended.is_set()
        assert (
            sum(1 for _t, name, data in stream.events if name is None and data == "keepalive") >= 2
        )
    finally:
        stream.close()
    with app_on(store):
        assert db.session.get(Action, aid).title == "Enregistré sans Redis"
        assert db.session.scalar(select(Action.id).where(Action.title == "Créée sans Redis"))

    # The limiter's documented fallback: each process counts alone, in memory.
    stranger = Browser(server)
    statuses = [stranger.log_in(f"personne{n}@x.example", "mauvais").status for n in range(11)]
    assert statuses == [422] * 10 + [429]
    assert Browser(server).log_in(plan.editors[2]).status == 429  # the address is limited
    for browser in (editor, viewer, stranger):
        browser.close()
    no_server_error(server)


def test_redis_lost_then_back_pages_say_so_and_catch_up(
    sqlite_template, tmp_path, servers, own_redis
):
    """Two gunicorn instances share a Redis that dies during the session, then comes back."""
    store = sqlite_copy(sqlite_template, tmp_path)
    plan = seed(store)
    config = {"LIVE_BUS_URL": own_redis.url, "RATELIMIT_STORAGE_URI": own_redis.url}
    first = servers(store, workers=1, threads=16, **config)
    second = servers(store, workers=1, threads=16, **config)
    editor, viewer = Browser(first), Browser(second)
    assert editor.log_in(plan.editors[0]).status == 302
    assert viewer.log_in(plan.editors[1]).status == 302
    cid, aid = plan.contract_id, plan.action_id
    live_path = f"/contrats/{cid}/direct/?page=plan"
    assert NOTICE not in text(viewer.get(f"/contrats/{cid}/plan/"))

    stream = StreamReader(second, viewer, live_path)
    try:
        assert stream.status == 200
        assert save(editor, plan, title="Avant la panne").status == 200
        assert stream.wait_for(f"item-action-{aid}", timeout=5, action="modification")  # by Redis
        seen = len(stream.events)
        last_id = max(stream.ids)

        own_redis.kill()
        assert stream.wait_for("direct-etat", timeout=5, after=seen), stream.names()
        assert NOTICE in text(viewer.get(f"/contrats/{cid}/direct/etat", htmx=True))
        assert NOTICE in text(viewer.get(f"/contrats/{cid}/plan/"))
        assert save(editor, plan, title="Pendant la panne").status == 200  # writes go on
        assert editor.get(f"/contrats/{cid}/plan/").status == 200
        assert not stream.ended.is_set()

        own_redis.start()
        back = len(stream.events)
        assert stream.wait_for("direct-etat", timeout=10, after=back), stream.names()
        assert stream.ended.wait(5)  # ended once, so that the browser catches up
    finally:
        stream.close()
    # The browser reconnects with the last id it had: the save made during the outage comes.
    with app_on(store):
        version = db.session.get(Action, aid).version
    again = StreamReader(second, viewer, live_path, last_event_id=last_id)
    try:
        assert again.status == 200
        assert again.wait_for(f"item-action-{aid}", timeout=5, version=version)
        assert "direct-etat" not in again.names()
    finally:
        again.close()
    assert NOTICE not in text(viewer.get(f"/contrats/{cid}/direct/etat", htmx=True))
    assert NOTICE not in text(viewer.get(f"/contrats/{cid}/plan/"))
    editor.close()
    viewer.close()
    no_server_error(first, second)
