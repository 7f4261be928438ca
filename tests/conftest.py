"""Test fixtures: a real database and Redis, and the app served over real HTTP.

`make test` runs on the embedded defaults (a SQLite file, fakeredis); with DATABASE_URL and
REDIS_URL set (as .ci/run does) the same tests run on PostgreSQL and Redis. Each run creates its
own PostgreSQL database and drops it at the end; every test starts from empty tables and an
empty Redis database. The sandbox plays WeChat, over HTTP, inside the served app.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ViewportSize
from sanic import Sanic
from tortoise import Tortoise, connections

from actions import clock
from bot.wechat_api import WeChatAPI
from core.db import close_db, init_db, tortoise_config
from core.redis import make_redis
from server import create_app
from settings import Settings

Sanic.test_mode = True

FIXTURES = Path(__file__).parent / "fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_env(tmp: Path) -> dict[str, str]:
    env = {"SANDBOX": "1", "DATA_DIR": str(tmp), "RUN_WORKER": "0"}
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


async def _create_pg_database(url: str) -> tuple[str, str]:
    """A fresh database on the server of `url`; returns (new url, admin url)."""
    import asyncpg

    name = f"wuye_test_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}", url


async def _drop_pg_database(test_url: str, admin_url: str) -> None:
    import asyncpg

    name = test_url.rpartition("/")[2]
    admin = await asyncpg.connect(admin_url.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def tmp_data() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="wuye-test-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
async def base_settings(tmp_data: Path) -> AsyncIterator[Settings]:
    env = _base_env(tmp_data)
    url = os.environ.get("DATABASE_URL", "")
    admin_url = ""
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgres://" + url.split("://", 1)[1]
        url, admin_url = await _create_pg_database(url)
        env["DATABASE_URL"] = url
    else:
        env["DATABASE_URL"] = f"sqlite://{tmp_data / 'test.sqlite3'}"
    settings = Settings.from_env(env)
    await init_db(settings)
    await Tortoise.generate_schemas()
    yield settings
    await close_db()
    if admin_url:
        await _drop_pg_database(url, admin_url)


def _tables() -> list[str]:
    return [model._meta.db_table for app in Tortoise.apps.values() for model in app.values()]


@pytest.fixture(autouse=True)
async def clean_state(base_settings: Settings) -> AsyncIterator[None]:
    """Every test starts from empty tables, an empty Redis and the real clock."""
    yield
    clock.reset()
    conn = connections.get("default")
    tables = _tables()
    if conn.capabilities.dialect == "postgres":
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        await conn.execute_script("PRAGMA foreign_keys = OFF;" + "".join(
            f'DELETE FROM "{t}";' for t in tables) + "PRAGMA foreign_keys = ON;")
    redis = make_redis(base_settings)
    await redis.flushdb()
    await redis.aclose()


@dataclass
class LiveServer:
    """The app served on a real port, with the sandbox as WeChat."""

    app: Sanic
    settings: Settings
    base_url: str

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base_url, timeout=10.0, **kwargs)

    @property
    def redis(self) -> Any:
        return self.app.ctx.redis


async def start_live(settings: Settings, app: Sanic | None = None) -> tuple[LiveServer, Any]:
    """Serve `app` (built from `settings` when not given, e.g. with test-only routes added)."""
    app = app if app is not None else create_app(settings)
    server = await app.create_server(host="127.0.0.1", port=settings.port,
                                     return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    return LiveServer(app, settings, settings.public_base_url), server


async def stop_live(server: Any) -> None:
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


def live_settings(base: Settings, **overrides: Any) -> Settings:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    values: dict[str, Any] = {"port": port, "public_base_url": public,
                              "wechat_api_base": f"{public}/sandbox",
                              "wechat_oauth_base": f"{public}/sandbox"}
    values.update(overrides)
    return base.with_overrides(**values)


@pytest.fixture
async def live(base_settings: Settings) -> AsyncIterator[LiveServer]:
    """The app on a free port, sandbox mounted, outbox worker off (tests drive it)."""
    server_info, server = await start_live(live_settings(base_settings))
    yield server_info
    await stop_live(server)


@pytest.fixture
async def demo(base_settings: Settings) -> None:
    """The demo data (named enterprises, people, projects, officers)."""
    from demo_data.load import load_demo

    await load_demo(base_settings)


def tortoise_test_config(settings: Settings) -> dict[str, Any]:
    return tortoise_config(settings)


@pytest.fixture
async def demo_people(demo: None) -> None:
    """The demo data without the demo notices, for tests that count and number notices."""
    from models.notices import Notice, NoticeReceipt, NoticeReply

    await NoticeReply.all().delete()
    await NoticeReceipt.all().delete()
    await Notice.all().delete()


# Phone-size screen of the browser tests (tests/browser, marker `browser`).
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's headless Chromium (never a downloaded browser), for the `browser` tests."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"])
        yield chromium
        await chromium.close()


@pytest.fixture
async def wechat(live: LiveServer) -> AsyncIterator[WeChatAPI]:
    """The product's WeChat API client, talking to the live server's sandbox."""
    api = WeChatAPI(live.settings, live.redis)
    yield api
    await api.aclose()
