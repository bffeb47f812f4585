"""Does Progrès lose anything under load? `python bench/load.py --database-url
sqlite:////tmp/bench.db [--seconds 120] [--editors 20] [--viewers 50]` (after bench/generate.py).

Starts gunicorn as in production (gunicorn.conf.py) on loopback, logs in 20 editors (10 buyer
and 10 supplier contributors of the large plan) and 50 viewers (observers), each with their
own client address, and runs them for --seconds:
- an editor, in a loop: opens a value's editor on an indicator page (GET, htmx) and saves a
  value with a unique comment (POST « valeurs », with the version it saw), or opens an action's
  follow-up on the planning and saves it (status, progress, unique comment). A small set of
  indicators, periods and actions is shared by everyone, so that saves collide: a 409 (the
  version seen is out of date, the input is kept) is a legitimate answer and is counted;
- a viewer, in a loop: the plan page, the dashboard or the portfolio (« Mes marchés »), then
  the big section the page sends after itself, as htmx asks for it (app/rendering.deferred), while
  holding the contract's live stream open (SSE, as its open page does; --streams, default one
  per viewer). The live bus is Redis (--live-bus): gunicorn's two workers must hear each other.
Push latency: for each accepted value, from the save sent to the first « mesures-<indicator> »
event on each open stream after it. The workers' memory (RSS) is sampled every 5 s.
Each person pauses between two actions as people do (editors 0.5–1.5 s, viewers 5–15 s;
--stress: none, a closed loop). Then, server stopped, every write that got a 2xx is looked for in the database: the comment in
the value / follow-up or in its history, one history event per accepted write, and one audit
event per accepted write. Prints throughput, p50/p95 per kind of request, 5xx, lost writes."""

from __future__ import annotations

import argparse
import html
import http.client
import json
import random
import re
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
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
    EDITORS_PER_SIDE,
    PLAN_REFERENCE,
    editor_email,
    viewer_email,
)

# Think time between two actions of a person, in seconds (SECURITY.md §9: editors 0.5–1.5 s;
# a viewer in a meeting glances at another page every 5–15 s, their live stream open).
# --stress removes it: a closed loop, every client as fast as the server answers.
PAUSES = {"editor": (0.5, 1.5), "viewer": (5.0, 15.0)}


def pause(rnd: random.Random, who: str, deadline: float) -> None:
    low, high = PAUSES[who]
    if high:
        time.sleep(max(0.0, min(rnd.uniform(low, high), deadline - time.time())))


VERSION = re.compile(rb'<input[^>]*name="version"[^>]*>')
VALUE = re.compile(rb'value="(\d*)"')


def load_models() -> None:
    """Every model mapped (the app imports them all), no database touched."""
    from app import create_app

    create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://", LOG_JSON=False)


