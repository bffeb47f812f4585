"""A PostgreSQL database's rows kept in memory and put back: what a copied SQLite file does for
the suites that prepare data once (the security stage, the browser tests' demo)."""

from __future__ import annotations

from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Connection, Engine


class TableRows:
    """Every row of every table but `alembic_version`, and each table's id sequence."""

    def __init__(self, engine: Engine):
        metadata = MetaData()
        metadata.reflect(bind=engine)
        self.tables = [t for _, t in sorted(metadata.tables.items()) if t.name != "alembic_version"]
        with engine.connect() as connection:
            self.rows = {
                t.name: [dict(r._mapping) for r in connection.execute(select(t))]
                for t in self.tables
            }
            self.sequences = [
                (sequence, table.name, column.name)
                for table in self.tables
                for column in table.primary_key.columns
                if (sequence := _serial_sequence(connection, table.name, column.name))
            ]

    def restore(self, engine: Engine, only: set[str] | None = None) -> None:
        """Put the rows back in the tables (those in `only`, or all), whatever is there now."""
        with engine.begin() as connection:
            # Test set-up only: replica mode skips the audit trail's append-only triggers and
            # the foreign keys, so the order of the tables does not matter.
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in self.tables:
                if only is None or table.name in only:
                    connection.execute(table.delete())
                    if self.rows[table.name]:
                        connection.execute(table.insert(), self.rows[table.name])
            for sequence, table, column in self.sequences:
                if only is None or table in only:  # the next id follows the restored rows
                    connection.execute(
                        text(
                            f"SELECT setval('{sequence}', COALESCE((SELECT MAX(\"{column}\") "
                            f'FROM "{table}"), 0) + 1, false)'
                        )
                    )


def _serial_sequence(connection: Connection, table: str, column: str) -> str | None:
    return connection.scalar(
        text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}
    )
