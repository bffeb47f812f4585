"""Shared fixtures: a migrated database per test (SQLite file copy, or PostgreSQL emptied
after each test), the app, and a world of two contracts with every role.

`PROGRES_TEST_DATABASE_URL=postgresql+psycopg://127.0.0.1:5432/test` runs the same suite on
PostgreSQL (`make test` does both)."""

from __future__ import annotations

import contextvars
import os
import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from werkzeug.routing import Rule

from app import create_app
from app.auth.models import User
from app.contracts.models import Contract
from app.extensions import db
from app.plan import services as items
from app.plan import versions
from app.plan.models import Action, Axis, Indicator, Objective, PlanVersion
from tests import factories
from tests.two_factor import clock  # noqa: F401  (the authenticator's clock, a fixture)

POSTGRES_URL = os.environ.get("PROGRES_TEST_DATABASE_URL", "")
ON_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("PROGRES_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _compile_each_url_builder_once() -> None:
    """Every test builds its own app, and werkzeug compiles two URL builders per rule with
    `ast` and `compile()`: 65 ms per app, minutes per suite. A builder is a plain function of
    the rule's parsed parts and defaults (the rule itself is its first argument), so the suite
    compiles each distinct one once and every app binds the same function."""
    compile_builder = Rule._compile_builder
    compiled: dict[tuple, object] = {}

    def once(rule: Rule, append_unknown: bool = True):
        key = (
            rule.rule,
            rule.subdomain,
            rule.host,
            tuple(rule._trace),
            tuple(sorted((rule.defaults or {}).items(), key=repr)),
            tuple((name, type(c)) for name, c in rule._converters.items()),
            append_unknown,
        )
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = once


_compile_each_url_builder_once()


def _reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _migrate(url: str) -> None:
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The schema built by the Alembic migrations (never by create_all), once per run."""
    if POSTGRES_URL:
        _reset_postgres_schema(POSTGRES_URL)
        _migrate(POSTGRES_URL)
        return POSTGRES_URL
    template = tmp_path_factory.mktemp("db") / "template.db"
    _migrate(f"sqlite:///{template}")
    return template


def _empty_postgres(url: str) -> None:
    """Every table emptied and every sequence restarted. DELETE, not TRUNCATE: on tables of a
    few rows it is several times faster (TRUNCATE makes new files for each table and index)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        # Test clean-up only: replica mode skips the foreign keys and the audit trail's
        # append-only triggers, so the tables can be emptied in any order.
        connection.execute(text("SET session_replication_role = replica"))
        connection.exec_driver_sql("; ".join(f'DELETE FROM "{table}"' for table in tables))
        connection.execute(
            text(
                "SELECT setval(oid, 1, false) FROM pg_class "
                "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
            )
        )
    engine.dispose()


def sqlite_copy(template: Path, folder: Path, name: str = "progres.db") -> str:
    """The URL of a copy of the SQLite file `template`, for a test that needs no other."""
    shutil.copyfile(template, folder / name)
    return f"sqlite:///{folder / name}"


def fresh_database(migrated_database, folder: Path, name: str) -> str:
    """The URL of an empty migrated database to prepare data in: PostgreSQL emptied, or a copy
    of the SQLite template in `folder`."""
    if POSTGRES_URL:
        _empty_postgres(POSTGRES_URL)
        return POSTGRES_URL
    return sqlite_copy(migrated_database, folder, name)


@pytest.fixture
def database_url(migrated_database, tmp_path):
    if POSTGRES_URL:
        yield POSTGRES_URL
        _empty_postgres(POSTGRES_URL)
    else:
        yield sqlite_copy(migrated_database, tmp_path)


@pytest.fixture
def app_config():
    """Override to change the configuration of one test module's app."""
    return {}


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: nothing in `g` or in the
    test's database session leaks into it. The test's session is expired afterwards so that
    it reads what the request wrote."""

    def open(self, *args, **kwargs):
        db.session.commit()  # end the test's own transaction: on SQLite it holds the write lock
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(database_url, app_config):
    app = create_app("test", SQLALCHEMY_DATABASE_URI=database_url, **app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def make_app(database_url):
    """Another app on the test database (production settings, a second instance…); its
    connections are closed at the end of the test."""
    made = []

    def build(config_name: str = "test", **config):
        other = create_app(config_name, **{"SQLALCHEMY_DATABASE_URI": database_url, **config})
        made.append(other)
        return other

    yield build
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def log_in(client):
    """Log a user in through the real login form."""

    def log_in_as(user: User, password: str = factories.PASSWORD, remember: bool = False):
        response = client.post(
            "/connexion",
            data={"email": user.email, "password": password, "remember": "y" if remember else ""},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    return log_in_as


@dataclass
class World:
    """Contract A with every role, contract B with other parties and people."""

    contract: Contract
    other_contract: Contract
    buyer_lead: User
    buyer_contributor: User
    observer: User
    supplier_lead: User
    supplier_contributor: User
    outsider: User  # buyer lead of contract B only
    other_supplier_lead: User
    admin: User

    def role(self, name: str) -> User:
        return getattr(self, name)


@pytest.fixture
def world(app) -> World:
    buyer = factories.make_organisation("Métropole de Lyon", "acheteur_public")
    supplier = factories.make_organisation("Textiles Rhône SAS")
    other_buyer = factories.make_organisation("Ville de Villeurbanne", "acheteur_public")
    other_supplier = factories.make_organisation("Jardins du Rhône SCOP", size="TPE")
    contract = factories.make_contract(
        buyer,
        supplier,
        "2025-0142",
        progress_clause="Les parties **élaborent** un plan de progrès.",
    )
    other = factories.make_contract(other_buyer, other_supplier, "2026-0057")
    people = SimpleNamespace(
        buyer_lead=factories.make_user("claire@acheteur.example", organisation=buyer),
        buyer_contributor=factories.make_user("hugo@acheteur.example", organisation=buyer),
        observer=factories.make_user("ines@acheteur.example", organisation=buyer),
        supplier_lead=factories.make_user("sophie@titulaire.example", organisation=supplier),
        supplier_contributor=factories.make_user("karim@titulaire.example", organisation=supplier),
        outsider=factories.make_user("paul@autre-acheteur.example", organisation=other_buyer),
        other_supplier_lead=factories.make_user(
            "lea@autre-titulaire.example", organisation=other_supplier
        ),
        admin=factories.make_user("admin@progres.example", is_admin=True),
    )
    factories.add_member(contract, people.buyer_lead, "acheteur", "referent")
    factories.add_member(contract, people.buyer_contributor, "acheteur", "contributeur")
    factories.add_member(contract, people.observer, "acheteur", "observateur")
    factories.add_member(contract, people.supplier_lead, "titulaire", "referent")
    factories.add_member(contract, people.supplier_contributor, "titulaire", "contributeur")
    factories.add_member(other, people.outsider, "acheteur", "referent")
    factories.add_member(other, people.other_supplier_lead, "titulaire", "referent")
    return World(contract=contract, other_contract=other, **vars(people))


@pytest.fixture
def redis_url():
    """A reachable Redis, or a skip — except under CI, where its absence is a failure."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if ON_CI:
            pytest.fail(f"Redis injoignable sur {REDIS_URL} (obligatoire sous CI=true)")
        pytest.skip(f"Redis injoignable sur {REDIS_URL}")
    return REDIS_URL


@pytest.fixture
def count_queries(app):
    """`with count_queries() as queries: …` then `queries()` is the number of SQL statements."""
    from contextlib import contextmanager

    from tests.helpers import statements_run

    @contextmanager
    def counting():
        with statements_run() as statements:
            yield lambda: len(statements)

    return counting


@dataclass
class Draft:
    """A draft plan with one axis, objective, indicator and action, built through the services."""

    version: PlanVersion
    axis: Axis
    objective: Objective
    indicator: Indicator
    action: Action


@pytest.fixture
def draft(world) -> Draft:
    version = versions.working_version(versions.plan_of(world.contract))
    lead = world.buyer_lead
    axis = items.create_item(
        version, "axe", {"kind": "environnemental", "title": "Matières recyclées",
                         "priorities": ["ressources"]}, actor=lead,
    )  # fmt: skip
    objective = items.create_item(
        version, "objectif", {"title": "30 % de recyclé", "obligation": "resultats"},
        parent=axis, actor=lead,
    )  # fmt: skip
    indicator = items.create_item(
        version, "indicateur", {"name": "Part recyclée", "unit": "%", "target_value": Decimal("30")},
        parent=objective, actor=world.supplier_lead,
    )  # fmt: skip
    action = items.create_item(
        version, "action", {"title": "Sourcer du fil recyclé", "owner_side": "titulaire",
                            "description": "Premier texte", "resources": "Acheteur textile",
                            "planned_start": date(2027, 1, 1), "planned_end": date(2027, 6, 30)},
        parent=objective, actor=world.supplier_lead,
    )  # fmt: skip
    return Draft(version, axis, objective, indicator, action)
