"""How fast are the big pages? `python bench/pages.py --database-url sqlite:////tmp/bench.db
[-n 30] [--pdf 3]` (after bench/generate.py).

1. In-process (same database, no server): the SQL queries of one request per page (a
   SQLAlchemy event), then the « in-memory rendering » of each page: the view runs once, its
   template context is kept (ORM objects loaded), and `render_template` alone is timed with every
   query blocked. The plan PDF's time is split into context / HTML / WeasyPrint.
2. Over HTTP, one keep-alive connection, sequential: a bare Flask « hello » served by the same
   gunicorn settings (gunicorn.conf.py), running beside Progrès in its production configuration
   on the same database and timed again just before each page — the plan page, dashboard, portfolio, indicator list, one indicator,
   planning and plan PDF, logged in as the bench lead (member of the large plan and of the
   1,000 portfolio contracts). Prints p50/p95, the ratio to hello and to in-memory rendering.
   A page that sends a big section after itself (app/rendering.deferred) has that section's
   request timed too, as htmx makes it; « whole » rows are the page with everything at once
   (?complet=1, what a browser without JavaScript asks for), on which the plan page's
   in-memory target is measured.
3. In-process again: the in-memory rendering measured once more, so that each page's floor is
   the mean of the two, before and after its HTTP figures.
Ratios measured in one run are what to compare (these machines are noisy: their speed drifts
by a third within minutes, hence the floors measured next to each figure)."""

from __future__ import annotations

import argparse
import html
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    DEFERRED,
    TMP,
    Client,
    free_port,
    machine,
    percentiles,
    production_env,
    start_gunicorn,
    stop,
)
from bench.generate import (
    BENCH_PASSWORD,
    DEFAULT_DATABASE,
    LEAD_EMAIL,
    PLAN_REFERENCE,
)

RENDERING_MODULES = ("app.plan.routes", "app.dashboard.routes", "app.contracts.routes", "app.changes.routes",
                     "app.indicators.routes", "app.schedule.routes")  # fmt: skip


def pages(
    contract_id: int, indicator_uid: str, change: dict | None = None
) -> list[tuple[str, str]]:
    base = f"/contrats/{contract_id}"
    listed = [("plan page", f"{base}/plan/")]
    if change:  # the amendment bench/generate.py prepares on the large plan
        listed += [
            ("plan page, request's draft", f"{base}/plan/versions/{change['draft']}/"),
            ("change request page", f"{base}/modifications/{change['id']}/"),
            ("amendment PDF (with visas)",
             f"{base}/modifications/{change['id']}/documents/{change['pdf']}/vise.pdf"),
        ]  # fmt: skip
    return [
        *listed,
        ("plan page, whole (?complet=1)", f"{base}/plan/?complet=1"),
        ("dashboard", f"{base}/tableau-de-bord/"),
        ("dashboard, whole (?complet=1)", f"{base}/tableau-de-bord/?complet=1"),
        ("portfolio", "/"),
        ("indicator list", f"{base}/indicateurs/"),
        ("one indicator", f"{base}/indicateurs/{indicator_uid}/"),
        ("planning", f"{base}/planning/"),
        ("plan PDF", f"{base}/donnees/plan.pdf"),
    ]


class QueryGuard:
    """Counts SQL statements; when `blocked`, any statement raises (no database allowed)."""

    def __init__(self, engine):
        from sqlalchemy import event

        self.count, self.blocked, self.engine = 0, False, engine
        self.statements: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args):
        self.count += 1
        self.statements.append(statement)
        if self.blocked:
            raise RuntimeError("SQL query during the in-memory rendering")

    def close(self):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._record)


def memo(fn):
    """`fn` called once per argument list, then answered from memory."""
    cache: dict = {}

    def remembered(*args):
        key = tuple(getattr(a, "id", a) for a in args)
        if key not in cache:
            cache[key] = fn(*args)
        return cache[key]

    return remembered


