"""Limits on failed attempts (binding, mobile changes): at most 5 failures per 15 minutes for
each subject (an openid, a mobile), counted in Redis on the business clock."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from actions import clock

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60
SHANGHAI = timezone(timedelta(hours=8))


class FailureLimiter:
    def __init__(self, redis: Any, scope: str) -> None:
        self.redis = redis
        self.scope = scope

    def _key(self, subject: str) -> str:
        return f"limit:{self.scope}:{subject}"

    async def _recent(self, subject: str) -> list[float]:
        now = clock.now().timestamp()
        key = self._key(subject)
        await self.redis.zremrangebyscore(key, "-inf", now - WINDOW_SECONDS)
        return [float(score) for _, score in
                await self.redis.zrange(key, 0, -1, withscores=True)]

    async def blocked_until(self, *subjects: str) -> datetime | None:
        """When the latest-freed subject may try again, or None when none is blocked."""
        until: datetime | None = None
        for subject in subjects:
            recent = sorted(await self._recent(subject))
            if len(recent) >= MAX_FAILURES:
                # Free again when enough of the failures have left the window.
                free_at = datetime.fromtimestamp(
                    recent[len(recent) - MAX_FAILURES] + WINDOW_SECONDS, UTC)
                until = free_at if until is None else max(until, free_at)
        return until

    async def fail(self, *subjects: str) -> None:
        now = clock.now().timestamp()
        for subject in subjects:
            key = self._key(subject)
            await self.redis.zadd(key, {f"{now}:{secrets.token_hex(4)}": now})
            await self.redis.expire(key, WINDOW_SECONDS * 2)


def retry_message(until: datetime) -> str:
    # Rounded up to the minute, so that "after HH:MM" is never too early.
    local = until.astimezone(SHANGHAI)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return f"尝试次数过多，请于{local:%H:%M}后再试。"
