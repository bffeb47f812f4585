"""Large data for the benchmarks: `python bench/generate.py --database-url sqlite:////tmp/bench.db
[--plan-only | --portfolio-only] [--fresh]`

- the large plan (contract BENCH-PLAN): 5 axes, 50 objectives, 150 indicators (with a milestone
  each), 500 actions, gain sharing, 5,000 values, 200 difficulties, 10 reviews — built through the
  app's services (plan.services._add_item, indicators.services.enter_value with commit=False and
  one commit per batch, difficulties.services.raise_difficulty, reviews.services.schedule_review);
- the large portfolio: 5,000 users and 1,000 contracts (BENCH-P0001…), each with its plan draft
  (1 axis, 2 objectives, 3 indicators, 5 actions, 4 values) and 5 members — bulk inserts (ORM
  add_all), one Argon2 hash shared by every account.

The bench user `banc.referent@bench.example` (buyer lead) is a member of the large-plan contract
and of the 1,000 portfolio contracts; 10 buyer and 10 supplier contributors
(`banc.editeur.a01@…`, `banc.editeur.t01@…`) and 50 observers (`banc.lecteur.01@…`) are members
of the large-plan contract (bench/load.py logs them in). Every account's password: BENCH_PASSWORD.
Generation runs the migrations first (Alembic, as bench/live_latency.py does)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from datetime import time as clock
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = f"sqlite:///{Path(tempfile.gettempdir()) / 'bench.db'}"

BENCH_PASSWORD = "banc-mesure-tramway-cerise-2026"
PLAN_REFERENCE = "BENCH-PLAN"
LEAD_EMAIL = "banc.referent@bench.example"
SUPPLIER_LEAD_EMAIL = "banc.titulaire@bench.example"
EDITORS_PER_SIDE = 10
VIEWERS = 50
SIZES = {"axes": 5, "objectives": 50, "indicators": 150, "actions": 500, "values": 5000,
         "difficulties": 200, "reviews": 10, "contracts": 1000, "users": 5000}  # fmt: skip
AXIS_KINDS = ("technique", "organisationnel", "financier", "societal", "environnemental")
REPORTING = ("titulaire", "acheteur", "les_deux")
BASELINE = date(2024, 1, 1)  # monthly indicators: Jan 2024 → Nov 2026 = 35 periods begun


def editor_email(side: str, n: int) -> str:
    return f"banc.editeur.{side[0]}{n:02d}@bench.example"


def viewer_email(n: int) -> str:
    return f"banc.lecteur.{n:02d}@bench.example"


def make_app(url: str):
    from app import create_app
    from bench.common import UPLOADS

    return create_app("development", SQLALCHEMY_DATABASE_URI=url, LOG_JSON=False,
                      OUTBOX_DELIVER_AFTER_REQUEST=False, UPLOAD_FOLDER=str(UPLOADS))  # fmt: skip


def migrate(url: str, fresh: bool) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, text

    if fresh:
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        else:
            engine = create_engine(url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            engine.dispose()
    app = make_app(url)
    with app.app_context():
        upgrade()
        from app.extensions import db

        db.engine.dispose()


# --- shared people and organisations ----------------------------------------------------------


def _siret(seed: int) -> str:
    from app.organisations.services import luhn_valid

    base = f"{700000000 + seed:09d}0001"
    return next(base + str(k) for k in range(10) if luhn_valid(base + str(k)))


def organisation(name: str, kind: str, seed: int):
    from sqlalchemy import select

    from app.extensions import db
    from app.organisations.models import Organisation

    siret = _siret(seed)
    found = db.session.scalar(select(Organisation).where(Organisation.siret == siret))
    if found is None:
        found = Organisation(name=name, siret=siret, kind=kind,
                             size=None if kind == "acheteur_public" else "PME", ess=False)  # fmt: skip
        db.session.add(found)
        db.session.flush()
    return found


def shared_hash() -> str:
    """One Argon2id hash (production parameters) reused by every bench account."""
    from app.auth.passwords import hash_password

    return hash_password(BENCH_PASSWORD)


def person(email: str, name: str, org, password_hash: str):
    from sqlalchemy import select

    from app.auth.models import User
    from app.extensions import db

    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, full_name=name, organisation=org, password_hash=password_hash)
        db.session.add(user)
        db.session.flush()
    return user


def bench_lead(password_hash: str):
    buyer = organisation("Métropole du Banc d'essai", "acheteur_public", 1)
    return person(LEAD_EMAIL, "Bérénice Banc", buyer, password_hash)


# --- the large plan -----------------------------------------------------------------------------


def build_plan(password_hash: str) -> dict:
    from sqlalchemy import select

    from app.contracts import services as contracts
    from app.contracts.models import Contract
    from app.difficulties import services as difficulties
    from app.extensions import db
    from app.indicators import services as values
    from app.plan import services as items
    from app.plan import versions
    from app.reviews import services as reviews

    if db.session.scalar(select(Contract.id).where(Contract.reference == PLAN_REFERENCE)):
        print(f"  {PLAN_REFERENCE} already there: plan part skipped")
        return {}
    timings = {}
    started = time.perf_counter()
    lead = bench_lead(password_hash)
    buyer = lead.organisation
    supplier = organisation("Textiles du Banc SAS", "entreprise", 2)
    supplier_lead = person(SUPPLIER_LEAD_EMAIL, "Timothée Titulaire", supplier, password_hash)
    contract = contracts.add_contract(contracts.ContractData(
        reference=PLAN_REFERENCE, object="Vêtements de travail — plan de progrès de grande taille",
        category="fournitures", notification_date=BASELINE, duration_months=72,
        initial_amount_ht=Decimal("9800000.00"), buyer_organisation_id=buyer.id,
        supplier_organisation_id=supplier.id,
        progress_clause="Les parties **élaborent** un plan de progrès ambitieux.",
    ), actor=None)  # fmt: skip
    buyer_m = contracts.add_member(contract, lead, "acheteur", "referent", actor=None)
    supplier_m = contracts.add_member(contract, supplier_lead, "titulaire", "referent", actor=None)
    db.session.commit()
    timings["contract"] = time.perf_counter() - started

    # plan items, through the plan's services (history and audit included)
    t = time.perf_counter()
    version = versions.working_version(versions.plan_of(contract))
    counts = dict.fromkeys(("axe", "objectif", "indicateur", "jalon", "action", "partage"), 0)
    indicators = []
    per_axis = SIZES["objectives"] // SIZES["axes"]
    per_objective_ind = SIZES["indicators"] // SIZES["objectives"]
    per_objective_act = SIZES["actions"] // SIZES["objectives"]
    for a, kind in enumerate(AXIS_KINDS):
        axis, _ = items._add_item(version, "axe", {
            "kind": kind, "title": f"Axe {a + 1} — {kind}", "mandatory": a == 4,
            "priorities": ["decarbonation"] if kind == "environnemental" else [],
            "description": f"Progresser sur l'axe **{kind}** pendant toute la durée du marché.",
        }, parent=None, actor=lead)  # fmt: skip
        counts["axe"] += 1
        for o in range(per_axis):
            number = a * per_axis + o + 1
            objective, _ = items._add_item(version, "objectif", {
                "title": f"Objectif {number} : réduire l'empreinte du poste {number}",
                "obligation": "resultats" if number % 2 else "moyens",
                "due_date": date(2028, 12, 31), "accountable_side": "titulaire",
                "accountable_name": "Direction RSE",
                "description": f"Mesuré sur l'ensemble des livraisons (objectif {number}).",
            }, parent=axis, actor=lead)  # fmt: skip
            counts["objectif"] += 1
            for _i in range(per_objective_ind):
                n = len(indicators) + 1
                indicator, _ = items._add_item(version, "indicateur", {
                    "name": f"Indicateur {n} de l'objectif {number}", "unit": "%",
                    "direction": "hausse" if n % 3 else "baisse",
                    "baseline_value": Decimal("10"), "baseline_date": BASELINE,
                    "target_value": Decimal("40") if n % 3 else Decimal("2"),
                    "target_date": date(2028, 12, 31), "periodicity": "mensuelle",
                    "reporting_side": REPORTING[n % 3], "data_source": "Relevés du titulaire",
                }, parent=objective, actor=supplier_lead)  # fmt: skip
                items._add_item(version, "jalon", {"due_date": date(2026, 6, 30),
                                                   "value": Decimal("25"), "note": "Mi-parcours"},
                                parent=indicator, actor=supplier_lead)  # fmt: skip
                counts["indicateur"] += 1
                counts["jalon"] += 1
                indicators.append(indicator)
            for k in range(per_objective_act):
                m = counts["action"] + 1
                items._add_item(version, "action", {
                    "title": f"Action {m} : mesure concrète n° {k + 1} de l'objectif {number}",
                    "owner_side": ("titulaire", "acheteur", "les_deux")[m % 3],
                    "description": "Mettre en œuvre la mesure et en rendre compte en revue.",
                    "resources": "0,1 ETP ; budget de fonctionnement",
                    "cost_estimate": Decimal(1000 + m), "planned_start": date(2025, 1 + m % 12, 1),
                    "planned_end": date(2026 + m % 3, 1 + m % 12, 28),
                    "mode": "progressive" if m % 2 else "immediate",
                    "status": ("proposee", "validee", "en_cours")[m % 3],
                }, parent=objective, actor=lead)  # fmt: skip
                counts["action"] += 1
        db.session.commit()
    items._add_item(version, "partage", {"buyer_share": Decimal("40"),
                                         "supplier_share": Decimal("60"),
                                         "financial_terms": "Remise annuelle sur les économies."},
                    parent=None, actor=lead)  # fmt: skip
    counts["partage"] += 1
    db.session.commit()
    timings["plan items"] = time.perf_counter() - t

    # values, through enter_value (commit=False), one commit per 500
    t = time.perf_counter()
    today = date.today()
    member_for = {"titulaire": supplier_m, "acheteur": buyer_m, "les_deux": supplier_m}
    entered = 0
    month = 0
    while entered < SIZES["values"]:
        start = date(BASELINE.year + month // 12, month % 12 + 1, 1)
        if start > today:
            raise SystemExit("not enough periods begun for the values")
        for indicator in indicators:
            if entered >= SIZES["values"]:
                break
            values.enter_value(contract, member_for[indicator.reporting_side], indicator,
                               period_start=start, value=Decimal(10 + month % 30),
                               comment=f"Relevé {start:%m/%Y}", commit=False, today=today)  # fmt: skip
            entered += 1
            if entered % 500 == 0:
                db.session.commit()
        month += 1
    db.session.commit()
    timings["values"] = time.perf_counter() - t

    # difficulties (each notifies the other side: before the 70 bench members join)
    t = time.perf_counter()
    objectives_uids = [i.objective.uid for i in indicators]
    for n in range(SIZES["difficulties"]):
        by = supplier_m if n % 2 else buyer_m
        difficulties.raise_difficulty(contract, by, {
            "title": f"Difficulté {n + 1} : retard d'approvisionnement", "category":
            ("delais", "approvisionnement", "technique", "financier")[n % 4],
            "severity": ("faible", "moyenne", "elevee")[n % 3],
            "description": "Le fournisseur a **deux semaines** de retard.",
            "request": "Décaler le jalon concerné.",
        }, [objectives_uids[n % len(objectives_uids)]])  # fmt: skip
    timings["difficulties"] = time.perf_counter() - t

    # reviews
    t = time.perf_counter()
    for n in range(SIZES["reviews"]):
        day = date(2026 + (n + 4) // 6, (n * 2 + 9) % 12 + 1, 10)
        reviews.schedule_review(contract, buyer_m, kind="revue_performance", day=day,
                                at=clock(14, 0), duration_minutes=90, place="Salle 3.12",
                                member_ids=[lead.id, supplier_lead.id])  # fmt: skip
    timings["reviews"] = time.perf_counter() - t

    # the people bench/load.py logs in
    t = time.perf_counter()
    for side, org in (("acheteur", buyer), ("titulaire", supplier)):
        for n in range(1, EDITORS_PER_SIDE + 1):
            user = person(editor_email(side, n), f"Éditeur {side} {n}", org, password_hash)
            contracts.add_member(contract, user, side, "contributeur", actor=None)
    for n in range(1, VIEWERS + 1):
        user = person(viewer_email(n), f"Lecteur {n}", buyer, password_hash)
        contracts.add_member(contract, user, "acheteur", "observateur", actor=None)
    db.session.commit()
    timings["members"] = time.perf_counter() - t
    t = time.perf_counter()
    build_amendment(contract, buyer_m, supplier_m, version)
    timings["baseline and amendment"] = time.perf_counter() - t
    counts.update(valeurs=entered, difficultes=SIZES["difficulties"], revues=SIZES["reviews"],
                  membres=2 + 2 * EDITORS_PER_SIDE + VIEWERS, avenant=1)  # fmt: skip
    print(f"  large plan {PLAN_REFERENCE} (contract {contract.id}): "
          + ", ".join(f"{v} {k}" for k, v in counts.items()))  # fmt: skip
    print("  time: " + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
    return counts


# --- the large portfolio --------------------------------------------------------------------


CHANGED_ACTIONS = 20  # what the bench amendment changes: its plan annex lists them


def build_amendment(contract, buyer_m, supplier_m, draft) -> None:
    """Both leads' visas make the large draft version 1, then the supplier proposes a change of
    CHANGED_ACTIONS actions with a price impact; the buyer approves it, formalises it as an
    amendment (R2194-8), generates its documents and both leads give their visa on the PDF —
    what bench/pages.py renders again with the two stamps."""
    from app.changes import formalisation
    from app.changes import services as changes
    from app.extensions import db
    from app.plan import services as items
    from app.plan import versions

    versions.give_visa(draft, buyer_m, BENCH_PASSWORD, buyer_m.user)
    versions.give_visa(draft, supplier_m, BENCH_PASSWORD, supplier_m.user)
    db.session.commit()
    change = changes.open_request(contract, supplier_m, title="Fil recyclé certifié : prix nouveau")
    for action in versions.items_of(change.draft_version)["action"][:CHANGED_ACTIONS]:
        items.update_item(action, {"resources": "0,2 ETP ; fil recyclé certifié GRS"},
                          base_version=action.version, actor=supplier_m.user)  # fmt: skip
    no = {"answer": False, "note": ""}
    answers = {"prix": {"answer": True, "note": "Prix nouveau au BPU"}, "obligations": no,
               "paiement": no, "perimetre": no}  # fmt: skip
    changes.update_request(change, supplier_m, seen_version=change.version, title=change.title,
                           rationale="Le fil certifié coûte plus cher.", answers=answers,
                           financial_impact_ht="240000")  # fmt: skip
    changes.submit(change, supplier_m, seen_version=change.version)
    changes.decide(change, buyer_m, seen_version=change.version, approve=True, comment="")
    formalisation.formalise(change, buyer_m, seen_version=change.version, choice="avenant",
                            reason="")  # fmt: skip
    formalisation.update_terms(change, buyer_m, seen_version=change.version, data={
        "legal_basis": "R2194-8", "basis_justification": "Modification de faible montant.",
        "modifications": [{"article": "BPU", "text": "Prix nouveau PN1.", "impact_ht": "240000"}],
        "signatory_name": "Bénédicte Banc", "signatory_qualite": "Acheteuse référente",
        "holder_signatory_name": "Timothée Titulaire", "holder_signatory_qualite": "Président"})  # fmt: skip
    formalisation.generate(change, buyer_m, seen_version=change.version)
    document = formalisation.current_documents(change)["avenant"]
    for membership, qualite in ((buyer_m, "Acheteuse référente"), (supplier_m, "Président")):
        formalisation.give_visa(document, membership, password=BENCH_PASSWORD, qualite=qualite,
                                seen_sha256=document.sha256)  # fmt: skip
    db.session.commit()


def build_portfolio(password_hash: str) -> dict:
    from sqlalchemy import func, select

    from app.auth.models import User
    from app.contracts.models import Contract, Membership
    from app.contracts.services import add_months
    from app.extensions import db
    from app.indicators.models import Measurement
    from app.plan.models import Action, Axis, Indicator, Objective, Plan, PlanVersion

    if db.session.scalar(select(Contract.id).where(Contract.reference == "BENCH-P0001")):
        print("  portfolio already there: portfolio part skipped")
        return {}
    started = time.perf_counter()
    lead = bench_lead(password_hash)
    buyers = [
        organisation(f"Acheteur public n° {k}", "acheteur_public", 100 + k) for k in range(20)
    ]
    suppliers = [organisation(f"Entreprise n° {k}", "entreprise", 200 + k) for k in range(50)]
    db.session.commit()
    first_user = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    users = [
        User(id=first_user + k, email=f"personne.{k:05d}@portefeuille.example",
             full_name=f"Personne {k:05d}", password_hash=password_hash,
             organisation_id=(buyers[k % 20] if k % 2 == 0 else suppliers[k % 50]).id)
        for k in range(SIZES["users"])
    ]  # fmt: skip
    for chunk in range(0, len(users), 1000):
        db.session.add_all(users[chunk : chunk + 1000])
        db.session.flush()
    db.session.commit()
    t_users = time.perf_counter() - started

    t = time.perf_counter()
    rows = 0
    for k in range(SIZES["contracts"]):
        buyer, supplier = buyers[k % 20], suppliers[k % 50]
        notified = date(2025, 1 + k % 12, 1)
        contract = Contract(
            reference=f"BENCH-P{k + 1:04d}", object=f"Marché de portefeuille n° {k + 1}",
            category=("travaux", "fournitures", "services")[k % 3], notification_date=notified,
            duration_months=48, initial_amount_ht=Decimal(100000 + k * 10),
            buyer_organisation_id=buyer.id, supplier_organisation_id=supplier.id,
            plan_deadline=add_months(notified, 6),
            min_reviews_per_year=2,
        )  # fmt: skip
        plan = Plan(contract=contract)
        version = PlanVersion(plan=plan, status="brouillon", label="Projet de plan")
        axis = Axis(plan_version=version, kind="technique", title="Qualité", position=0)
        objects = [contract, plan, version, axis,
                   Membership(contract=contract, user_id=lead.id, side="acheteur", role="referent")]  # fmt: skip
        for j in range(4):  # 2 buyer, 2 supplier members from the 5,000
            side = "acheteur" if j < 2 else "titulaire"
            objects.append(Membership(contract=contract, user_id=first_user + (k * 5 + j) % SIZES["users"],
                                      side=side, role="contributeur"))  # fmt: skip
        for o in range(2):
            objective = Objective(plan_version=version, axis=axis, position=o,
                                  title=f"Objectif {o + 1}", obligation="moyens")  # fmt: skip
            objects.append(objective)
            for i in range(2 if o == 0 else 1):
                indicator = Indicator(
                    plan_version=version, objective=objective, position=i, name=f"Indicateur {o}.{i}",
                    unit="%", baseline_value=Decimal(5), baseline_date=notified,
                    target_value=Decimal(20), target_date=date(2028, 12, 31),
                    periodicity="trimestrielle", reporting_side="titulaire",
                )  # fmt: skip
                objects.append(indicator)
            for j in range(3 if o == 0 else 2):
                objects.append(Action(plan_version=version, objective=objective, position=j,
                                      title=f"Action {o}.{j}", owner_side="titulaire",
                                      planned_start=date(2025, 6, 1),
                                      planned_end=date(2026, 1 + (k + j) % 12, 28)))  # fmt: skip
        db.session.add_all(objects)
        rows += len(objects)
        if (k + 1) % 100 == 0:
            db.session.flush()
            db.session.commit()
    db.session.commit()
    # two values per contract, on its first indicator (uids exist once flushed)
    t_values = time.perf_counter()
    first_indicators = db.session.execute(
        select(Plan.contract_id, Indicator.uid, Contract.notification_date)
        .join(PlanVersion, PlanVersion.plan_id == Plan.id)
        .join(Indicator, Indicator.plan_version_id == PlanVersion.id)
        .join(Contract, Contract.id == Plan.contract_id)
        .where(Contract.reference.like("BENCH-P%"), Contract.reference != PLAN_REFERENCE,
               Indicator.position == 0)
    ).all()  # fmt: skip
    from app.indicators.periods import periods

    measurements = []
    for contract_id, uid, notified in first_indicators:
        for period in periods("trimestrielle", notified, date(2026, 6, 30))[:2]:
            measurements.append(Measurement(
                contract_id=contract_id, indicator_uid=uid, period_start=period.start,
                period_end=period.end, value=Decimal(8), entered_by_side="titulaire",
            ))  # fmt: skip
    db.session.add_all(measurements)
    db.session.commit()
    rows += len(measurements)
    t_contracts = time.perf_counter() - t
    print(f"  portfolio: {SIZES['users']} users, {SIZES['contracts']} contracts "
          f"({rows} rows with plans, memberships and {len(measurements)} values); "
          f"{lead.email} is a member of all")  # fmt: skip
    print(f"  time: users {t_users:.1f} s, contracts {t_contracts:.1f} s "
          f"(values {time.perf_counter() - t_values:.1f} s)")  # fmt: skip
    return {"users": SIZES["users"], "contracts": SIZES["contracts"]}


def analyse(engine) -> None:
    """The planner's statistics of the rows just inserted, as autovacuum (PostgreSQL) or
    `PRAGMA optimize` would have them on a database in use: measured without them, a page's
    query plans are those of empty tables."""
    t = time.perf_counter()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
    print(f"  ANALYZE in {time.perf_counter() - t:.1f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL",
                                                                 DEFAULT_DATABASE))  # fmt: skip
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--plan-only", action="store_true")
    only.add_argument("--portfolio-only", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="empty the database first")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="smaller data for a smoke test (0.1: a tenth of every size)",
    )
    args = parser.parse_args()
    if args.scale != 1.0:
        for key in SIZES:
            if key != "axes":
                SIZES[key] = max(SIZES["axes"] if key == "objectives" else 1,
                                 round(SIZES[key] * args.scale))  # fmt: skip
    started = time.perf_counter()
    print(f"database {args.database_url}")
    migrate(args.database_url, args.fresh)
    print(f"  migrated in {time.perf_counter() - started:.1f} s")
    app = make_app(args.database_url)
    with app.app_context():
        from app.extensions import db

        t = time.perf_counter()
        password_hash = shared_hash()
        print(f"  one Argon2id hash: {(time.perf_counter() - t) * 1000:.0f} ms (shared)")
        if not args.portfolio_only:
            build_plan(password_hash)
        if not args.plan_only:
            build_portfolio(password_hash)
        db.session.remove()
        analyse(db.engine)
        db.engine.dispose()
    print(f"done in {time.perf_counter() - started:.1f} s "
          f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")  # fmt: skip


if __name__ == "__main__":
    main()
