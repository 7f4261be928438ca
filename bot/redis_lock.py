"""A Redis lock shared by every worker and instance, released only by its holder.

`SET key token NX PX ttl` takes it; the release deletes the key only while it still holds our
token (WATCH/MULTI compare-and-delete), so a holder whose lock expired never frees a lock that
another worker has taken since. WATCH works on real Redis and on fakeredis alike (fakeredis needs
an extra Lua package for EVAL).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.exceptions import WatchError


async def acquire(redis: Any, key: str, ttl_ms: int) -> str | None:
    """The lock's token when we got it, else None (someone else holds it)."""
    token = secrets.token_hex(16)
    if await redis.set(key, token, nx=True, px=ttl_ms):
        return token
    return None


async def release(redis: Any, key: str, token: str) -> bool:
    """Delete the lock if it is still ours; False when it expired or passed to another."""
    async with redis.pipeline(transaction=True) as pipe:
        try:
            await pipe.watch(key)
            if await pipe.get(key) != token:
                await pipe.unwatch()
                return False
            pipe.multi()
            pipe.delete(key)
            await pipe.execute()
        except WatchError:  # the key changed hands between GET and EXEC: not ours to delete
            return False
    return True


@asynccontextmanager
async def held(redis: Any, key: str, ttl_ms: int) -> AsyncIterator[bool]:
    """`async with held(...) as got:` runs the body either way; `got` says whether we hold it."""
    token = await acquire(redis, key, ttl_ms)
    try:
        yield token is not None
    finally:
        if token is not None:
            await release(redis, key, token)
