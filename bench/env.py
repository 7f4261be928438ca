"""Where the bench keeps its data, and the settings every process of it shares.

Embedded defaults: a SQLite file under `data/bench/` and a fakeredis server over TCP (fakeredis
in-process would be invisible to the bench's own process, which creates sessions and reads the
sandbox's inboxes). With DATABASE_URL the bench makes a database of its own on that PostgreSQL
server (`wuye_bench`, dropped and created again; never the database named in the URL); with
REDIS_URL it uses that Redis database and EMPTIES it, so give it one of its own.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from bench.servers import ROOT, free_ports
from settings import Settings

# BENCH_DB names another, so that two runs on one server keep out of each other's way.
BENCH_DB = os.environ.get("BENCH_DB", "wuye_bench")
DATA_DIR = ROOT / "data" / "bench"


@dataclass(frozen=True)
class BenchEnv:
    database_url: str
    redis_url: str
    data_dir: Path

    @property
    def postgres(self) -> bool:
        return self.database_url.startswith("postgres://")

    def server_env(self, port: int, wechat_port: int, *,
                   run_worker: bool = True) -> dict[str, str]:
        """The product server, its outbox worker on unless `python server.py worker` processes
        run beside it (the same settings serve them); WeChat played by the sandbox process on
        `wechat_port` (a process of its own, as WeChat is: its work is not the product's)."""
        wechat = f"http://127.0.0.1:{wechat_port}/sandbox"
        return {"SANDBOX": "1", "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                "DATA_DIR": str(self.data_dir), "HOST": "127.0.0.1", "PORT": str(port),
                "WORKERS": "1", "RUN_WORKER": "1" if run_worker else "0",
                "WECHAT_API_BASE": wechat, "WECHAT_OAUTH_BASE": wechat}

    def wechat_env(self, port: int, product_port: int) -> dict[str, str]:
        """The fake WeChat: the same app with the sandbox, answering after 20 ms like WeChat,
        posting its delivery reports to the product's callback."""
        return {"SANDBOX": "1", "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
                "DATA_DIR": str(self.data_dir), "HOST": "127.0.0.1", "PORT": str(port),
                "WORKERS": "1", "RUN_WORKER": "0", "SANDBOX_LATENCY_MS": "20",
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{product_port}"}

    def settings(self, port: int, wechat_port: int) -> Settings:
        return Settings.from_env(self.server_env(port, wechat_port))


async def _recreate_pg(url: str) -> str:
    import asyncpg

    admin = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BENCH_DB}"')
    finally:
        await admin.close()
    return f"{url.rpartition('/')[0]}/{BENCH_DB}"


@contextmanager
def _fake_redis_server() -> Iterator[str]:
    from fakeredis import TcpFakeServer

    [port] = free_ports(1)
    server = TcpFakeServer(("127.0.0.1", port), server_type="redis")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def bench_env() -> Iterator[BenchEnv]:
    """A fresh, empty bench database and Redis for one `make bench` run."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        database_url = asyncio.run(_recreate_pg("postgres://" + url.split("://", 1)[1]))
    else:
        sqlite = DATA_DIR / f"{BENCH_DB}.sqlite3"
        for stale in DATA_DIR.glob(f"{BENCH_DB}.sqlite3*"):
            stale.unlink()
        database_url = f"sqlite://{sqlite}"
    if os.environ.get("REDIS_URL"):
        # Sessions, de-duplication keys and the sandbox's inboxes of an earlier run would
        # change what this one measures (WeChat drops a repeated client_msg_id, for one).
        redis_url = os.environ["REDIS_URL"]
        client = redis.Redis.from_url(redis_url)
        try:
            client.flushdb()
        finally:
            client.close()
        yield BenchEnv(database_url, redis_url, DATA_DIR)
        return
    with _fake_redis_server() as redis_url:
        yield BenchEnv(database_url, redis_url, DATA_DIR)
