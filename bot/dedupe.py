"""Retry de-duplication: WeChat redelivers a callback it got no answer to (three tries in all).

The first delivery of a message claims its key (MsgId; FromUserName + CreateTime + Event for
events) and, once its handler has finished, stores the reply it got. A retry finds the key and
gets that same reply, without running the handler again; while the first delivery is still
running (or went past the deadline and answered `success`) a retry is answered `success`.

Redis holds the keys. When Redis cannot be reached, the `callback_receipt` table's unique key
does the same job, so the callback still answers each message once. Receipts are transport
bookkeeping like the Redis keys, not a business change: they carry no audit entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError
from tortoise.exceptions import IntegrityError

from models.callbacks import CallbackReceipt

log = logging.getLogger("wuye.callback")

PENDING = "p"
# A claim outlives the handler's deadline; a stored reply outlives WeChat's retries (~15 s).
PENDING_TTL = 60
REPLY_TTL = 600
REPLAY_TTL_WITHOUT_TOLERANCE = 24 * 3600
_PREFIX = "wx:dedupe:"


def encode_reply(reply: str | None) -> str:
    """`s` for a bare `success`, `t:<text>` for a text reply."""
    return "s" if reply is None else "t:" + reply


def decode_reply(stored: str) -> str | None:
    return stored[2:] if stored.startswith("t:") else None


def message_key(fields: dict[str, Any]) -> str:
    """MsgId for messages; FromUserName + CreateTime + Event (+ MsgID) for events.

    A template delivery report carries the template's MsgID: two reports to one user in the
    same second are different events.
    """
    if fields.get("MsgType", "").lower() != "event" and fields.get("MsgId"):
        return f"msg:{fields['MsgId']}"
    parts = ["ev", fields["FromUserName"], fields["CreateTime"], str(fields.get("Event", ""))]
    if fields.get("MsgID"):
        parts.append(fields["MsgID"])
    return ":".join(parts)


@dataclass
class Claim:
    """The outcome of claiming a key: first delivery, or a retry with what it should get."""

    key: str
    first: bool
    finished: bool = False  # a retry of a delivery whose reply is stored
    reply: str | None = None  # that stored reply (None: `success`)
    in_database: bool = False  # Redis was down: the receipt row holds the claim


class Deduplicator:
    def __init__(self, redis: Any, replay_ttl: int) -> None:
        self.redis = redis
        self.replay_ttl = replay_ttl or REPLAY_TTL_WITHOUT_TOLERANCE

    async def admit(self, triple: str, key: str) -> Claim | None:
        """None for a replayed (timestamp, nonce, signature) triple; else the message's claim.

        One Redis round trip of two commands: `SET … NX GET` (Redis 7) claims the message key
        and answers what it held before, in one step; a MULTI/EXEC of SET and GET cost the
        busiest path twice the client work (`make bench`). When the triple is a replay, a claim
        it happened to make is given back (its body is not to be trusted).
        """
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(_PREFIX + "replay:" + triple, "1", nx=True, ex=self.replay_ttl)
                pipe.set(_PREFIX + key, PENDING, nx=True, get=True, ex=PENDING_TTL)
                fresh_triple, stored = await pipe.execute()
            created = stored is None
            if not fresh_triple:
                if created:
                    await self.redis.delete(_PREFIX + key)
                return None
        except RedisError:
            log.warning("redis unreachable: de-duplicating %s in the database", key)
            return await self._admit_in_database(triple, key)
        if created:
            return Claim(key, first=True)
        return _retry(key, stored)

    async def remember(self, claim: Claim, reply: str | None) -> None:
        """Store the reply the first delivery got, for its retries."""
        value = encode_reply(reply)
        if claim.in_database:
            await CallbackReceipt.filter(dedupe_key=claim.key).update(reply=value)
            return
        try:
            await self.redis.set(_PREFIX + claim.key, value, ex=REPLY_TTL)
        except RedisError:
            # The claim stays pending until it expires: a retry meanwhile gets `success`.
            log.warning("redis unreachable: reply of %s not stored", claim.key)

    async def _admit_in_database(self, triple: str, key: str) -> Claim | None:
        if not await self._insert_receipt("replay:" + triple, encode_reply(None)):
            return None
        if await self._insert_receipt(key, None):
            return Claim(key, first=True, in_database=True)
        receipt = await CallbackReceipt.filter(dedupe_key=key).first()
        return _retry(key, receipt.reply if receipt else None)

    @staticmethod
    async def _insert_receipt(key: str, reply: str | None) -> bool:
        try:
            await CallbackReceipt.create(dedupe_key=key, reply=reply)
        except IntegrityError:
            return False
        return True


def _retry(key: str, stored: str | None) -> Claim:
    if stored is None or stored == PENDING:
        return Claim(key, first=False)
    return Claim(key, first=False, finished=True, reply=decode_reply(stored))
