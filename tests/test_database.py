"""SQLite is set up as STACK-NOTES.md measured it must be (else updates are silently lost)."""

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.helpers import logged_in_client


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30000
        assert pragma("synchronous") == 1  # NORMAL


def test_foreign_keys_are_enforced(app):
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.execute(
            text(
                "INSERT INTO membership (user_id, contract_id, side, role, created_at) "
                "VALUES (999, 999, 'acheteur', 'referent', CURRENT_TIMESTAMP)"
            )
        )
        db.session.flush()
    db.session.rollback()


def _sqlite_only():
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")


def _write_now(app) -> None:
    """Another request's write, on a connection of its own, that may not wait for the lock."""
    from sqlalchemy import create_engine

    other = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with other.connect() as connection:
        connection.exec_driver_sql("PRAGMA busy_timeout=0")
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        connection.exec_driver_sql("UPDATE user_account SET locale = 'en' WHERE id = 1")
        connection.exec_driver_sql("COMMIT")
    other.dispose()


def test_a_read_request_leaves_the_write_lock_to_writers(app, world):
    """A page being read (GET) holds a deferred transaction: another request writes at once,
    where it used to wait for the whole page to render (« database is locked » under load)."""
    _sqlite_only()
    db.session.commit()
    with app.test_request_context("/", method="GET"):
        app.preprocess_request()  # the request's own hooks, as when it is served
        db.session.execute(text("SELECT count(*) FROM contract")).scalar()  # the read is open
        _write_now(app)
        db.session.rollback()


def test_a_write_request_takes_the_write_lock_first(app, world):
    from sqlalchemy.exc import OperationalError

    _sqlite_only()
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        app.preprocess_request()
        db.session.execute(text("SELECT count(*) FROM contract")).scalar()
        with pytest.raises(OperationalError, match="locked"):
            _write_now(app)
        db.session.rollback()


def test_a_write_in_a_read_request_must_say_so(app, world):
    from app.database import WriteInReadTransaction, writing

    db.session.commit()
    update = text("UPDATE user_account SET locale = 'fr' WHERE id = :id")
    with app.test_request_context("/", method="GET"):
        app.preprocess_request()
        with pytest.raises(WriteInReadTransaction):
            db.session.execute(update, {"id": world.buyer_lead.id})
        db.session.rollback()
        with writing():  # its own immediate transaction, committed
            db.session.execute(update, {"id": world.buyer_lead.id})
    assert db.session.execute(text("SELECT locale FROM user_account WHERE id = :id"),
                              {"id": world.buyer_lead.id}).scalar() == "fr"  # fmt: skip


def _postgresql_only():
    if db.engine.dialect.driver != "psycopg":
        pytest.skip("PostgreSQL only")


def _prepared_statements() -> int:
    with db.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT count(*) FROM pg_prepared_statements").scalar()


def test_postgresql_keeps_its_prepared_statements_after_a_read(app, world):
    """psycopg prepares a query after 5 runs but forgets them all at a ROLLBACK: a transaction
    that only read ends with COMMIT, so the pages' queries stay prepared between requests."""
    _postgresql_only()
    client, page = logged_in_client(app, world.buyer_lead), f"/contrats/{world.contract.id}/plan/"
    db.session.close()
    db.engine.dispose()  # from now on, one connection: the requests' then this test's
    for _ in range(7):
        assert client.get(page).status_code == 200
    assert _prepared_statements() >= 3  # the session, the membership, the plan's versions


def test_postgresql_keeps_them_after_a_transaction_that_only_read(app, world):
    """Outside a read request (a write request refused before it wrote, a job), a transaction
    that only ran SELECTs ends with COMMIT, not ROLLBACK: its connection keeps what it prepared."""
    _postgresql_only()
    db.session.close()
    db.engine.dispose()  # one connection, which the count below reads too
    for _ in range(7):
        assert db.session.execute(text("SELECT count(*) FROM contract")).scalar() >= 1
        db.session.rollback()
    assert _prepared_statements() >= 1


def test_postgresql_still_rolls_back_what_was_written(app, world):
    _postgresql_only()
    contract = world.contract
    before = contract.object
    db.session.execute(text("SELECT 1"))
    db.session.execute(
        text("UPDATE contract SET object = 'jamais enregistré' WHERE id = :id"), {"id": contract.id}
    )
    db.session.rollback()
    with db.engine.connect() as connection:
        title = connection.execute(
            text("SELECT object FROM contract WHERE id = :id"), {"id": contract.id}
        ).scalar()
    assert title == before != "jamais enregistré"
    # A failed transaction is rolled back too (a COMMIT would refuse), and the session goes on.
    with pytest.raises(Exception):  # noqa: B017 (the driver's own error type)
        db.session.execute(text("SELECT 1 / 0"))
    db.session.rollback()
    assert db.session.execute(text("SELECT 2")).scalar() == 2


def _in_transaction() -> bool:
    from psycopg.pq import TransactionStatus

    dbapi_connection = db.session.connection().connection.dbapi_connection
    return dbapi_connection.info.transaction_status != TransactionStatus.IDLE


def test_postgresql_reads_a_page_without_a_transaction(app, world):
    """A read request's statements run in autocommit (no BEGIN, no COMMIT: two round trips
    of a page's 6 to 10); a write request, and a write inside a read, take a transaction."""
    from app.database import writing

    _postgresql_only()
    locale = text("SELECT locale FROM user_account WHERE id = :id")
    person = {"id": world.buyer_lead.id}
    db.session.commit()  # then a request's first statement begins its transaction, or not
    with app.test_request_context("/", method="GET"):
        app.preprocess_request()
        before = db.session.execute(locale, person).scalar()
        assert not _in_transaction()
        with writing():
            db.session.execute(text("UPDATE user_account SET locale = 'xx' WHERE id = :id"), person)
            assert _in_transaction()
            db.session.rollback()  # a transaction: nothing of it stays
        assert db.session.execute(locale, person).scalar() == before != "xx"
        assert not _in_transaction()
    db.session.remove()
    with app.test_request_context("/", method="POST"):
        app.preprocess_request()
        db.session.execute(locale, person).scalar()
        assert _in_transaction()
        db.session.rollback()