def hot_set(url: str, hot_indicators: int, hot_actions: int) -> dict:
    """The contract, and the shared indicators (with their side) and actions editors hit."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from app.contracts.models import Contract
    from app.plan.models import Action, Indicator, Plan, PlanVersion

    load_models()
    engine = create_engine(url)
    with Session(engine) as session:
        contract = session.scalar(select(Contract).where(Contract.reference == PLAN_REFERENCE))
        version_ids = select(PlanVersion.id).join(Plan, PlanVersion.plan_id == Plan.id).where(
            Plan.contract_id == contract.id)  # fmt: skip
        indicators = session.execute(
            select(Indicator.uid, Indicator.reporting_side)
            .where(Indicator.plan_version_id.in_(version_ids)).order_by(Indicator.id)
            .limit(hot_indicators)
        ).all()  # fmt: skip
        actions = session.scalars(
            select(Action.uid).where(Action.plan_version_id.in_(version_ids)).order_by(Action.id)
            .limit(hot_actions)
        ).all()  # fmt: skip
        found = {"contract_id": contract.id, "indicators": [tuple(i) for i in indicators],
                 "actions": list(actions)}  # fmt: skip
    engine.dispose()
    return found


def recent_periods(today: date, count: int) -> list[str]:
    """The first days of the last `count` months begun (monthly indicators)."""
    found, year, month = [], today.year, today.month
    for _ in range(count):
        found.append(date(year, month, 1).isoformat())
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter = Counter()
        self.errors: Counter = Counter()
        self.accepted: list[dict] = []
        self.samples: dict[str, bytes] = {}

    def hit(self, kind: str, status: int, elapsed: float, body: bytes = b""):
        with self.lock:
            self.latencies[kind].append(elapsed)
            self.statuses[(kind, status)] += 1
            if status >= 500 or status in (400, 403, 404, 422):
                self.samples.setdefault(f"{kind} {status}", body[:600])


def editor(client: Client, side: str, hot: dict, periods: list[str], deadline: float,
           rec: Recorder, name: str, seed: int) -> None:  # fmt: skip
    rnd = random.Random(seed)  # noqa: S311 (a workload, not a secret)
    base = f"/contrats/{hot['contract_id']}"
    mine = [uid for uid, reporting in hot["indicators"] if reporting in (side, "les_deux")]
    htmx = {"HX-Request": "true"}
    n = 0
    while time.time() < deadline:
        if n:
            pause(rnd, "editor", deadline)
        n += 1
        comment = f"charge {name} n°{n} {uuid.uuid4().hex[:12]}"
        try:
            if rnd.random() < 0.5:
                uid, period = rnd.choice(mine), rnd.choice(periods)
                status, _h, body, elapsed = client.get(
                    f"{base}/indicateurs/{uid}/valeurs/{period}/saisie", **htmx)  # fmt: skip
                rec.hit("editor GET indicator", status, elapsed, body)
                if status != 200:
                    continue
                field = VERSION.search(body)
                seen = VALUE.search(field.group(0)).group(1).decode() if field else ""
                value = f"{rnd.randint(0, 99)},{rnd.randint(0, 9)}"
                sent = time.perf_counter()
                status, _h, body, elapsed = client.post(
                    f"{base}/indicateurs/{uid}/valeurs",
                    {"period_start": period, "version": seen, "value": value, "comment": comment},
                )  # fmt: skip
                rec.hit("editor POST value", status, elapsed, body)
                if 200 <= status < 300:
                    with rec.lock:
                        rec.accepted.append({"kind": "value", "uid": uid, "period": period,
                                             "comment": comment, "sent": sent})  # fmt: skip
            else:
                uid = rnd.choice(hot["actions"])
                status, _h, body, elapsed = client.get(f"{base}/planning/{uid}/?modifier=1", **htmx)
                rec.hit("editor GET planning row", status, elapsed, body)
                if status != 200:
                    continue
                field = VERSION.search(body)
                seen = VALUE.search(field.group(0)).group(1).decode() if field else ""
                status, _h, body, elapsed = client.post(
                    f"{base}/planning/{uid}/",
                    {"version": seen, "status": "en_cours", "progress": str(rnd.randint(0, 99)),
                     "actual_start": "", "actual_end": "", "comment": comment},
                )  # fmt: skip
                rec.hit("editor POST follow-up", status, elapsed, body)
                if 200 <= status < 300:
                    with rec.lock:
                        rec.accepted.append({"kind": "follow-up", "uid": uid, "comment": comment})
        except Exception as error:  # a timeout, a reset: counted, the loop goes on
            with rec.lock:
                rec.errors[type(error).__name__] += 1
            client.connection = None


def viewer(client: Client, contract_id: int, deadline: float, rec: Recorder, seed: int) -> None:
    rnd = random.Random(seed)  # noqa: S311 (a workload, not a secret)
    base = f"/contrats/{contract_id}"
    targets = [("viewer GET plan", f"{base}/plan/"),
               ("viewer GET dashboard", f"{base}/tableau-de-bord/"),
               ("viewer GET portfolio", "/")]  # fmt: skip
    first = True
    while time.time() < deadline:
        if not first:
            pause(rnd, "viewer", deadline)
        first = False
        kind, path = rnd.choice(targets)
        try:
            status, _h, body, elapsed = client.get(path)
            rec.hit(kind, status, elapsed, body)
            if box := DEFERRED.search(body):  # then its big section, as htmx asks for it
                section = html.unescape(box.group(1).decode())
                status, _h, body, elapsed = client.get(section, **{"HX-Request": "true"})
                rec.hit(kind + " (section)", status, elapsed, body)
        except Exception as error:
            with rec.lock:
                rec.errors[type(error).__name__] += 1
            client.connection = None


class Streams:
    """The viewers' open pages: each holds the contract's SSE stream and notes when each
    indicator's event arrives (event names carry ids only, never text)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.arrivals: list[dict[str, list[float]]] = []
        self.opened = 0
        self.refused: Counter = Counter()

    def hold(self, client: Client, contract_id: int, deadline: float) -> None:
        mine: dict[str, list[float]] = defaultdict(list)
        with self.lock:
            self.arrivals.append(mine)
        headers = {"X-Forwarded-For": client.address, "Accept": "text/event-stream",
                   "Cookie": "; ".join(f"{k}={v}" for k, v in client.cookies.items())}  # fmt: skip
        while time.time() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
            try:
                connection.request("GET", f"/contrats/{contract_id}/direct/?page=plan",
                                   headers=headers)  # fmt: skip
                stream = connection.getresponse()
                if stream.status != 200:
                    with self.lock:
                        self.refused[stream.status] += 1
                    time.sleep(1)
                    continue
                with self.lock:
                    self.opened += 1
                name = None
                while time.time() < deadline:
                    line = stream.readline()
                    if not line:
                        break  # the server ended it (a restart, the bus back): reconnect
                    line = line.strip()
                    if line.startswith(b"event: "):
                        name = line[7:].decode()
                    elif line.startswith(b"data:") and name and name.startswith("mesures-"):
                        mine[name[len("mesures-") :]].append(time.perf_counter())
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.refused["connexion"] += 1
                time.sleep(0.5)
            finally:
                connection.close()

    def latencies(self, saves: list[tuple[str, float]]) -> list[float]:
        """For each save (indicator, time sent) and each stream, the first event after it."""
        import bisect

        found = []
        for arrivals in self.arrivals:
            for uid, sent in saves:
                times = arrivals.get(uid, [])
                k = bisect.bisect_left(times, sent)
                if k < len(times):
                    found.append((times[k] - sent) * 1000)
        return found


