"""Dialect-specific settings for SQLite and PostgreSQL: the one place where SQL that only one of
them speaks is allowed.

Everything else in the store speaks portable SQLAlchemy Core.
"""

from __future__ import annotations

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

SQLITE_BUSY_TIMEOUT_MS = 30_000
WRITE_OPTION = "vigil_write"
# Any fixed 64-bit number: the PostgreSQL advisory lock that lets one process migrate at a time.
MIGRATION_LOCK_KEY = 0x76_69_67_69_6C  # "vigil"
POSTGRES_DRIVER = "postgresql+psycopg"


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` URLs get the psycopg 3 driver, the one installed."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed.render_as_string(hide_password=False)


def configure(engine: Engine) -> None:
    """Per-connection settings: WAL, foreign keys and a busy timeout on SQLite."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        # Let SQLAlchemy's BEGIN reach sqlite3 so a batch is one real transaction.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The timeout first: switching a new file to WAL takes a lock another process may hold.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):
        # A writer takes the lock up front (IMMEDIATE), so two writers wait for each other
        # through busy_timeout instead of failing; readers stay deferred and never block.
        writing = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def lock_for_migration(conn: Connection) -> None:
    """Make processes that open the same new database migrate one after the other.

    SQLite's writers already queue (BEGIN IMMEDIATE); PostgreSQL takes a transaction-scoped
    advisory lock, released when the migration commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


def insert_new(conn: Connection, table: Table, *conflict_columns: str):
    """INSERT that skips a row whose `conflict_columns` are already taken (ON CONFLICT DO NOTHING),
    so two writers storing the same row at once neither fail nor duplicate it. The result's
    `rowcount` is 1 when the row went in, 0 when it was skipped."""
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[conn.dialect.name]
    targets = [table.c[c] for c in conflict_columns]
    # psycopg reports an INSERT's rowcount only when SQLAlchemy is asked to keep it.
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=targets)
        .execution_options(preserve_rowcount=True)
    )
