"""SMS verification codes and the pluggable gateway that delivers them.

A code is 6 digits, lives 5 minutes, works once, and a mobile gets at most one code per 60
seconds. Codes are kept in Redis (shared by every worker) with their issue time on the business
clock, so expiry and cooldown hold the same way on every instance and in tests. A code is tied to
the purpose it was sent for and to the requester (an openid or a person), so a code sent for one
binding cannot complete another.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, Protocol

from sanic import Request

from actions import clock
from core.ids import is_valid_mobile
from sandbox.state import SandboxState
from settings import Settings

log = logging.getLogger("wuye.sms")

CODE_LIFE_SECONDS = 300
RESEND_COOLDOWN_SECONDS = 60


class SmsGateway(Protocol):
    """Delivers one text to one mobile. A real provider implements this and is chosen by
    `settings.sms_gateway`."""

    async def send(self, mobile: str, text: str, code: str) -> None: ...


class SandboxSmsGateway:
    """Records the text in the sandbox, whose pages show it (development, demos, tests)."""

    def __init__(self, redis: Any) -> None:
        self.state = SandboxState(redis)

    async def send(self, mobile: str, text: str, code: str) -> None:
        await self.state.record_sms(mobile, text, code)


class LoggingSmsGateway:
    """Development without the sandbox: logs that a code went out, never the code itself."""

    async def send(self, mobile: str, text: str, code: str) -> None:
        log.info("SMS code sent to %s****%s", mobile[:3], mobile[-4:])


async def sandbox_sms_text(request: Request, mobile: str) -> str:
    """In the sandbox, the last SMS the "phone" of `mobile` received, shown on the page that
    asked for it; "" outside the sandbox."""
    if not request.app.ctx.settings.sandbox or not is_valid_mobile(mobile):
        return ""
    sms = await SandboxState(request.app.ctx.redis).last_sms(mobile)
    return str(sms["text"]) if sms else ""


def make_gateway(settings: Settings, redis: Any) -> SmsGateway:
    if settings.sms_gateway == "sandbox":
        return SandboxSmsGateway(redis)
    if settings.sms_gateway == "log":
        return LoggingSmsGateway()
    raise ValueError(f"unknown SMS_GATEWAY {settings.sms_gateway!r}")


@dataclass(frozen=True)
class SendResult:
    sent: bool
    wait_seconds: int = 0  # when refused by the cooldown


class SmsCodes:
    def __init__(self, redis: Any, gateway: SmsGateway) -> None:
        self.redis = redis
        self.gateway = gateway

    @staticmethod
    def _key(purpose: str, mobile: str) -> str:
        return f"sms:code:{purpose}:{mobile}"

    async def send(self, *, mobile: str, purpose: str, requester: str) -> SendResult:
        """Send a fresh code unless one went to this mobile less than 60 seconds ago."""
        now = clock.now().timestamp()
        cooldown_key = f"sms:cooldown:{mobile}"
        last = await self.redis.get(cooldown_key)
        if last is not None and now - float(last) < RESEND_COOLDOWN_SECONDS:
            return SendResult(False, int(RESEND_COOLDOWN_SECONDS - (now - float(last))) + 1)
        await self.redis.set(cooldown_key, str(now), ex=RESEND_COOLDOWN_SECONDS * 10)
        code = f"{secrets.randbelow(1_000_000):06d}"
        record = {"code": code, "requester": requester, "issued_at": now}
        # The Redis TTL only collects the garbage; the life is judged on the business clock.
        await self.redis.set(self._key(purpose, mobile), json.dumps(record),
                             ex=CODE_LIFE_SECONDS * 10)
        text = f"【深圳物业】验证码{code}，5分钟内有效。如非本人操作，请忽略本短信。"
        await self.gateway.send(mobile, text, code)
        return SendResult(True)

    async def consume(self, *, mobile: str, purpose: str, requester: str, code: str) -> bool:
        """True once for the right, fresh code of this requester; the code is then spent."""
        key = self._key(purpose, mobile)
        raw = await self.redis.get(key)
        if raw is None:
            return False
        record = json.loads(raw)
        if clock.now().timestamp() - float(record["issued_at"]) > CODE_LIFE_SECONDS:
            await self.redis.delete(key)
            return False
        if record["requester"] != requester or not hmac.compare_digest(
                str(record["code"]), code.strip()):
            return False
        # Only the request that deletes the key spends the code: two at once, one wins.
        return bool(await self.redis.delete(key))
