"""Async client of WeChat's HTTP API (api.weixin.qq.com, or the sandbox in development).

The access token is cached in Redis so every worker and instance shares one: WeChat allows a
limited number of token calls a day, and a new token invalidates the old one after a short grace
period, so processes refreshing independently would keep knocking each other's tokens out. One
process refreshes at a time (a Redis lock); the others wait for the new token. A call refused
with an invalid/expired token (40001, 40014, 42001) refreshes once and is retried once: never a
loop. Every call has a timeout; network failures raise `WeChatNetworkError`, which callers
retry, and WeChat's refusals raise `WeChatAPIError` with its errcode.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx

from bot import redis_lock
from settings import Settings

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
# Connections to WeChat: the outbox worker's sends in flight (SEND_CONCURRENCY) and room for
# OAuth and the like, all kept open. Every request and every response makes httpcore walk all
# its connections (an idle one costs a socket poll, and a count over all of them), so a few
# busy connections are cheaper than many: 50 in flight cost more than twice the CPU per
# request of 16. With httpx's default of 20 kept open, each burst of 50 sends closed 30
# connections and opened them again on the next (for the sandbox too: it accepted them).
MAX_CONNECTIONS = 32
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
OAUTH_CODE_ERRORS = frozenset({40029, 40163})  # invalid code, code already used
# Refresh a little before WeChat's expiry so a token never dies in the middle of a call.
TOKEN_EARLY_SECONDS = 300
TOKEN_LOCK_MS = 15_000
TOKEN_WAIT_SECONDS = 15.0
TOKEN_POLL_SECONDS = 0.05

# httpx logs every request URL at INFO, and WeChat's URLs carry the access token or the app
# secret in the query string: secrets are never logged.
logging.getLogger("httpx").setLevel(logging.WARNING)


class WeChatAPIError(Exception):
    """WeChat answered with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class OAuthCodeError(WeChatAPIError):
    """The OAuth code is invalid (40029) or was already used (40163): start OAuth again."""


class WeChatNetworkError(Exception):
    """WeChat could not be reached in time, or answered with something that is not its JSON.
    Always worth retrying later."""


class WeChatAPI:
    def __init__(self, settings: Settings, redis: Any, *,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.settings = settings
        self.redis = redis
        limits = httpx.Limits(max_connections=MAX_CONNECTIONS,
                              max_keepalive_connections=MAX_CONNECTIONS)
        self.http = httpx.AsyncClient(base_url=settings.wechat_api_base, timeout=timeout,
                                      limits=limits)
        self.token_key = f"wechat:access_token:{settings.wechat_appid}"
        self.token_lock_key = f"wechat:access_token_lock:{settings.wechat_appid}"

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- the API -------------------------------------------------------------------------------
    async def send_template(self, openid: str, template_id: str, data: dict[str, Any],
                            url: str = "", client_msg_id: str = "") -> int:
        """Send a template message; WeChat's msgid (its delivery report names it)."""
        body: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        answer = await self._call("POST", "/cgi-bin/message/template/send", body=body)
        return int(answer.get("msgid") or 0)

    async def send_custom_text(self, openid: str, text: str) -> None:
        await self._call("POST", "/cgi-bin/message/custom/send",
                         body={"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/menu/create", body=menu)

    async def user_info(self, openid: str) -> dict[str, Any]:
        return await self._call("GET", "/cgi-bin/user/info",
                                params={"openid": openid, "lang": "zh_CN"})

    async def oauth_exchange_code(self, code: str) -> dict[str, Any]:
        """Exchange an OAuth `code` for the user's openid (snsapi_base). The answer carries
        `openid` and, for a user looking at a snapshot page, `is_snapshotuser` = 1."""
        params = {"appid": self.settings.wechat_appid, "secret": self.settings.wechat_secret,
                  "code": code, "grant_type": "authorization_code"}
        try:
            return await self._request("GET", "/sns/oauth2/access_token", params=params)
        except WeChatAPIError as exc:
            if exc.errcode in OAUTH_CODE_ERRORS:
                raise OAuthCodeError(exc.errcode, exc.errmsg) from None
            raise

    # -- access token ----------------------------------------------------------------------------
    async def access_token(self) -> str:
        token: str | None = await self.redis.get(self.token_key)
        return token or await self.refresh_token(stale=None)

    async def refresh_token(self, stale: str | None) -> str:
        """A token newer than `stale`: fetched by whoever takes the lock, awaited by the rest."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TOKEN_WAIT_SECONDS
        while True:
            current: str | None = await self.redis.get(self.token_key)
            if current and current != stale:
                return current
            async with redis_lock.held(self.redis, self.token_lock_key, TOKEN_LOCK_MS) as got:
                if got:
                    # Another process may have refreshed between our read and the lock.
                    current = await self.redis.get(self.token_key)
                    if current and current != stale:
                        return current
                    return await self._fetch_token()
            if loop.time() > deadline:
                raise WeChatNetworkError("timed out waiting for another worker's token refresh")
            await asyncio.sleep(TOKEN_POLL_SECONDS)

    async def _fetch_token(self) -> str:
        answer = await self._request("GET", "/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": self.settings.wechat_appid,
            "secret": self.settings.wechat_secret})
        token = str(answer["access_token"])
        ttl = max(int(answer.get("expires_in", 7200)) - TOKEN_EARLY_SECONDS, 60)
        await self.redis.set(self.token_key, token, ex=ttl)
        log.info("WeChat access token refreshed (valid %s s)", ttl)
        return token

    async def forget_token(self) -> None:
        """Drop the cached token, as its expiry would."""
        await self.redis.delete(self.token_key)

    # -- transport -------------------------------------------------------------------------------
    async def _call(self, method: str, path: str, *, params: dict[str, str] | None = None,
                    body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A call with the access token: on a token error, one refresh and one retry."""
        token = await self.access_token()
        try:
            return await self._request(method, path, params={**(params or {}),
                                                             "access_token": token}, body=body)
        except WeChatAPIError as exc:
            if exc.errcode not in TOKEN_ERRORS:
                raise
            log.info("WeChat refused the access token (%s); refreshing once", exc.errcode)
        token = await self.refresh_token(stale=token)
        return await self._request(method, path, params={**(params or {}),
                                                         "access_token": token}, body=body)

    async def _request(self, method: str, path: str, *, params: dict[str, str],
                       body: dict[str, Any] | None = None) -> dict[str, Any]:
        # WeChat shows \u escapes literally in menus and messages: send real UTF-8.
        content = json.dumps(body, ensure_ascii=False).encode() if body is not None else None
        headers = {"Content-Type": "application/json; charset=utf-8"} if content else None
        try:
            response = await self.http.request(method, path, params=params, content=content,
                                               headers=headers)
        except httpx.TimeoutException as exc:
            raise WeChatNetworkError(f"{path}: timed out") from exc
        except httpx.TransportError as exc:
            raise WeChatNetworkError(f"{path}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise WeChatNetworkError(f"{path}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise WeChatNetworkError(f"{path}: answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise WeChatNetworkError(f"{path}: answer is not a JSON object")
        errcode = int(answer.get("errcode") or 0)
        if errcode:
            raise WeChatAPIError(errcode, str(answer.get("errmsg", "")))
        return answer
