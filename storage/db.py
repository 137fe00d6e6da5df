"""Engines, sessions and migrations for SQLite (the embedded default) and PostgreSQL (the scale path)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session, create_engine

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"


class DatabaseError(Exception):
    """The database cannot be used as it is (unreachable, or its schema is behind)."""


def make_engine(url: str) -> Engine:
    """An engine with the settings each backend needs: WAL and a busy timeout on SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy control transactions, so BEGIN IMMEDIATE below is what starts them.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection) -> None:  # type: ignore[no-untyped-def]
    # Taking the write lock up front avoids "database is locked" on a later lock upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations up to `revision`; returns the revision the database is now at."""
    command.upgrade(_alembic_config(engine), revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()  # type: ignore[arg-type]


def require_current(engine: Engine) -> None:
    """Refuse to run on a schema that is missing or behind, with the command that fixes it."""
    try:
        current = current_revision(engine)
    except Exception as exc:  # noqa: BLE001 - any driver error means "cannot use this database"
        raise DatabaseError(f"cannot open the database: {exc}") from None
    if current != head_revision():
        raise DatabaseError(
            f"the database schema is at {current or 'nothing'}, expected {head_revision()}: "
            "run `learnbot db upgrade` first"
        )


def insert_ignore(session: Session, model: type, rows: Sequence[dict[str, Any]], conflict: list[str]) -> int:
    """Insert rows, skipping any whose `conflict` columns already exist; returns how many were new."""
    if not rows:
        return 0
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    key = next(iter(table.primary_key.columns))
    statement = insert(table).on_conflict_do_nothing(index_elements=conflict).returning(key)
    if len(rows) == 1:
        return len(connection.execute(statement, dict(rows[0])).all())
    return len(connection.execute(statement, list(rows)).all())
