"""Server-side sessions in Redis, and CSRF tokens bound to them.

One store serves both kinds of session: the WeChat users' (`/h5`, `/auth`) and the officers'
(`/console`), each with its own cookie name and key prefix. The cookie carries only a random
id (256 bits); everything else stays in Redis. Each session is indexed under its owner
("person:12", "officer:3") so that every session of a person can be revoked at once.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from actions import clock
from settings import Settings


@dataclass
class Session:
    sid: str
    owner: str  # "person:12", "officer:3", or "" for a pre-binding session
    data: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0

    @property
    def csrf_token(self) -> str:
        return str(self.data.get("csrf", ""))


@dataclass(frozen=True)
class SessionKind:
    prefix: str  # Redis key prefix, e.g. "sess:h5"
    cookie: str  # cookie name without the __Host- prefix
    idle_seconds: int
    absolute_seconds: int


# A session's last-seen time is rewritten at most this often (seconds), not on every request.
_SEEN_GRANULARITY = 60.0

H5_SESSIONS = SessionKind("sess:h5", "wuye_sid", idle_seconds=2 * 3600,
                          absolute_seconds=7 * 24 * 3600)
CONSOLE_SESSIONS = SessionKind("sess:console", "wuye_console", idle_seconds=30 * 60,
                               absolute_seconds=12 * 3600)


class SessionStore:
    def __init__(self, redis: Any, settings: Settings, kind: SessionKind) -> None:
        self.redis = redis
        self.settings = settings
        self.kind = kind

    @property
    def cookie_name(self) -> str:
        # __Host- cookies must be Secure, path=/ and without a domain: only over https.
        return ("__Host-" if self.settings.https else "") + self.kind.cookie

    def _key(self, sid: str) -> str:
        return f"{self.kind.prefix}:{sid}"

    def _owner_key(self, owner: str) -> str:
        return f"{self.kind.prefix}:owner:{owner}"

    async def create(self, owner: str, data: dict[str, Any] | None = None) -> Session:
        """A new session with a fresh id (a new id on every sign-in or bind)."""
        sid = secrets.token_urlsafe(32)
        now = clock.now().timestamp()
        payload = dict(data or {})
        payload.setdefault("csrf", secrets.token_urlsafe(32))
        record = {"owner": owner, "data": payload, "created_at": now, "seen_at": now}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(sid), json.dumps(record), ex=self.kind.idle_seconds)
            if owner:
                pipe.sadd(self._owner_key(owner), sid)
                pipe.expire(self._owner_key(owner), self.kind.absolute_seconds)
            await pipe.execute()
        return Session(sid, owner, payload, now)

    async def load(self, sid: str | None) -> Session | None:
        """The live session of `sid`, renewing its idle expiry; None when expired or revoked."""
        if not sid or len(sid) > 100:
            return None
        raw = await self.redis.get(self._key(sid))
        if raw is None:
            return None
        record = json.loads(raw)
        created = float(record["created_at"])
        seen = float(record.get("seen_at", created))
        # Expiry is judged on the business clock too (Redis TTLs only collect the garbage),
        # so that idle and absolute limits hold on every instance and tests can move time.
        now = clock.now().timestamp()
        if (now - created > self.kind.absolute_seconds
                or now - seen > self.kind.idle_seconds):
            await self.destroy(sid)
            return None
        session = Session(sid, record["owner"], record["data"], created)
        if now - seen >= _SEEN_GRANULARITY:
            await self._write(session, seen_at=now)
        else:
            await self.redis.expire(self._key(sid), self.kind.idle_seconds)
        return session

    async def save(self, session: Session) -> None:
        await self._write(session, seen_at=clock.now().timestamp())

    async def _write(self, session: Session, *, seen_at: float) -> None:
        record = {"owner": session.owner, "data": session.data,
                  "created_at": session.created_at, "seen_at": seen_at}
        # xx: never resurrect a session revoked between its load and this write.
        await self.redis.set(self._key(session.sid), json.dumps(record),
                             ex=self.kind.idle_seconds, xx=True)

    async def destroy(self, sid: str) -> None:
        raw = await self.redis.get(self._key(sid))
        await self.redis.delete(self._key(sid))
        if raw:
            owner = json.loads(raw).get("owner")
            if owner:
                await self.redis.srem(self._owner_key(owner), sid)

    async def revoke_owner(self, owner: str) -> int:
        """End every session of an owner (unbind, deregistration, unsubscribe)."""
        sids = await self.redis.smembers(self._owner_key(owner))
        keys = [self._key(s) for s in sids]
        if keys:
            await self.redis.delete(*keys)
        await self.redis.delete(self._owner_key(owner))
        return len(keys)

    def set_cookie(self, response: HTTPResponse, session: Session) -> None:
        # Session cookie (no max_age): closing WeChat's browser ends it on the client too.
        response.add_cookie(
            self.kind.cookie, session.sid, path="/", httponly=True, samesite="Lax",
            secure=self.settings.https, host_prefix=self.settings.https)

    def clear_cookie(self, response: HTTPResponse) -> None:
        response.delete_cookie(self.kind.cookie, path="/", host_prefix=self.settings.https)

    def sid_from(self, request: Request) -> str | None:
        return request.cookies.get(self.cookie_name)


def csrf_ok(request: Request, session: Session | None) -> bool:
    """The form field `csrf_token` or the `X-CSRF-Token` header must match the session's."""
    if session is None or not session.csrf_token:
        return False
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = request.form if request.content_type.startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")) else None
        sent = form.get("csrf_token") if form else None
    return bool(sent) and hmac.compare_digest(str(sent), session.csrf_token)