def in_process(url: str, n: int, debug: bool = False, with_pdf: bool = True) -> dict:
    """Query counts, in-memory rendering times and the PDF's split, in this process."""
    import importlib

    from flask import render_template
    from flask_login import current_user
    from sqlalchemy import select

    from app import create_app
    from app.contracts.models import Contract
    from app.extensions import db
    from app.notifications.services import unread_count
    from app.plan.models import Indicator, Plan, PlanVersion
    from app.plan.versions import plan_in_force

    app = create_app("development", SQLALCHEMY_DATABASE_URI=url, LOG_JSON=False,
                     WTF_CSRF_ENABLED=False, OUTBOX_DELIVER_AFTER_REQUEST=False)  # fmt: skip
    result = {"queries": {}, "memory": {}, "memory_queries": {}, "pdf": {}}
    with app.app_context():
        contract_id = db.session.scalar(
            select(Contract.id).where(Contract.reference == PLAN_REFERENCE)
        )
        from app.changes.models import ChangeDocument, ChangeRequest

        found = db.session.scalar(
            select(ChangeRequest).where(ChangeRequest.contract_id == contract_id)
        )
        change = None
        if found is not None:
            pdf = db.session.scalar(select(ChangeDocument.id).where(
                ChangeDocument.change_request_id == found.id, ChangeDocument.kind == "avenant")
                .order_by(ChangeDocument.generation.desc()))  # fmt: skip
            change = {"id": found.id, "draft": found.draft_version_id, "pdf": pdf}
        uid = db.session.scalar(
            select(Indicator.uid).join(PlanVersion, Indicator.plan_version_id == PlanVersion.id)
            .join(Plan, PlanVersion.plan_id == Plan.id).where(Plan.contract_id == contract_id)
            .order_by(Indicator.id)
        )  # fmt: skip
        db.session.remove()
        result["contract_id"], result["indicator_uid"] = contract_id, uid
        result["change"] = change
        guard = QueryGuard(db.engine)
        client = app.test_client()
        response = client.post("/connexion", data={"email": LEAD_EMAIL, "password": BENCH_PASSWORD})
        assert response.status_code == 302, response.status_code
        listed = pages(contract_id, uid, change)

        # 1. queries per page, one request each (after one warm-up request), each in an app
        # context of its own, as in production: nothing read once per request (`g`) carries over
        for name, path in listed:
            if name == "plan PDF":  # once only (below): it takes seconds
                continue
            with app.app_context():
                client.get(path)
            guard.count = 0
            with app.app_context():
                response = client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            result["queries"][name] = guard.count

        # 2. in-memory rendering: time render_template alone, inside the real request
        capture: dict = {}
        originals = {}

        def capturing(original):
            def render(template, *blocks, status=200, **context):
                response = original(template, *blocks, status=status, **context)  # warm-up
                if capture.get("on"):
                    # The two helpers templates call (the bell's count, the plan in force) are
                    # read once, like the rest of the context: then no query is left to make.
                    context = {
                        **context,
                        "plan_in_force": memo(plan_in_force),
                        "unread_notifications": memo(lambda: unread_count(current_user)),
                    }
                    render_template(template, **context)  # fills the memos, lazy loads
                    guard.count, guard.statements = 0, []
                    render_template(template, **context)
                    capture["queries"] = guard.count
                    capture["statements"] = guard.statements
                    guard.blocked = capture["queries"] == 0
                    times = []
                    try:
                        for _ in range(n):
                            started = time.perf_counter()
                            render_template(template, **context)
                            times.append((time.perf_counter() - started) * 1000)
                    finally:
                        guard.blocked = False
                    capture["times"] = times
                return response

            return render

        for module_name in RENDERING_MODULES:
            module = importlib.import_module(module_name)
            originals[module_name] = module.render
            module.render = capturing(module.render)
        try:
            for name, path in listed:
                if "PDF" in name:  # documents: no template rendering to compare with
                    continue
                capture.clear()
                capture["on"] = True
                client.get(path)
                result["memory"][name] = capture["times"]
                result["memory_queries"][name] = capture["queries"]
                if capture["queries"] and debug:
                    print(name, [" ".join(q.split())[:160] for q in capture["statements"]])
        finally:
            for module_name, original in originals.items():
                importlib.import_module(module_name).render = original

        # 3. the PDF: context (database), HTML (Jinja), WeasyPrint
        from app.exports import pdf

        split = {"context": [], "html": [], "weasyprint": []}
        real_context, real_render_pdf, real_template = (
            pdf.plan_context,
            pdf.render_pdf,
            pdf.render_template,
        )

        def timed(key, fn):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    split[key].append((time.perf_counter() - started) * 1000)

            return wrapper

        pdf.plan_context = timed("context", real_context)
        pdf.render_template = timed("html", real_template)
        pdf.render_pdf = timed("weasyprint", real_render_pdf)
        try:
            if not with_pdf:
                raise StopIteration
            guard.count = 0
            response = client.get(listed[-1][1])
            assert response.status_code == 200, response.status_code
            result["queries"]["plan PDF"] = guard.count
            result["pdf"] = {k: v[0] for k, v in split.items()} | {"bytes": len(response.data)}
        except StopIteration:
            pass  # --pdf 0: no PDF
        finally:
            pdf.plan_context, pdf.render_pdf = real_context, real_render_pdf
            pdf.render_template = real_template
        guard.close()
        db.session.remove()
        db.engine.dispose()
    return result


