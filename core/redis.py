"""Redis: the real server from REDIS_URL, or fakeredis in-process when it is unset.

Sessions, locks, rate limits, de-duplication and the access-token cache all live here, so that
several workers and instances share them. fakeredis is shared by the whole process (one
FakeServer), which is what a single `make run` process needs.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis

from settings import Settings

_fake_server: Any = None


def make_redis(settings: Settings) -> aioredis.Redis:
    if settings.redis_url:
        return aioredis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_connect_timeout=1.0,
            socket_timeout=1.0,
            health_check_interval=30,
        )
    import fakeredis

    global _fake_server
    if _fake_server is None:
        _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeAsyncRedis(server=_fake_server, decode_responses=True)
