"""How fast are the big pages? `python bench/pages.py --database-url sqlite:////tmp/bench.db
[-n 30] [--pdf 3]` (after bench/generate.py).

1. In-process (same database, no server): the SQL queries of one request per page (a
   SQLAlchemy event); the plan PDF's time split into context / HTML / WeasyPrint.
2. Over HTTP, one keep-alive connection, sequential: the plan page, dashboard, portfolio,
   indicator list, one indicator, planning and plan PDF, served by gunicorn as in production
   (gunicorn.conf.py, production configuration) and logged in as the bench lead (member of the
   large plan and of the 1,000 portfolio contracts). A page that sends a big section after
   itself (app/rendering.deferred) has that section's request timed too, as htmx makes it;
   « whole » rows are the page with everything at once (?complet=1, what a browser without
   JavaScript asks for), on which the plan page's in-memory target is measured.
   Each page is compared with two floors measured in the same seconds (these machines' speed
   drifts by a third, sometimes doubles, within minutes): a bare Flask « hello » served by the
   same gunicorn settings beside Progrès, timed in turns with the page: TURNS runs of hello
   requests, each followed by a run of the page's (the first hello or two of a run pay for the
   idle, which the median of HELLO_NEAR does not see; a hello between every two pages did, and
   halved every ratio), and the page's
   « in-memory rendering »: a request of this process is held inside the view's `render`
   call, its template context loaded (ORM objects included), and renders that template again
   on demand with every SQL statement refused. It is timed back to back just after the page's
   requests, then alternating with as many more of them, one request then one rendering: both
   then pay for the other's use of the caches, and the ratio of these pairs is the target's.
Prints p50/p95 and the ratios to hello and to in-memory rendering."""

from __future__ import annotations

import argparse
import html
import json
import queue
import sys
import threading
import time
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    DEFERRED,
    TMP,
    UPLOADS,
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
        event.listen(engine, "before_cursor_execute", self._record)

    def _record(self, conn, cursor, statement, *args):
        self.count += 1
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


def forget_plan_pdfs(contract_id: int) -> None:
    """The plan PDFs kept for the contract (app/exports/pdf.pdf_of): the next one is rendered."""
    from app.exports.pdf import CACHED_PREFIX

    for kept in (UPLOADS / str(contract_id)).glob(CACHED_PREFIX + "*"):
        kept.unlink()


HELLO_NEAR = 100  # hello requests in turns with each page's (the floor of those seconds)
TURNS = 4  # runs of hello, then of the page: a machine drifting within a minute moves both


