"""Catalogue 30: no lost update over real HTTP (SECURITY.md §6; ASVS 2.3.3, 15.4.2).

20 browsers × 15 edits of one action, against gunicorn on 127.0.0.1, on SQLite (WAL) and on
PostgreSQL, served by one worker with threads or by two worker processes. Each edit is what a
person does: open the editor (GET, the form carries `base_version`), think 0–5 ms, append a
token of their own to one text field and save (POST). Half the browsers edit « Description »,
the other half « Moyens », so saves of different fields merge and saves of the same field
clash (409). Every operation is recorded as ok (200), fail (409), info (no answer: maybe
stored) or error (any other answer), then the stored item is checked against Jepsen's
set/register invariants (`violations`). An error must leave nothing behind, as a 409 does: the
app's 500 page tells the person « Votre saisie n'a pas été enregistrée ».

**Proven able to fail: the control.** The same browsers and the same checker run against
`tests/security/naive_wsgi.py`: the real app under the same gunicorn, with one function
replaced so that a save's base is whatever is stored now instead of the version the user saw
(a server that ignores `base_version`: last write wins). Chosen over a last-write-wins *client*
because then only the server differs between the two runs: the control proves both that the
harness races enough to lose writes and that the version check is what prevents it. No switch
exists in the app for this: the replacement lives in that test-only module."""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db
from app.plan.models import Action, ItemChange
from tests.conftest import POSTGRES_URL, sqlite_copy
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

CLIENTS, EDITS = 20, 15
CONTROL_EDITS = 5  # the control's 100 saves lose dozens: enough to prove the point, and quicker
FIELDS = ("description", "resources")
TOKEN = re.compile(r"\[c\d\de\d\d\]")
MODES = {"threads": {"workers": 1, "threads": 16}, "processes": {"workers": 2, "threads": 8}}


@dataclass
class Op:
    client: int
    field: str
    token: str
    # ok (200), fail (409), info (no answer: it may or may not have happened), error (any
    # other answer to the save or to the editor's GET: never expected)
    outcome: str
    status: int | None = None


def run_editors(server, plan, clients=CLIENTS, edits=EDITS) -> list[Op]:
    """The browsers, logged in first, then released together; every operation recorded."""
    browsers = [Browser(server) for _ in range(clients)]
    logins = [threading.Thread(target=b.log_in, args=(plan.editors[n % len(plan.editors)],))
              for n, b in enumerate(browsers)]  # fmt: skip
    for thread in logins:
        thread.start()
    for thread in logins:
        thread.join()
    assert all(b.token for b in browsers), "connexion impossible"
    ops: list[Op] = []
    lock, start = threading.Lock(), threading.Barrier(clients)
    editor = f"/contrats/{plan.contract_id}/plan/action/{plan.action_id}/modifier"
    save = f"/contrats/{plan.contract_id}/plan/action/{plan.action_id}"

    def person(n: int, browser: Browser) -> None:
        try:
            edit(n, browser)
        finally:
            browser.close()

    def edit(n: int, browser: Browser) -> None:
        rng, field = random.Random(n), FIELDS[n % len(FIELDS)]
        start.wait()
        for k in range(edits):
            token = f"[c{n:02d}e{k:02d}]"
            try:
                reply = browser.get(editor, htmx=True)
            except (OSError, http.client.HTTPException):
                reply = None
            if reply is None or reply.status != 200:  # the editor did not open: nothing sent
                with lock:
                    ops.append(Op(n, field, token, "error", reply and reply.status))
                continue
            fields = form_fields(reply.body, "editor")
            name = f"action-{plan.action_id}-{field}"
            fields[name] = f"{fields[name]} {token}"
            time.sleep(rng.uniform(0, 0.005))  # the person types
            try:
                reply = browser.post(save, fields)
            except (OSError, http.client.HTTPException):
                op = Op(n, field, token, "info")
            else:
                outcome = {200: "ok", 409: "fail"}.get(reply.status, "error")
                op = Op(n, field, token, outcome, reply.status)
            with lock:
                ops.append(op)

    threads = [threading.Thread(target=person, args=(n, b)) for n, b in enumerate(browsers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "un navigateur ne répond plus"
    return ops


def violations(url: str, plan, ops: list[Op]) -> dict[str, list]:
    """What the stored item says against the recorded operations (empty lists: all held).

    1. every ok save's token is in the final text of its field, exactly once, and was added by
       exactly one history entry, in that person's name;
    2. every failed (409) save's token is nowhere: not in the text, not in the history;
    3. an unanswered save's token is there at most once;
    4. the field's final text is its tokens in the history's order (no write reordered);
    5. final version = 1 + number of ok saves, one history entry and one audit entry per ok
       save, and the audit chain verifies."""
    found: dict[str, list] = {k: [] for k in (
        "unexpected_status", "lost", "duplicated", "failed_but_present", "info_twice",
        "not_in_history", "history_adds_other_tokens", "wrong_actor", "order", "version",
        "audit", "broken_chains")}  # fmt: skip
    emails = {n: plan.editors[n % len(plan.editors)] for n in range(CLIENTS)}
    with app_on(url):
        action = db.session.get(Action, plan.action_id)
        history = db.session.scalars(
            select(ItemChange)
            .where(ItemChange.item_kind == "action", ItemChange.item_id == plan.action_id,
                   ItemChange.action == "modification")
            .order_by(ItemChange.item_version)
        ).all()  # fmt: skip
        actors = {u.id: u.email for u in db.session.scalars(select(User))}
        added: dict[str, list[tuple[str, str]]] = {f: [] for f in FIELDS}  # field -> (token, who)
        for change in history:
            for field, (before, after) in change.changes.items():
                new = [t for t in TOKEN.findall(after or "") if t not in (before or "")]
                added.setdefault(field, []).extend((t, actors.get(change.actor_id)) for t in new)
        audits = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "plan.action.modification",
                                     AuditEvent.object_id == plan.action_uid)
        ).all()  # fmt: skip
        final = {f: TOKEN.findall(getattr(action, f) or "") for f in FIELDS}
        version = action.version
    by_token = {op.token: op for op in ops}
    ok = [op for op in ops if op.outcome == "ok"]
    found["unexpected_status"] = [(op.token, op.status) for op in ops if op.outcome == "error"]
    for field in FIELDS:
        counts, adders = Counter(final[field]), Counter(t for t, _who in added[field])
        for op in (o for o in ops if o.field == field):
            if op.outcome == "ok":
                if counts[op.token] == 0:
                    found["lost"].append(op.token)
                elif counts[op.token] > 1:
                    found["duplicated"].append(op.token)
                if adders[op.token] != 1:
                    found["not_in_history"].append(op.token)
            elif op.outcome in ("fail", "error") and (counts[op.token] or adders[op.token]):
                found["failed_but_present"].append(op.token)
            elif op.outcome == "info" and counts[op.token] > 1:
                found["info_twice"].append(op.token)
        for token, who in added[field]:
            op = by_token.get(token)
            if op is None or op.field != field:
                found["history_adds_other_tokens"].append(token)
            elif who != emails[op.client]:
                found["wrong_actor"].append((token, who))
        if final[field] != [t for t, _who in added[field]]:
            found["order"].append(field)
    expected = 1 + len(ok) + sum(1 for op in ops if op.outcome == "info" and
                                 any(op.token in final[f] for f in FIELDS))  # fmt: skip
    if version != expected or len(history) != version - 1:
        found["version"].append({"version": version, "expected": expected,
                                 "history": len(history)})  # fmt: skip
    if len(audits) != len(history):
        found["audit"].append({"audit_entries": len(audits), "history": len(history)})
    found["broken_chains"] = integrity_report(url)["broken_chains"]
    return found


