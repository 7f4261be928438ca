"""The outbox worker (stub; the full worker replaces it)."""

from __future__ import annotations

import asyncio
from typing import Any

from settings import Settings


class OutboxWorker:
    def __init__(self, settings: Settings, redis: Any, wechat: Any) -> None:
        self.settings = settings
        self._stopping = False

    def stop(self) -> None:
        self._stopping = True

    async def run_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(1)


async def run_standalone_worker(settings: Settings) -> None:
    raise NotImplementedError
