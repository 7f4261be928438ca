"""The database: tortoise configuration, start-up and migrations.

SQLite (aiosqlite) by default, PostgreSQL (asyncpg) when DATABASE_URL says so. Every model
module is listed once, in `models.MODEL_MODULES`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asyncpg import Connection as AsyncpgConnection
from tortoise import Tortoise, connections
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate as run_migrations

from models import MODEL_MODULES
from settings import Settings

APP_LABEL = "models"


class PooledConnection(AsyncpgConnection):
    """A PostgreSQL connection that goes back to the pool without asyncpg's reset query
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`). tortoise takes a pool
    connection for every statement outside a transaction, so the reset doubled the round trips
    of the busiest paths (a fan-out's outcome and delivery-report UPDATEs) and took a quarter
    of PostgreSQL's CPU in `make bench`, undoing session state this product never sets: no
    SET, LISTEN, advisory locks or cursors (locks live in Redis). A transaction left open is
    still rolled back on release."""

    def get_reset_query(self) -> str:
        return ""


def tortoise_config(settings: Settings) -> dict[str, Any]:
    url = settings.database_url
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite://"):
        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    connection: str | dict[str, Any] = url
    if url.startswith("postgres://"):
        connection = expand_db_url(url)
        connection["credentials"]["connection_class"] = PooledConnection
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": list(MODEL_MODULES),
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "Asia/Shanghai",
    }


def is_postgres(settings: Settings) -> bool:
    return settings.database_url.startswith(("postgres://", "postgresql://"))


async def init_db(settings: Settings) -> None:
    """Open the connections once per process; later calls with the app started are no-ops."""
    if Tortoise.is_inited():
        return
    # Global: tortoise 1.x keeps its state in a contextvar, and Sanic serves requests from
    # tasks that do not inherit the context of the listener that opened the database.
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def close_db() -> None:
    if Tortoise.is_inited():
        await Tortoise.close_connections()
        await Tortoise._reset_apps()


async def migrate(settings: Settings) -> None:
    """Apply the migrations under `migrations/` (tortoise's built-in migration engine)."""
    try:
        await run_migrations(config=tortoise_config(settings))
    finally:
        # Also on failure: aiosqlite's thread would otherwise keep the process alive.
        await close_db()


def dialect() -> str:
    return connections.get("default").capabilities.dialect


class QueryCounter(logging.Handler):
    """Counts the statements tortoise logs as it sends them."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@contextmanager
def count_queries() -> Iterator[QueryCounter]:
    """The number of SQL statements issued inside the block (the tests and `make bench` hold
    pages to a fixed number)."""
    logger = logging.getLogger("tortoise.db_client")
    counter = QueryCounter()
    level = logger.level
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)


def __getattr__(name: str) -> Any:
    """`core.db.TORTOISE_ORM` for tortoise's command line (`make migrations`), computed on use
    rather than at import time."""
    if name == "TORTOISE_ORM":
        import os

        return tortoise_config(Settings.from_env({"SANDBOX": "1", **os.environ}))
    raise AttributeError(name)