class Held:
    """A page's request held in a thread of this process, inside the view's `render` call:
    `once()` renders its template again from the loaded context and returns the time (ms)."""

    def __init__(self):
        self.commands: queue.Queue = queue.Queue()
        self.answers: queue.Queue = queue.Queue()
        self.queries = 0  # statements a render still makes (then none is refused)

    def once(self) -> float:
        self.commands.put("render")
        answer = self.answers.get(timeout=120)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class InProcess:
    """The application in this process, on the bench database, logged in as the bench lead."""

    def __init__(self, url: str):
        from sqlalchemy import select

        from app import create_app
        from app.changes.models import ChangeDocument, ChangeRequest
        from app.contracts.models import Contract
        from app.extensions import db
        from app.plan.models import Indicator, Plan, PlanVersion

        self.app = app = create_app("development", SQLALCHEMY_DATABASE_URI=url, LOG_JSON=False,
                                    WTF_CSRF_ENABLED=False, OUTBOX_DELIVER_AFTER_REQUEST=False,
                                    UPLOAD_FOLDER=str(UPLOADS))  # fmt: skip
        with app.app_context():  # each request below has an app context of its own
            self.contract_id = db.session.scalar(
                select(Contract.id).where(Contract.reference == PLAN_REFERENCE)
            )
            found = db.session.scalar(
                select(ChangeRequest).where(ChangeRequest.contract_id == self.contract_id)
            )
            self.change = None
            if found is not None:
                pdf = db.session.scalar(select(ChangeDocument.id).where(
                    ChangeDocument.change_request_id == found.id, ChangeDocument.kind == "avenant")
                    .order_by(ChangeDocument.generation.desc()))  # fmt: skip
                self.change = {"id": found.id, "draft": found.draft_version_id, "pdf": pdf}
            self.indicator_uid = db.session.scalar(
                select(Indicator.uid).join(PlanVersion, Indicator.plan_version_id == PlanVersion.id)
                .join(Plan, PlanVersion.plan_id == Plan.id).where(Plan.contract_id == self.contract_id)
                .order_by(Indicator.id)
            )  # fmt: skip
            self.guard = QueryGuard(db.engine)
        self.client = app.test_client()
        with app.app_context():  # a write: its transaction must end with its context
            response = self.client.post(
                "/connexion", data={"email": LEAD_EMAIL, "password": BENCH_PASSWORD}
            )
        assert response.status_code == 302, response.status_code
        self.listed = pages(self.contract_id, self.indicator_uid, self.change)
        self.hold: Held | None = None
        self._originals: dict = {}
        # The garbage collector as in each gunicorn worker (gunicorn.conf.py): the renderings
        # in memory are measured under the same settings as the pages they are compared with.
        from app.process import settle_garbage_collector

        settle_garbage_collector()

    def close(self):
        from app.extensions import db

        with self.app.app_context():
            self.guard.close()
            db.engine.dispose()

    def queries(self) -> dict:
        """Statements of one request per page (after one warm-up request), each in an app
        context of its own, as in production: nothing read once per request (`g`) carries over."""
        counts = {}
        for name, path in self.listed:
            if "PDF" in name:  # documents: counted with the plan PDF's split
                continue
            with self.app.app_context():
                self.client.get(path)
            self.guard.count = 0
            with self.app.app_context():
                response = self.client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            counts[name] = self.guard.count
        return counts

    def _holding(self, original):
        from flask import render_template
        from flask_login import current_user

        from app.notifications.services import unread_count
        from app.plan.versions import plan_in_force

        def render(template, *blocks, status=200, **context):
            response = original(template, *blocks, status=status, **context)
            hold, guard = self.hold, self.guard
            if hold is None:
                return response
            self.hold = None  # the requests this page's template makes itself are not held
            # The two helpers templates call (the bell's count, the plan in force) are read
            # once, like the rest of the context: then no query is left to make.
            context = {**context, "plan_in_force": memo(plan_in_force),
                       "unread_notifications": memo(lambda: unread_count(current_user))}  # fmt: skip
            render_template(template, **context)  # fills the memos, makes the lazy loads
            guard.count = 0
            render_template(template, **context)
            hold.queries = guard.count
            hold.answers.put("ready")
            while hold.commands.get() == "render":
                guard.blocked = hold.queries == 0
                started = time.perf_counter()
                try:
                    render_template(template, **context)
                    hold.answers.put((time.perf_counter() - started) * 1000)
                except Exception as error:  # reported to the measuring thread
                    hold.answers.put(error)
                finally:
                    guard.blocked = False
            return response

        return render

    @contextmanager
    def held(self, path: str):
        """The in-memory rendering of the page at `path`, or None for a page without one."""
        import importlib

        for module_name in RENDERING_MODULES:
            module = importlib.import_module(module_name)
            self._originals[module_name] = module.render
            module.render = self._holding(module.render)
        hold = self.hold = Held()

        def request():
            try:
                with self.app.app_context():
                    self.client.get(path)
            finally:
                hold.answers.put("ended")

        thread = threading.Thread(target=request, daemon=True)
        thread.start()
        try:
            yield hold if hold.answers.get(timeout=120) == "ready" else None
        finally:
            hold.commands.put("stop")
            thread.join(timeout=120)
            self.hold = None
            for module_name, original in self._originals.items():
                importlib.import_module(module_name).render = original

    def pdf_split(self) -> dict:
        """The plan PDF: context (database), HTML (Jinja), WeasyPrint, and its queries."""
        from app.exports import pdf

        split = {"context": [], "html": [], "weasyprint": []}
        real = pdf.plan_context, pdf.render_pdf, pdf.render_template

        def timed(key, fn):
            def wrapper(*args, **kwargs):
                started = time.perf_counter()
                try:
                    return fn(*args, **kwargs)
                finally:
                    split[key].append((time.perf_counter() - started) * 1000)

            return wrapper

        forget_plan_pdfs(self.contract_id)  # else the PDF kept by the last run is served
        pdf.plan_context = timed("context", real[0])
        pdf.render_pdf = timed("weasyprint", real[1])
        pdf.render_template = timed("html", real[2])
        try:
            self.guard.count = 0
            with self.app.app_context():
                response = self.client.get(dict(self.listed)["plan PDF"])
            assert response.status_code == 200, response.status_code
        finally:
            pdf.plan_context, pdf.render_pdf, pdf.render_template = real
        return {k: v[0] for k, v in split.items()} | {"bytes": len(response.data),
                                                       "queries": self.guard.count}  # fmt: skip