HELLO_NEAR = 100  # hello requests just before each page (50 ms: the floor of that minute)


def over_http(url: str, listed, n: int, n_pdf: int, n_hello: int) -> dict:
    """Each page's first response; a page that sends a big section after itself
    (app/rendering.deferred) also has that section's request timed, as htmx makes it. The bare
    « hello » server runs beside Progrès and is timed again just before each page
    (HELLO_NEAR requests), so that each page is compared with the floor of the same minute."""
    timings: dict[str, list[float]] = {}
    sizes: dict[str, int] = {"hello": 5}
    first: dict[str, float] = {}
    sections: dict[str, list[float]] = {}
    hellos: dict[str, list[float]] = {}
    hello_port, port = free_port(), free_port()
    hello = start_gunicorn("bench.hello_app:app", production_env(url), hello_port)
    log = TMP / "bench-pages-gunicorn.log"
    server = start_gunicorn("wsgi:app", production_env(url), port, log)
    try:
        floor = Client(hello_port)
        for _ in range(20):
            floor.get("/hello")
        timings["hello"] = [floor.get("/hello")[3] for _ in range(n_hello)]
        client = Client(port, address="10.9.0.1").log_in(LEAD_EMAIL, BENCH_PASSWORD)
        for name, path in listed:
            hellos[name] = [floor.get("/hello")[3] for _ in range(HELLO_NEAR)]
            found = []
            if name == "plan PDF":  # tens of seconds each: the first one counts too
                count = n_pdf - 1
                status, _h, body, elapsed = client.get(path)
                found.append(elapsed)
            else:
                count = n
                status, _h, body, elapsed = client.get(path)  # the first response, cold
            if status != 200:
                raise RuntimeError(f"{name}: {status} {body[:200]!r}")
            first[name], sizes[name] = elapsed, len(body)
            for _ in range(count):
                status, _h, body, elapsed = client.get(path)
                if status != 200:
                    raise RuntimeError(f"{name}: {status}")
                found.append(elapsed)
            timings[name] = found
            if box := DEFERRED.search(body):
                section = html.unescape(box.group(1).decode())
                sections[name] = []
                for _ in range(count):
                    status, _h, part, elapsed = client.get(section, **{"HX-Request": "true"})
                    if status != 200 or b"<html" in part:
                        raise RuntimeError(f"{name} section: {status}")
                    sections[name].append(elapsed)
            print(f"  {name}: measured", flush=True)
        anonymous = Client(port)
        login_page = "Progrès login page (anonymous)"
        hellos[login_page] = [floor.get("/hello")[3] for _ in range(HELLO_NEAR)]
        timings[login_page] = [anonymous.get("/connexion")[3] for _ in range(n)]
        sizes[login_page] = len(anonymous.get("/connexion")[2])
    finally:
        stop(server)
        stop(hello)
    return {"timings": timings, "sizes": sizes, "first": first, "sections": sections,
            "hellos": hellos}  # fmt: skip


def both_memories(before: dict, after: dict) -> dict:
    """Each page's in-memory rendering, measured before and after the HTTP run: the mean of
    the two medians is the floor of the minutes the HTTP figures were taken in."""
    merged = {}
    for name, first_run in before.items():
        second_run = after.get(name)
        m50 = percentiles(first_run)[0]
        merged[name] = (m50 + percentiles(second_run)[0]) / 2 if second_run else m50
    return merged


