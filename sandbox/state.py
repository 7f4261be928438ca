"""What the fake WeChat remembers, in Redis so that every worker process shares it.

- access tokens it issued (2 h life, like WeChat's; a test can expire them),
- the messages each openid received (template and customer-service), newest last,
- OAuth codes (single use, 5 minutes) mapping to an openid,
- SMS codes sent to each mobile (the sandbox SMS gateway records them here),
- injected faults: the next N calls of an endpoint answer an errcode or are delayed,
- the menu last uploaded.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

PREFIX = "sandbox"
TOKEN_TTL = 7200
CODE_TTL = 300
MESSAGES_KEPT = 200


@dataclass(frozen=True)
class Fault:
    errcode: int  # 0: no error, only the delay
    delay: float  # seconds before answering
    errmsg: str = ""


class SandboxState:
    def __init__(self, redis: Any) -> None:
        self.redis = redis

    # -- access tokens -------------------------------------------------------------------
    async def issue_token(self) -> str:
        token = "SBX_" + secrets.token_urlsafe(24)
        await self.redis.set(f"{PREFIX}:token:{token}", "1", ex=TOKEN_TTL)
        await self.redis.incr(f"{PREFIX}:token_calls")
        return token

    async def token_valid(self, token: str | None) -> bool:
        return bool(token) and bool(await self.redis.exists(f"{PREFIX}:token:{token}"))

    async def expire_all_tokens(self) -> None:
        async for key in self.redis.scan_iter(match=f"{PREFIX}:token:*"):
            await self.redis.delete(key)

    async def token_calls(self) -> int:
        return int(await self.redis.get(f"{PREFIX}:token_calls") or 0)

    # -- messages received by users ------------------------------------------------------
    async def record_message(self, openid: str, message: dict[str, Any]) -> None:
        message = {**message, "received_at": time.time()}
        key = f"{PREFIX}:inbox:{openid}"
        async with self.redis.pipeline(transaction=False) as pipe:  # one round trip
            pipe.rpush(key, json.dumps(message, ensure_ascii=False))
            pipe.ltrim(key, -MESSAGES_KEPT, -1)
            pipe.incr(f"{PREFIX}:sent_total")
            await pipe.execute()

    async def messages(self, openid: str) -> list[dict[str, Any]]:
        raw = await self.redis.lrange(f"{PREFIX}:inbox:{openid}", 0, -1)
        return [json.loads(r) for r in raw]

    async def record_chat(self, openid: str, item: dict[str, Any]) -> None:
        """The chat page's side of the conversation (what the user sent, the bot's passive
        replies): kept in the same inbox for order, but not counted as messages sent."""
        item = {**item, "received_at": time.time()}
        key = f"{PREFIX}:inbox:{openid}"
        await self.redis.rpush(key, json.dumps(item, ensure_ascii=False))
        await self.redis.ltrim(key, -MESSAGES_KEPT, -1)

    async def first_delivery(self, openid: str, delivery_key: str) -> bool:
        """True the first time a user message (MsgId or CreateTime+Event) is posted: a retry
        shows nothing new in the chat, as in WeChat."""
        return bool(await self.redis.set(f"{PREFIX}:delivered:{openid}:{delivery_key}", "1",
                                         nx=True, ex=600))

    async def seen_client_msg_id(self, openid: str, client_msg_id: str) -> bool:
        """WeChat drops a repeat client_msg_id for the same openid within 10 minutes."""
        if not client_msg_id:
            return False
        fresh = await self.redis.set(f"{PREFIX}:cmid:{openid}:{client_msg_id}", "1",
                                     nx=True, ex=600)
        return not fresh

    async def next_msgid(self) -> int:
        return int(await self.redis.incr(f"{PREFIX}:msgid")) + 1_000_000_000

    # -- OAuth codes -----------------------------------------------------------------------
    async def issue_code(self, openid: str, snapshot: bool = False) -> str:
        code = secrets.token_hex(16)
        await self.redis.set(f"{PREFIX}:code:{code}",
                             json.dumps({"openid": openid, "snapshot": snapshot}), ex=CODE_TTL)
        return code

    async def redeem_code(self, code: str) -> dict[str, Any] | None:
        """The code's owner, once: a second redemption finds nothing (WeChat's 40163)."""
        raw = await self.redis.getdel(f"{PREFIX}:code:{code}")
        return json.loads(raw) if raw else None

    # -- SMS ---------------------------------------------------------------------------------
    async def record_sms(self, mobile: str, text: str, code: str) -> None:
        await self.redis.set(f"{PREFIX}:sms:{mobile}",
                             json.dumps({"mobile": mobile, "text": text, "code": code,
                                         "sent_at": time.time()}, ensure_ascii=False),
                             ex=3600)

    async def last_sms(self, mobile: str) -> dict[str, Any] | None:
        raw = await self.redis.get(f"{PREFIX}:sms:{mobile}")
        return json.loads(raw) if raw else None

    # -- faults ------------------------------------------------------------------------------
    async def add_fault(self, endpoint: str, errcode: int, count: int = 1, delay: float = 0.0,
                        errmsg: str = "") -> None:
        key = f"{PREFIX}:faults:{endpoint}"
        fault = json.dumps({"errcode": errcode, "delay": delay, "errmsg": errmsg})
        await self.redis.rpush(key, *([fault] * count))

    async def take_fault(self, endpoint: str) -> Fault | None:
        raw = await self.redis.lpop(f"{PREFIX}:faults:{endpoint}")
        if raw is None:
            return None
        data = json.loads(raw)
        return Fault(int(data["errcode"]), float(data["delay"]), str(data.get("errmsg", "")))

    async def clear_faults(self) -> None:
        async for key in self.redis.scan_iter(match=f"{PREFIX}:faults:*"):
            await self.redis.delete(key)

    # -- menu ---------------------------------------------------------------------------------
    async def save_menu(self, menu: dict[str, Any]) -> None:
        await self.redis.set(f"{PREFIX}:menu", json.dumps(menu, ensure_ascii=False))

    async def menu(self) -> dict[str, Any] | None:
        raw = await self.redis.get(f"{PREFIX}:menu")
        return json.loads(raw) if raw else None