def summary(ops: list[Op], found: dict) -> str:
    outcomes = Counter(op.outcome for op in ops)
    return (f"{len(ops)} saves: {outcomes['ok']} ok, {outcomes['fail']} refused (409), "
            f"{outcomes['info']} unanswered, {outcomes['error']} errors; "
            f"lost accepted writes: {len(found['lost'])}; "
            f"violations: { {k: len(v) for k, v in found.items() if v} }")  # fmt: skip


@pytest.mark.parametrize("mode", MODES)
def test_no_lost_update(store, servers, mode):
    plan = seed(store)
    server = servers(store, **MODES[mode])
    started = time.monotonic()
    ops = run_editors(server, plan)
    found = violations(store, plan, ops)
    print(f"\n{mode} on {store.split(':')[0]}: {summary(ops, found)} "
          f"in {time.monotonic() - started:.1f} s")  # fmt: skip
    assert len(ops) == CLIENTS * EDITS
    outcomes = Counter(op.outcome for op in ops)
    assert outcomes["ok"] >= 2 * len(FIELDS)  # the run did write, on both fields
    assert outcomes["fail"] > 0  # and it raced: same-field saves from the same base clashed
    failures = [s for s in server.statuses() if s >= 500]
    if any(found.values()) or failures:
        pytest.fail(f"{summary(ops, found)}\n{found}\n{server.log_text()[-4000:]}")


def test_no_lost_update_control_naive_writer_is_caught(sqlite_template, tmp_path, servers):
    """The negative control (see the module's docstring): the same harness against a server
    that ignores `base_version` must report lost accepted writes, and no 409. On SQLite, so in
    the SQLite suite only."""
    if POSTGRES_URL:
        pytest.skip("SQLite : lancé par la suite SQLite")
    url = sqlite_copy(sqlite_template, tmp_path)
    plan = seed(url)
    server = servers(url, app="tests.security.naive_wsgi:app", **MODES["threads"])
    ops = run_editors(server, plan, edits=CONTROL_EDITS)
    found = violations(url, plan, ops)
    print(f"\ncontrol (naive writer) on sqlite: {summary(ops, found)}")
    assert len(ops) == CLIENTS * CONTROL_EDITS
    assert Counter(op.outcome for op in ops)["fail"] == 0  # the naive server accepts everything
    assert len(found["lost"]) >= 10, summary(ops, found)  # and the checker sees the losses
    assert found["order"]
