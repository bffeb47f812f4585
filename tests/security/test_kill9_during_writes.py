"""Catalogue 32: `kill -9` of the whole gunicorn group in the middle of writes, then a restart
(SECURITY.md §6 « Crash safety »; ASVS 16.5.3).

Six browsers add actions whose description spans several database pages, two others append
tokens to one shared action (compare-and-set saves), all through gunicorn -w 2. After a moment
the master and both workers get SIGKILL at once; gunicorn is started again on the same
database and the writes go on. Then: every acknowledged write is stored (acknowledged ⊆
stored), exactly once and whole; nothing refused or never sent is stored; SQLite's
`integrity_check` is ok and `foreign_key_check` empty; every foreign key of the schema holds
(both databases); the audit chains verify, with one entry per stored change."""

from __future__ import annotations

import hashlib
import http.client
import re
import threading
import time
from collections import Counter

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.extensions import db
from app.plan.models import Action, ItemChange
from tests.security.http_harness import (  # noqa: F401  (the *_fixture ones are fixtures)
    Browser,
    app_on,
    form_fields,
    integrity_report,
    seed,
    servers_fixture,
    sqlite_template_fixture,
    store_fixture,
)

CREATORS, EDITORS = 6, 2
TOKEN = re.compile(r"\[k\d-\d+\]")


def payload(title: str) -> str:
    """About 6 KB of text of its own per action: more than one 4 KB SQLite page."""
    seed_hex = hashlib.sha256(title.encode()).hexdigest()
    return " ".join(f"{seed_hex[:16]}-{n:03d}" for n in range(300))


class Writers:
    """The browsers writing until told to stop; each operation is ok, fail or info."""

    def __init__(self, server, plan):
        self.server, self.plan = server, plan
        self.ops: list[tuple[str, str, str]] = []  # (kind, key, outcome)
        self.lock, self.stop = threading.Lock(), threading.Event()
        self.threads: list[threading.Thread] = []

    def record(self, kind, key, outcome):
        with self.lock:
            self.ops.append((kind, key, outcome))

    def _send(self, browser, path, fields, kind, key) -> bool:
        """Post once; False when nothing was sent (the server was down: try the same again).
        A write sent but unanswered is never sent again under the same key: a form has no
        idempotency key, so a retry could store it twice."""
        try:
            reply = browser.post(path, fields)
        except ConnectionRefusedError:
            time.sleep(0.05)
            return False
        except (OSError, http.client.HTTPException):
            self.record(kind, key, "info")  # it may or may not be stored
            return True
        outcome = "ok" if 200 <= reply.status < 300 else "fail"
        self.record(kind, key, outcome if reply.status in (200, 409) else f"status {reply.status}")
        return True

    def creator(self, n: int, browser: Browser) -> None:
        plan, k = self.plan, 0
        prefix = f"nouveau-action-{plan.objective_id}-"
        path = f"/contrats/{plan.contract_id}/plan/versions/{plan.version_id}/action"
        while not self.stop.is_set():
            title = f"k9-{n}-{k}"
            fields = {"parent_id": plan.objective_id, f"{prefix}title": title,
                      f"{prefix}owner_side": "titulaire", f"{prefix}description": payload(title),
                      f"{prefix}resources": "", f"{prefix}cost_estimate": "",
                      f"{prefix}planned_start": "", f"{prefix}planned_end": "",
                      f"{prefix}mode": "immediate", f"{prefix}status": "proposee",
                      f"{prefix}abandon_reason": ""}  # fmt: skip
            if self._send(browser, path, fields, "create", title):
                k += 1

    def editor(self, n: int, browser: Browser) -> None:
        plan, k = self.plan, 0
        editor = f"/contrats/{plan.contract_id}/plan/action/{plan.action_id}/modifier"
        name = f"action-{plan.action_id}-description"
        while not self.stop.is_set():
            try:
                reply = browser.get(editor, htmx=True)
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            if reply.status != 200:
                self.record("edit", f"GET {k}", f"status {reply.status}")
                continue
            fields = form_fields(reply.body, "editor")
            token = f"[k{n}-{k}]"
            fields[name] = f"{fields[name]} {token}"
            path = f"/contrats/{plan.contract_id}/plan/action/{plan.action_id}"
            if self._send(browser, path, fields, "edit", token):
                k += 1

    @staticmethod
    def _run(target, n, browser) -> None:
        try:
            target(n, browser)
        finally:
            browser.close()

    def start(self) -> None:
        browsers = [Browser(self.server, timeout=10) for _ in range(CREATORS + EDITORS)]
        for n, browser in enumerate(browsers):
            assert browser.log_in(self.plan.editors[n % len(self.plan.editors)]).status == 302
        for n, browser in enumerate(browsers):
            target = self.creator if n < CREATORS else self.editor
            self.threads.append(threading.Thread(target=self._run, args=(target, n, browser)))
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(30)
        assert not any(t.is_alive() for t in self.threads)

    def count(self, outcome: str) -> int:
        with self.lock:
            return sum(1 for _kind, _key, o in self.ops if o == outcome)


