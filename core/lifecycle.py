"""Start-up and shut-down of an app process: database, Redis, WeChat client, outbox worker."""

from __future__ import annotations

import asyncio
import contextlib
import gc

from sanic import Sanic
from tortoise import Tortoise

from core.db import close_db, init_db
from core.pages import make_environment
from core.redis import make_redis
from settings import Settings


def register_lifecycle(app: Sanic, settings: Settings) -> None:
    @app.before_server_start
    async def start(app: Sanic) -> None:
        from bot.outbox_worker import OutboxWorker
        from bot.wechat_api import WeChatAPI

        # Tests open the database once for the whole run; the app then leaves it open.
        app.ctx.owns_db = not Tortoise.is_inited()
        await init_db(settings)
        app.ctx.redis = make_redis(settings)
        app.ctx.jinja = make_environment()
        app.ctx.wechat = WeChatAPI(settings, app.ctx.redis)
        app.ctx.background = set()
        app.ctx.worker_task = None
        if settings.run_worker:
            app.ctx.worker = OutboxWorker(settings, app.ctx.redis, app.ctx.wechat)
            app.ctx.worker_task = asyncio.create_task(app.ctx.worker.run_forever())
        # Everything loaded so far (modules, models, templates) lives as long as the process:
        # kept out of the collector's full passes, which otherwise walk it all and stall every
        # request in flight (the callback's p99 under load, `make bench`).
        gc.freeze()

    @app.after_server_stop
    async def stop(app: Sanic) -> None:
        task = app.ctx.worker_task
        if task is not None:
            app.ctx.worker.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for pending in list(app.ctx.background):
            pending.cancel()
        await app.ctx.wechat.aclose()
        await app.ctx.redis.aclose()
        if app.ctx.owns_db:
            await close_db()
