"""Engine settings per database (STACK-NOTES « SQLite done right »)."""

import contextvars
import functools
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from flask import g, has_app_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("progres.database")

READ_METHODS = ("GET", "HEAD")
_writing = contextvars.ContextVar("progres_writing", default=False)
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


T = TypeVar("T")


def built_once(build: Callable[..., T]) -> Callable[..., T]:
    """A hot query's statement, built once (once per value of its arguments, for a statement
    with variants) with `bindparam()` for what varies, then run with its values: SQLAlchemy
    builds a new SELECT and computes its cache key at every call of a query written inline,
    0.1 to 0.4 ms a query (more than running it on SQLite; bench/), and every page runs the
    session's, the membership's and the bell's. Built at its first use, once every model is
    imported."""
    return functools.cache(build)


class WriteInReadTransaction(RuntimeError):
    """A read request wrote outside `writing()` (raised in tests, logged in production)."""


def configure_engine(engine: Engine, *, strict_reads: bool = False) -> None:
    _mark_reads(engine)  # first: the listeners below read its mark
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.driver == "psycopg":
        _keep_prepared_statements(engine)
        _reads_without_transaction(engine)
    _refuse_writes_in_reads(engine, strict_reads)


def _mark_reads(engine: Engine) -> None:
    """Each transaction knows, from its beginning, whether it is a read request's."""

    @event.listens_for(engine, "begin")
    def mark(connection):
        connection.info["reading"] = is_read_request()


def is_read_request() -> bool:
    """Inside the dispatch of a GET or HEAD (not in a test's bare request context, where
    services write freely), outside `writing()`."""
    return has_app_context() and g.get("read_request", False) and not _writing.get()


def mark_read_requests(app) -> None:
    """Before any other hook (the session check reads the database first): a GET or HEAD is a
    read request."""

    def mark() -> None:
        g.read_request = request.method in READ_METHODS

    app.before_request_funcs.setdefault(None, []).insert(0, mark)


@contextmanager
def writing() -> Iterator[None]:
    """A write inside a read request (a session's last activity, an API token's last use):
    the read ends first and the write takes a transaction of its own (on SQLite with the write
    lock from its first statement; on PostgreSQL where the read ran in autocommit). Commits on
    exit."""
    from app.extensions import db

    db.session.commit()
    token = _writing.set(True)
    try:
        yield
        db.session.commit()
    finally:
        _writing.reset(token)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout, and two kinds of transactions: a read request (GET, HEAD) takes a
    deferred one, so readers never queue behind each other nor behind a writer (WAL lets them
    read the last commit); everything else takes BEGIN IMMEDIATE, the write lock first, so a
    read-then-write never loses a race. Before, every request took the write lock and 70
    people at once got « database is locked » (bench/RESULTS.md)."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        # 30 s, not 5: SQLite's busy handler is no queue, and under 20 editors a save could
        # wait over 5 s for the write lock and answer 500 (tests/security/test_no_lost_update).
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN" if connection.info["reading"] else "BEGIN IMMEDIATE")


def _reads_without_transaction(engine: Engine) -> None:
    """A read request's statements run in autocommit on PostgreSQL: no BEGIN before them nor
    COMMIT after, two of the 6 to 10 round trips of a page (0.5–0.8 ms a page, bench/). Under
    READ COMMITTED, PostgreSQL's default, each statement of a transaction reads a snapshot of
    its own anyway: a page reads what it read in a transaction. `writing()` ends this and
    its writes take a transaction (is_read_request() is false there): each begin sets the
    connection's mode afresh, while it is idle."""

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        reading = connection.info["reading"]
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.autocommit != reading:
            dbapi_connection.autocommit = reading


def _refuse_writes_in_reads(engine: Engine, strict: bool) -> None:
    """A read request's transaction is not made for writes (on SQLite a deferred one fails with
    « database is locked » as soon as another request wrote since it began; on PostgreSQL each
    statement would commit alone): a write belongs in `writing()`. Refused in tests, logged in
    production."""

    @event.listens_for(engine, "before_cursor_execute")
    def refuse_writes_in_reads(connection, _cursor, statement, *_args):
        if connection.info.get("reading") and _WRITE.match(statement):
            if strict:
                raise WriteInReadTransaction(
                    f"écriture dans une requête de lecture : {statement[:80]}"
                )
            log.warning("database.write_in_read_request statement=%s", statement[:80])


def _keep_prepared_statements(engine: Engine) -> None:
    """psycopg prepares a statement on the server after its 5th run on a connection (planning
    is half of a small query's 0.6 ms here), but forgets all of them at every ROLLBACK, and
    SQLAlchemy ends every transaction it did not commit with one: a read request has none
    (_reads_without_transaction), but a write request refused before it wrote (a form with
    errors, a 403) or a job that only read would drop them all. A transaction that only ran
    SELECTs ends with COMMIT instead, which for it is the same thing; any other statement (a write, a savepoint, a SET), or a failed transaction, keeps
    the ROLLBACK. (A column's type changed by a migration while workers run can fail one
    prepared query: restart the workers after migrating, as for any deployment.)"""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.info["selects_only"] = True

    @event.listens_for(engine, "before_cursor_execute")
    def note_statement(connection, _cursor, statement, *_args):
        if not statement.lstrip()[:7].upper().startswith("SELECT "):
            connection.info["selects_only"] = False

    @event.listens_for(engine, "rollback")
    def commit_reads(connection):
        dbapi_connection = connection.connection.dbapi_connection
        if (
            connection.info.pop("selects_only", False)
            and dbapi_connection.info.transaction_status == TransactionStatus.INTRANS
        ):
            dbapi_connection.commit()  # then SQLAlchemy's rollback finds nothing to end


def flush_or_conflict(message: str) -> None:
    """Write the pending changes now: a row changed since it was read (its version moved,
    SQLAlchemy's StaleDataError), or inserted meanwhile by someone else (a unique key taken:
    two first values of one period at the same moment), is a lost race, answered as a 409 with
    `message`, never a 500."""
    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    from app.errors import Conflict
    from app.extensions import db

    try:
        db.session.flush()
    except StaleDataError as error:
        db.session.rollback()
        raise Conflict(message) from error
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
        db.session.rollback()
        raise Conflict(message) from error


def is_unique_violation(error) -> bool:
    """PostgreSQL's SQLSTATE 23505, SQLite's « UNIQUE constraint failed »."""
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)