def test_kill9_during_writes(store, servers):
    plan = seed(store)
    server = servers(store, workers=2, threads=8)
    writers = Writers(server, plan)
    writers.start()
    try:
        time.sleep(1.5)
        acknowledged_before = writers.count("ok")
        server.kill9()  # master and workers, mid-request
        server.start()  # same database, a new port: the browsers follow, their sessions hold
        restarted_at = writers.count("ok")
        time.sleep(1.0)
    finally:
        writers.finish()
    server.stop()
    assert acknowledged_before > 0 and writers.count("ok") > restarted_at  # wrote, then again
    assert writers.count("info") > 0  # the kill did cut requests in flight

    unexpected = [op for op in writers.ops if op[2] not in ("ok", "fail", "info")]
    assert unexpected == []
    outcome = {(kind, key): o for kind, key, o in writers.ops}
    with app_on(store):
        stored = db.session.scalars(select(Action).where(Action.title.like("k9-%"))).all()
        shared = db.session.get(Action, plan.action_id)
        body_tokens = Counter(TOKEN.findall(shared.description))
        edits = db.session.scalars(
            select(ItemChange).where(ItemChange.item_id == plan.action_id,
                                     ItemChange.item_kind == "action",
                                     ItemChange.action == "modification")
        ).all()  # fmt: skip
        audited = Counter(
            (e.action, e.object_id) for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action.like("plan.action.%")))
        )  # fmt: skip
        version = shared.version
        rows = [(a.title, a.description, a.uid) for a in stored]

    titles = Counter(title for title, _d, _u in rows)
    acknowledged = {key for (kind, key), o in outcome.items() if kind == "create" and o == "ok"}
    assert acknowledged - set(titles) == set(), "écritures acquittées perdues"
    assert [t for t, c in titles.items() if c > 1] == []  # none stored twice
    assert {t for t in titles if outcome.get(("create", t)) not in ("ok", "info")} == set()
    assert [t for t, description, _u in rows if description != payload(t)] == []  # none torn
    assert [t for t, _d, uid in rows if audited[("plan.action.creation", uid)] != 1] == []

    for (kind, key), o in outcome.items():
        if kind == "edit":
            present = body_tokens[key]
            assert present == 1 if o == "ok" else present == 0 if o == "fail" else present <= 1
    assert version == 1 + len(edits)
    assert audited[("plan.action.modification", plan.action_uid)] == len(edits)

    report = integrity_report(store)
    assert report["integrity"] == "ok"
    assert report["fk_violations"] == []
    assert report["orphans"] == []
    assert report["broken_chains"] == [] and report["chains"] >= 1
    print(f"\nkill -9 on {store.split(':')[0]}: {writers.count('ok')} acknowledged, "
          f"{writers.count('fail')} refused, {writers.count('info')} cut by the kill; "
          f"{len(rows)} actions stored, {len(edits)} edits; integrity {report['integrity']}")  # fmt: skip