def rss_of_workers(server) -> int:
    """Resident memory of gunicorn's workers (its children), in KiB."""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)  # fmt: skip
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(server.pid):
            total += int(fields.get("VmRSS", "0 kB").split()[0])
    return total


def verify(url: str, contract_id: int, accepted: list[dict], since: datetime) -> dict:
    """Every accepted write in the database: its comment, its history event, its audit event."""
    from sqlalchemy import create_engine, func, select
    from sqlalchemy.orm import Session

    from app.audit.models import AuditEvent
    from app.indicators.models import Measurement
    from app.schedule.models import ActionFollowUp

    load_models()
    engine = create_engine(url)
    lost: list[dict] = []
    missing_events = 0
    with Session(engine) as session:
        comments_by_key: dict[tuple, set[str]] = defaultdict(set)
        events_by_key: Counter = Counter()
        for m in session.scalars(select(Measurement).where(Measurement.contract_id == contract_id)):
            key = ("value", m.indicator_uid, m.period_start.isoformat())
            comments_by_key[key].add(m.comment)
            for e in m.events:
                if "commentaire" in e.changes:
                    comments_by_key[key].update(e.changes["commentaire"])
                if e.action in ("saisie", "correction") and e.at >= since:
                    events_by_key[key] += 1
        for f in session.scalars(
            select(ActionFollowUp).where(ActionFollowUp.contract_id == contract_id)
        ):
            key = ("follow-up", f.action_uid)
            comments_by_key[key].add(f.comment)
            for e in f.events:
                if "comment" in e.changes:
                    comments_by_key[key].update(e.changes["comment"])
                if e.at >= since:
                    events_by_key[key] += 1
        writes_by_key: Counter = Counter()
        for write in accepted:
            key = (("value", write["uid"], write["period"]) if write["kind"] == "value"
                   else ("follow-up", write["uid"]))  # fmt: skip
            writes_by_key[key] += 1
            if write["comment"] not in comments_by_key.get(key, set()):
                lost.append(write)
        for key, count in writes_by_key.items():
            missing_events += max(0, count - events_by_key.get(key, 0))
        extra_events = sum(max(0, c - writes_by_key.get(k, 0)) for k, c in events_by_key.items())
        audit = dict(session.execute(
            select(AuditEvent.action, func.count()).where(
                AuditEvent.contract_id == contract_id, AuditEvent.ts >= since,
                AuditEvent.action.in_(("mesure.saisie", "mesure.correction", "action.suivi")))
            .group_by(AuditEvent.action)
        ).all())  # fmt: skip
    engine.dispose()
    values = sum(1 for w in accepted if w["kind"] == "value")
    follow_ups = len(accepted) - values
    return {"lost": lost, "missing_events": missing_events, "extra_events": extra_events,
            "audit_values": audit.get("mesure.saisie", 0) + audit.get("mesure.correction", 0),
            "audit_follow_ups": audit.get("action.suivi", 0), "accepted_values": values,
            "accepted_follow_ups": follow_ups}  # fmt: skip