def table(local: dict, http: dict) -> tuple[str, dict]:
    hello50, hello95, _ = percentiles(http["timings"]["hello"])
    lines = [
        "| page | KB | first (ms) | p50 (ms) | p95 (ms) | hello just before, p50 (ms) "
        "| p50 / hello | in-memory p50 (ms) | p50 / in-memory | SQL queries "
        "| section after it, p50 (ms) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        f"| bare Flask hello | 0 | | {hello50:.2f} | {hello95:.2f} | | 1 | | | 0 | |",
    ]
    figures = {"hello": {"p50": hello50, "p95": hello95}}
    for name, values in http["timings"].items():
        if name == "hello":
            continue
        p50, p95, _ = percentiles(values)
        near = percentiles(http["hellos"][name])[0] if name in http["hellos"] else hello50
        m50 = local["memory"].get(name)
        queries = local["queries"].get(name, "")
        note = ""
        if local["memory_queries"].get(name):
            note = f" ({local['memory_queries'][name]} queries while rendering)"
        figures[name] = {"p50": p50, "p95": p95, "first": http["first"].get(name),
                         "hello_p50": near, "ratio_hello": p50 / near, "memory_p50": m50,
                         "ratio_memory": p50 / m50 if m50 else None, "queries": queries}  # fmt: skip
        first = http["first"].get(name)
        section = http["sections"].get(name)
        s50 = percentiles(section)[0] if section else None
        figures[name]["section_p50"] = s50
        lines.append(
            f"| {name} | {http['sizes'].get(name, 0) / 1024:.0f} | "
            f"{'' if first is None else f'{first:.0f}'} | {p50:.1f} | {p95:.1f} | {near:.2f} | "
            f"{p50 / near:.0f}× | {'' if m50 is None else f'{m50:.1f}'}{note} | "
            f"{'' if m50 is None else f'{p50 / m50:.2f}×'} | {queries} | "
            f"{'' if s50 is None else f'{s50:.1f}'} |"
        )  # fmt: skip
    return "\n".join(lines), figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("-n", type=int, default=30, help="requests per page")
    parser.add_argument("--pdf", type=int, default=2, help="requests of the plan PDF (0: none)")
    parser.add_argument("--hello", type=int, default=300, help="requests of hello")
    parser.add_argument(
        "--json", default=str(TMP / "bench-pages.json"), help="figures written here"
    )
    args = parser.parse_args()
    started = datetime.now(UTC)
    print(f"{started:%Y-%m-%d %H:%M} UTC — {machine()} — {args.database_url.split(':')[0]}")
    print("in-process: queries per page, in-memory rendering, PDF split…", flush=True)
    local = in_process(args.database_url, args.n, with_pdf=args.pdf > 0)
    listed = [(name, path) for name, path in pages(local["contract_id"], local["indicator_uid"], local["change"])
              if args.pdf > 0 or name != "plan PDF"]  # fmt: skip
    print("over HTTP (gunicorn.conf.py, production configuration, one connection)…", flush=True)
    http = over_http(args.database_url, listed, args.n, args.pdf, args.hello)
    print("in-process again: in-memory rendering after the HTTP run…", flush=True)
    after = in_process(args.database_url, args.n, with_pdf=False)
    local["memory"] = both_memories(local["memory"], after["memory"])
    text, figures = table(local, http)
    print(text)
    if split := local["pdf"]:  # not measured with --pdf 0
        print(f"plan PDF ({split['bytes'] / 1024:.0f} KB) in-process: context {split['context']:.0f} ms, "
              f"HTML {split['html']:.0f} ms, WeasyPrint {split['weasyprint']:.0f} ms")  # fmt: skip
    plan = figures["plan page, whole (?complet=1)"]
    pdf_p50 = figures.get("plan PDF", {"p50": float("nan")})["p50"]
    amendment = figures.get("amendment PDF (with visas)", {"p50": float("nan")})
    # A page's first response; « whole » is what a browser without JavaScript asks for.
    worst_first = max((f["ratio_hello"], name) for name, f in figures.items()
                      if name != "hello" and "PDF" not in name and "whole" not in name)  # fmt: skip
    print(f"targets: whole plan page / in-memory {plan['ratio_memory']:.2f}× (≤ 1.5×); "
          f"worst page p50 / hello {worst_first[0]:.0f}× ({worst_first[1]}; ≤ 20×); "
          f"amendment PDF p50 {amendment['p50'] / 1000:.2f} s, first {(amendment.get('first') or 0) / 1000:.2f} s (< 1 s); "
          f"plan PDF p50 {pdf_p50 / 1000:.2f} s")  # fmt: skip
    Path(args.json).write_text(json.dumps({"date": f"{started:%Y-%m-%d %H:%M} UTC",
                                           "machine": machine(), "figures": figures,
                                           "pdf_split": split, "table": text}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
