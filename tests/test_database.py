"""SQLite is set up as STACK-NOTES.md measured it must be (else updates are silently lost)."""

import pytest
from sqlalchemy import text

from app.extensions import db


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 5000
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
