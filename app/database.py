"""Engine settings per database (STACK-NOTES « SQLite done right »)."""

from sqlalchemy import event
from sqlalchemy.engine import Engine


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and BEGIN IMMEDIATE: without them concurrent read-then-write
    requests silently lose updates or fail with « database is locked »."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def flush_or_conflict(message: str) -> None:
    """Write the pending changes now: a row changed since it was read (its version moved,
    SQLAlchemy's StaleDataError) is a lost race, answered as a 409 with `message`, never a 500."""
    from sqlalchemy.orm.exc import StaleDataError

    from app.errors import Conflict
    from app.extensions import db

    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(message) from error
