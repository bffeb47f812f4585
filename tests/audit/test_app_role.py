"""SECURITY.md catalogue 35, the PostgreSQL half: `flask db-roles grant --role NAME` leaves the
app's runtime role able to append to the audit trail and to write every other table, but never
to rewrite the trail, empty it or switch off its triggers — by privileges, not only triggers.

The schema is the suite's, migrated by its owner (the test's superuser); each test creates a
throwaway LOGIN role, connects as it, and drops it at the end."""

from __future__ import annotations

import secrets
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app import create_app
from app.audit import services as audit
from app.audit.models import AuditEvent
from app.auth.models import User
from app.extensions import db
from app.organisations.models import Organisation
from tests import factories
from tests.conftest import POSTGRES_URL

INSUFFICIENT_PRIVILEGE = "42501"
AUDIT_ROW = (
    "INSERT INTO audit_event (chain, seq, ts, actor_label, action, object_type, object_id, "
    "payload, prev_hash, hash) VALUES ('essai-role', :seq, now(), 'rôle', 'essai', '', '', "
    "'{}', :zeros, :zeros)"
)


@pytest.fixture
def on_postgres():
    # The SQLite suite skips these; `make test` runs the PostgreSQL suite too, and under
    # CI=true it fails when PostgreSQL is unreachable.
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL : PROGRES_TEST_DATABASE_URL n'est pas défini")


@pytest.fixture
def app_role(on_postgres, app):
    """A LOGIN role with a password (whatever pg_hba.conf asks), and an engine connected as it."""
    name = f"progres_app_{uuid.uuid4().hex[:10]}"
    password = secrets.token_hex(16)
    with db.engine.begin() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
    engine = create_engine(make_url(POSTGRES_URL).set(username=name, password=password))
    yield SimpleNamespace(name=name, engine=engine, url=engine.url)
    engine.dispose()
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP OWNED BY {name}"))  # its privileges in this database
        connection.execute(text(f"DROP ROLE {name}"))


def grant(app, role: str):
    db.session.commit()  # our own transaction holds no lock the GRANTs would wait for
    return app.test_cli_runner().invoke(args=["db-roles", "grant", "--role", role])


def refused_for_lack_of_privilege(engine, sql: str, **params) -> bool:
    """True when PostgreSQL refuses `sql` with « permission denied » / « must be owner »
    (SQLSTATE 42501), not with the trigger's own exception or any other error."""
    with engine.connect() as connection:
        try:
            connection.execute(text(sql), params)
        except DBAPIError as error:
            return error.orig.sqlstate == INSUFFICIENT_PRIVILEGE
        finally:
            connection.rollback()
    return False


def privileges(role, table: str) -> set[str]:
    every = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    return {
        privilege
        for privilege in every
        if db.session.scalar(
            text("SELECT has_table_privilege(:role, :table, :privilege)"),
            {"role": role.name, "table": table, "privilege": privilege},
        )
    }


def direct_grants(role) -> int:
    """Privileges granted to the role itself on tables and sequences (not inherited ones)."""
    return db.session.scalar(
        text("SELECT count(*) FROM pg_class c, aclexplode(c.relacl) a "
             "WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = :role)"),
        {"role": role.name},
    )  # fmt: skip


def test_the_app_role_appends_to_the_audit_trail_but_cannot_rewrite_it(app, world, app_role):
    audit.record("essai", actor=world.buyer_lead, contract_id=world.contract.id, after={"n": 1})
    db.session.commit()
    # A sloppy earlier grant, which the command must take back.
    with db.engine.begin() as connection:
        connection.execute(text(f"GRANT ALL ON audit_event, user_account TO {app_role.name}"))

    result = grant(app, app_role.name)
    assert result.exit_code == 0, result.output
    assert app_role.name in result.output

    role = app_role.engine
    with role.begin() as connection:
        connection.execute(text(AUDIT_ROW), {"seq": 1, "zeros": "0" * 64})
    forbidden = [
        "UPDATE audit_event SET action = 'réécrit'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "CREATE TRIGGER sneaky BEFORE UPDATE ON audit_event FOR EACH ROW "
        "EXECUTE FUNCTION audit_event_append_only()",
    ]
    assert [sql for sql in forbidden if not refused_for_lack_of_privilege(role, sql)] == []
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.chain == "essai-role"))
    assert privileges(app_role, "audit_event") == {"SELECT", "INSERT"}
    assert privileges(app_role, "user_account") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert not db.session.scalar(
        text("SELECT bool_or(pg_has_role(:role, relowner, 'MEMBER')) FROM pg_class "
             "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"),
        {"role": app_role.name},
    )  # fmt: skip


def test_the_app_connected_as_its_role_writes_ordinary_tables_and_the_trail(app, world, app_role):
    lead_id, observer_id, contract_id = world.buyer_lead.id, world.observer.id, world.contract.id
    chain = audit.chain_of(contract_id)
    entries = audit.verify_chain(chain).entries
    assert grant(app, app_role.name).exit_code == 0
    with app_role.engine.begin() as connection:  # ordinary tables: update, delete, read
        connection.execute(text("UPDATE user_account SET full_name = 'Claire M.' WHERE id = :id"),
                           {"id": lead_id})  # fmt: skip
        connection.execute(text("DELETE FROM user_session WHERE user_id = :id"),
                           {"id": observer_id})  # fmt: skip
        connection.execute(text("SELECT * FROM alembic_version"))
    # The app itself on the role: an ORM insert, then an append (advisory lock, savepoint,
    # sequence). Only ids cross over: the test's objects belong to the owner's session.
    runtime = create_app("test", SQLALCHEMY_DATABASE_URI=app_role.url.render_as_string(False))
    with runtime.app_context():
        try:
            factories.make_organisation("Régie des eaux", "acheteur_public")
            audit.record("essai_role", actor=None, contract_id=contract_id, after={"n": 2})
            db.session.commit()
        finally:
            db.session.remove()
            db.engine.dispose()
    db.session.expire_all()
    assert db.session.get(User, lead_id).full_name == "Claire M."
    assert db.session.scalar(select(Organisation).where(Organisation.name == "Régie des eaux"))
    report = audit.verify_chain(chain)
    assert report.ok and report.entries == entries + 1
    assert audit._head(chain).action == "essai_role"


def test_the_command_refuses_an_owner_a_superuser_and_an_unknown_role(app, world, app_role):
    owner = db.session.scalar(text("SELECT current_user"))  # who ran the migrations
    with db.engine.begin() as connection:  # a member of the owner's role may act as the owner
        connection.execute(text(f"GRANT {owner} TO {app_role.name}"))
    member = grant(app, app_role.name)
    assert member.exit_code == 1 and "possède les tables" in member.output
    assert direct_grants(app_role) == 0  # nothing was granted
    superuser = grant(app, owner)
    assert superuser.exit_code == 1 and "superutilisateur" in superuser.output
    unknown = grant(app, "personne_de_connu")
    assert unknown.exit_code == 1 and "n'existe pas" in unknown.output


def test_on_sqlite_the_command_refuses_and_points_to_the_triggers(tmp_path):
    sqlite_app = create_app("test", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'p.db'}")
    result = sqlite_app.test_cli_runner().invoke(args=["db-roles", "grant", "--role", "progres"])
    assert result.exit_code == 1
    assert "réservée à PostgreSQL" in result.output and "déclencheurs" in result.output
