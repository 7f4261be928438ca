"""Async client of WeChat's HTTP API (stub; the full client replaces it)."""

from __future__ import annotations

from typing import Any

import httpx

from settings import Settings


class WeChatAPI:
    def __init__(self, settings: Settings, redis: Any) -> None:
        self.settings = settings
        self.redis = redis
        self.http = httpx.AsyncClient(base_url=settings.wechat_api_base, timeout=5.0)

    async def aclose(self) -> None:
        await self.http.aclose()
