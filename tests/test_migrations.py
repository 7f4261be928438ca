"""The migrations under `migrations/` build exactly the schema the models describe."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_GENERATE = """
import asyncio
from tortoise import Tortoise
from core.db import close_db, init_db
from settings import Settings

async def main():
    await init_db(Settings.from_env({"SANDBOX": "1", "DATA_DIR": %r}))
    await Tortoise.generate_schemas()
    await close_db()

asyncio.run(main())
"""


def _schema(db: Path) -> dict[str, set[str]]:
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'tortoise_migrations'")]
        return {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}


def test_migrate_builds_the_models_schema(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    migrated, generated = tmp_path / "migrated", tmp_path / "generated"
    subprocess.run([sys.executable, "server.py", "migrate"], cwd=ROOT, check=True,
                   env={**env, "SANDBOX": "1", "DATA_DIR": str(migrated)}, capture_output=True)
    subprocess.run([sys.executable, "-c", _GENERATE % str(generated)], cwd=ROOT, check=True,
                   env=env, capture_output=True)
    from_migrations = _schema(migrated / "wuye.sqlite3")
    from_models = _schema(generated / "wuye.sqlite3")
    assert from_migrations == from_models, "run `make migrations` after changing a model"