def over_http(url: str, local: InProcess, listed, n: int, n_pdf: int, n_hello: int) -> dict:
    """Each page's first response; HELLO_NEAR requests of the bare « hello » (served beside
    Progrès) in turns with `n` requests of the page; `n` of the big section it sends after
    itself if any (app/rendering.deferred, as htmx asks for it); `n` in-memory renderings of
    the page back to back; `n` pairs of one request of the page and one in-memory rendering."""
    timings: dict[str, list[float]] = {}
    sizes: dict[str, int] = {"hello": 5}
    first: dict[str, float] = {}
    sections: dict[str, list[float]] = {}
    hellos: dict[str, list[float]] = {}
    in_a_row: dict[str, list[float]] = {}  # in-memory renderings back to back
    pairs: dict[str, list[tuple[float, float]]] = {}  # (over HTTP, in memory) one after the other
    memory_queries: dict[str, int] = {}
    hello_port, port = free_port(), free_port()
    hello = start_gunicorn("bench.hello_app:app", production_env(url), hello_port)
    log = TMP / "bench-pages-gunicorn.log"
    server = start_gunicorn("wsgi:app", production_env(url), port, log)

    def fetched(client, path, **headers):
        status, _h, body, elapsed = client.get(path, **headers)
        if status != 200 or (headers and b"<html" in body):
            raise RuntimeError(f"{path}: {status} {body[:200]!r}")
        return body, elapsed

    try:
        floor = Client(hello_port)
        for _ in range(20):
            floor.get("/hello")
        timings["hello"] = [floor.get("/hello")[3] for _ in range(n_hello)]
        client = Client(port, address="10.9.0.1").log_in(LEAD_EMAIL, BENCH_PASSWORD)

        def hello_in_turns(name, page_time, count):
            hellos[name], timings[name] = [], []
            for _ in range(TURNS):
                hellos[name] += [floor.get("/hello")[3] for _ in range(HELLO_NEAR // TURNS)]
                timings[name] += [page_time() for _ in range(count // TURNS)]

        for name, path in listed:
            count = n_pdf if name == "plan PDF" else n  # tens of seconds each: the first counts
            if name == "plan PDF":
                forget_plan_pdfs(local.contract_id)
            body, first[name] = fetched(client, path)  # the first response, cold
            sizes[name] = len(body)
            box = DEFERRED.search(body)
            section = html.unescape(box.group(1).decode()) if box else None
            if name == "plan PDF":  # rendered by the first request, then the kept one
                hellos[name] = [floor.get("/hello")[3] for _ in range(HELLO_NEAR)]
                timings[name] = [first[name]] + [fetched(client, path)[1] for _ in range(count - 1)]
            else:
                hello_in_turns(name, lambda path=path: fetched(client, path)[1], max(count, TURNS))
            if section:
                sections[name] = [fetched(client, section, **{"HX-Request": "true"})[1]
                                  for _ in range(count)]  # fmt: skip
            with local.held(path) if "PDF" not in name else nullcontext() as rendering:
                if rendering:
                    in_a_row[name] = [rendering.once() for _ in range(count)]
                    pairs[name] = [(fetched(client, path)[1], rendering.once())
                                   for _ in range(count)]  # fmt: skip
                    memory_queries[name] = rendering.queries
            print(f"  {name}: measured", flush=True)
        anonymous = Client(port)
        login_page = "Progrès login page (anonymous)"
        hello_in_turns(login_page, lambda: anonymous.get("/connexion")[3], max(n, TURNS))
        sizes[login_page] = len(anonymous.get("/connexion")[2])
    finally:
        stop(server)
        stop(hello)
    return {"timings": timings, "sizes": sizes, "first": first, "hellos": hellos,
            "sections": sections, "in_a_row": in_a_row, "pairs": pairs,
            "memory_queries": memory_queries}  # fmt: skip


def table(queries: dict, http: dict) -> tuple[str, dict]:
    """One line per page. « In memory » is the page's template rendered from its loaded
    context, back to back after the page's requests, and alternating with them (each pair is
    one request then one rendering: both pay for the other's use of the caches)."""
    hello50, hello95, _ = percentiles(http["timings"]["hello"])
    lines = [
        "| page | KB | first (ms) | p50 (ms) | p95 (ms) | hello in turns, p50 (ms) "
        "| p50 / hello | SQL queries | section after it, p50 (ms) "
        "| in memory, back to back, p50 (ms) | p50 / it "
        "| alternating: page p50 (ms) | in memory p50 (ms) | ratio |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        f"| bare Flask hello | 0 | | {hello50:.2f} | {hello95:.2f} | | 1 | 0 | | | | | | |",
    ]
    figures = {"hello": {"p50": hello50, "p95": hello95}}

    def cell(value, form=".1f", suffix=""):
        return "" if value is None else f"{value:{form}}{suffix}"

    for name, values in http["timings"].items():
        if name == "hello":
            continue
        p50, p95, _ = percentiles(values)
        near = percentiles(http["hellos"][name])[0] if http["hellos"].get(name) else hello50
        row = http["in_a_row"].get(name)
        r50 = percentiles(row)[0] if row else None
        pairs = http["pairs"].get(name)
        a50 = percentiles([page for page, _ in pairs])[0] if pairs else None
        m50 = percentiles([memory for _, memory in pairs])[0] if pairs else None
        section = http["sections"].get(name)
        s50 = percentiles(section)[0] if section else None
        first = http["first"].get(name)
        count = queries.get(name, "")
        note = ""
        if http["memory_queries"].get(name):
            note = f" ({http['memory_queries'][name]} queries while rendering)"
        figures[name] = {"p50": p50, "p95": p95, "first": first, "hello_p50": near,
                         "ratio_hello": p50 / near, "queries": count, "section_p50": s50,
                         "in_a_row_p50": r50, "ratio_in_a_row": p50 / r50 if r50 else None,
                         "alternating_p50": a50, "memory_p50": m50,
                         "ratio_memory": a50 / m50 if m50 else None}  # fmt: skip
        lines.append(
            f"| {name} | {http['sizes'].get(name, 0) / 1024:.0f} | {cell(first, '.0f')} | "
            f"{p50:.1f} | {p95:.1f} | {near:.2f} | {p50 / near:.0f}× | {count} | {cell(s50)} | "
            f"{cell(r50)}{note} | {cell(figures[name]['ratio_in_a_row'], '.2f', '×')} | "
            f"{cell(a50)} | {cell(m50)} | {cell(figures[name]['ratio_memory'], '.2f', '×')} |"
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
    print("in-process: queries per page, PDF split…", flush=True)
    local = InProcess(args.database_url)
    try:
        queries = local.queries()
        split = local.pdf_split() if args.pdf > 0 else {}
        if split:
            queries["plan PDF"] = split["queries"]
        listed = [(name, path) for name, path in local.listed
                  if args.pdf > 0 or name != "plan PDF"]  # fmt: skip
        print("over HTTP (gunicorn.conf.py, production configuration, one connection), "
              "each request between a hello and an in-memory rendering…", flush=True)  # fmt: skip
        http = over_http(args.database_url, local, listed, args.n, args.pdf, args.hello)
    finally:
        local.close()
    text, figures = table(queries, http)
    print(text)
    if split:  # not measured with --pdf 0
        print(f"plan PDF ({split['bytes'] / 1024:.0f} KB) in-process: context {split['context']:.0f} ms, "
              f"HTML {split['html']:.0f} ms, WeasyPrint {split['weasyprint']:.0f} ms")  # fmt: skip
    plan = figures["plan page, whole (?complet=1)"]
    plan_pdf = figures.get("plan PDF", {"p50": float("nan")})
    amendment = figures.get("amendment PDF (with visas)", {"p50": float("nan")})
    # A page's first response; « whole » is what a browser without JavaScript asks for.
    worst_first = max((f["ratio_hello"], name) for name, f in figures.items()
                      if name != "hello" and "PDF" not in name and "whole" not in name)  # fmt: skip
    print(f"targets: whole plan page / in-memory {plan['ratio_memory']:.2f}× alternating, "
          f"{plan['ratio_in_a_row']:.2f}× back to back (≤ 1.5×); "
          f"worst page p50 / hello {worst_first[0]:.0f}× ({worst_first[1]}; ≤ 20×); "
          f"amendment PDF p50 {amendment['p50'] / 1000:.2f} s, first {(amendment.get('first') or 0) / 1000:.2f} s (< 1 s); "
          f"plan PDF rendered {(plan_pdf.get('first') or float('nan')) / 1000:.2f} s, "
          f"then kept p50 {plan_pdf['p50'] / 1000:.2f} s")  # fmt: skip
    Path(args.json).write_text(json.dumps({"date": f"{started:%Y-%m-%d %H:%M} UTC",
                                           "machine": machine(), "figures": figures,
                                           "pdf_split": split, "table": text}, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