def server_error_causes(log: Path) -> Counter:
    """The last line of each unexpected error's traceback in gunicorn's JSON log."""
    causes: Counter = Counter()
    for line in log.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") == "error" and entry.get("exception"):
            last = [x for x in entry["exception"].splitlines() if x.strip()]
            cause = next((x for x in reversed(last) if "Error" in x or "Exception" in x), last[-1])
            causes[f"{entry.get('route', '?')}: {cause.strip()[:120]}"] += 1
    return causes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--editors", type=int, default=2 * EDITORS_PER_SIDE)
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--hot-indicators", type=int, default=12)
    parser.add_argument("--hot-periods", type=int, default=3)
    parser.add_argument("--hot-actions", type=int, default=30)
    parser.add_argument("--streams", type=int, default=None, help="open live streams (viewers)")
    parser.add_argument("--stress", action="store_true", help="no think time (closed loop)")
    parser.add_argument("--live-bus", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--json", default=str(TMP / "bench-load.json"))
    args = parser.parse_args()
    if args.stress:
        PAUSES.update(editor=(0, 0), viewer=(0, 0))
    started_at = datetime.now(UTC)
    print(
        f"{started_at:%Y-%m-%d %H:%M} UTC — {machine()} — {args.database_url.split(':')[0]} — "
        f"{'stress: no think time' if args.stress else 'think time: editors 0.5–1.5 s, viewers 5–15 s'}"
    )
    hot = hot_set(args.database_url, args.hot_indicators, args.hot_actions)
    periods = recent_periods(date.today(), args.hot_periods)
    port = free_port()
    streams_count = args.viewers if args.streams is None else args.streams
    env = {**production_env(args.database_url), "LIVE_BUS_URL": args.live_bus}
    server = start_gunicorn("wsgi:app", env, port, TMP / "bench-load-gunicorn.log")
    rec, streams, rss = Recorder(), Streams(), []
    try:
        people = []
        for k in range(args.editors):
            side = "acheteur" if k % 2 == 0 else "titulaire"
            email = editor_email(side, k // 2 + 1)
            people.append(("editor", side, email,
                           Client(port, address=f"10.1.0.{k + 1}", timeout=90)))  # fmt: skip
        for k in range(args.viewers):
            people.append(("viewer", "acheteur", viewer_email(k + 1),
                           Client(port, address=f"10.2.0.{k + 1}", timeout=90)))  # fmt: skip
        t = time.perf_counter()
        for _role, _side, email, client in people:
            client.log_in(email, BENCH_PASSWORD)
            if _role == "editor":
                client.get(f"/contrats/{hot['contract_id']}/indicateurs/")  # the CSRF token
        print(f"{len(people)} people logged in ({time.perf_counter() - t:.1f} s); "
              f"{args.editors} editors on {len(hot['indicators'])} indicators × {len(periods)} "
              f"periods and {len(hot['actions'])} actions, {args.viewers} viewers, "
              f"{args.seconds:.0f} s…", flush=True)  # fmt: skip
        since = datetime.now(UTC)
        deadline = time.time() + args.seconds
        threads = []
        for k, (role, side, email, client) in enumerate(people):
            if role == "editor":
                target = (
                    editor,
                    (client, side, hot, periods, deadline, rec, email.split("@")[0], k),
                )
            else:
                target = (viewer, (client, hot["contract_id"], deadline, rec, k))
            threads.append(threading.Thread(target=target[0], args=target[1], daemon=True))
        viewers = [c for role, _s, _e, c in people if role == "viewer"]
        holders = [threading.Thread(target=streams.hold, daemon=True,
                                    args=(viewers[k % len(viewers)], hot["contract_id"], deadline))
                   for k in range(streams_count if viewers else 0)]  # fmt: skip
        for holder in holders:
            holder.start()

        def sample_memory():
            while time.time() < deadline:
                rss.append((time.time() - (deadline - args.seconds), rss_of_workers(server)))
                time.sleep(5)

        threading.Thread(target=sample_memory, daemon=True).start()
        load_started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 120)
        elapsed = time.perf_counter() - load_started
        for holder in holders:
            holder.join(35)
    finally:
        stop(server)
    result = verify(args.database_url, hot["contract_id"], rec.accepted, since)
    total = sum(len(v) for v in rec.latencies.values())
    server_errors = sum(c for (_k, s), c in rec.statuses.items() if s >= 500)
    conflicts = sum(c for (k, s), c in rec.statuses.items() if s == 409)
    lines = [
        "| request | count | p50 (ms) | p95 (ms) | max (ms) | statuses |",
        "|---|--:|--:|--:|--:|---|",
    ]
    everything = []
    for kind in sorted(rec.latencies):
        values = rec.latencies[kind]
        everything += values
        p50, p95, worst = percentiles(values)
        statuses = ", ".join(f"{s}: {c}" for (k, s), c in sorted(rec.statuses.items()) if k == kind)
        lines.append(
            f"| {kind} | {len(values)} | {p50:.0f} | {p95:.0f} | {worst:.0f} | {statuses} |"
        )
    p50, p95, worst = percentiles(everything)
    lines.append(f"| all | {total} | {p50:.0f} | {p95:.0f} | {worst:.0f} | |")
    table = "\n".join(lines)
    print(table)
    lost = len(result["lost"])
    summary = (f"{total} requests in {elapsed:.0f} s = {total / elapsed:.1f} req/s; p95 {p95:.0f} ms; "
               f"5xx {server_errors}; client errors (timeouts, resets) {sum(rec.errors.values())}"
               f"{dict(rec.errors) if rec.errors else ''}; 409 conflicts {conflicts}; "
               f"accepted writes {len(rec.accepted)} ({result['accepted_values']} values, "
               f"{result['accepted_follow_ups']} follow-ups); lost {lost}; history events "
               f"missing {result['missing_events']}, unexpected {result['extra_events']}; audit "
               f"events {result['audit_values']} values / {result['audit_follow_ups']} follow-ups")  # fmt: skip
    print(summary)
    saves = [(w["uid"], w["sent"]) for w in rec.accepted if w["kind"] == "value"]
    pushes = streams.latencies(saves)
    expected = len(saves) * len(streams.arrivals)
    push = percentiles(pushes) if pushes else (0, 0, 0)
    first = [k for t, k in rss if 50 <= t <= 70]
    last = [k for t, k in rss if t >= args.seconds - 10]
    rss_line = (f"workers' RSS {first[0] / 1024:.0f} MiB at 1 min, {last[-1] / 1024:.0f} MiB at "
                f"{args.seconds / 60:.0f} min" if first and last else "workers' RSS: too short a run")  # fmt: skip
    live = (f"live: {streams.opened} streams opened ({dict(streams.refused) or 'none refused'}); "
            f"push latency save → stream p50 {push[0]:.0f} ms, p95 {push[1]:.0f} ms, max "
            f"{push[2]:.0f} ms ({len(pushes)} of {expected} deliveries seen); {rss_line}")  # fmt: skip
    print(live)
    for key, sample in rec.samples.items():
        print(f"  sample of {key}: {sample[:300]!r}")
    causes = server_error_causes(TMP / "bench-load-gunicorn.log")
    if causes:
        print("  server log, unexpected errors by cause: "
              + ", ".join(f"{c} × {k}" for k, c in causes.most_common()))  # fmt: skip
    Path(args.json).write_text(json.dumps({
        "date": f"{started_at:%Y-%m-%d %H:%M} UTC", "machine": machine(), "table": table,
        "summary": summary, "live": live, "rss": rss, "push_p95": push[1], "throughput": total / elapsed, "p95": p95, "server_errors": server_errors,
        "lost": lost, "lost_sample": result["lost"][:5], "conflicts": conflicts,
        "missing_events": result["missing_events"], "extra_events": result["extra_events"],
        "server_error_causes": dict(causes),
    }, indent=1, default=str))  # fmt: skip


if __name__ == "__main__":
    main()
