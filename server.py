"""The application factory and the command line.

    python server.py [serve]      serve the app (and the outbox worker) on HOST:PORT
    python server.py migrate      apply the database migrations
    python server.py load-demo    load the demo data (idempotent)
    python server.py push-menu    check menu.json against WeChat's limits and upload it
    python server.py worker       run only the outbox worker and the schedules
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from functools import partial

from sanic import Blueprint, Sanic
from sanic.worker.loader import AppLoader

from settings import Settings

log = logging.getLogger("wuye")


def create_app(settings: Settings) -> Sanic:
    """Build the Sanic app from typed settings. Every blueprint is registered here, once."""
    from core.errors import register_error_pages
    from core.lifecycle import register_lifecycle

    # One fixed name: Sanic looks the app up by name in its worker processes.
    app = Sanic("wuye", strict_slashes=False)
    app.config.REQUEST_MAX_SIZE = max(settings.upload_max_bytes * 2, 1024 * 1024)
    app.config.KEEP_ALIVE_TIMEOUT = 15
    app.config.FALLBACK_ERROR_FORMAT = "html"
    app.ctx.settings = settings

    for blueprint in _blueprints():
        app.blueprint(blueprint)
    if settings.sandbox:
        from sandbox import bp as sandbox_bp

        app.blueprint(sandbox_bp)
    register_error_pages(app)
    register_lifecycle(app, settings)
    return app


def _blueprints() -> list[Blueprint]:
    """One blueprint per area, each registered here and nowhere else."""
    import auth_binding
    from bot import callback
    from console import auth as console_auth
    from console import funds as console_funds
    from console import notices as console_notices
    from console import reviews as console_reviews
    from console import safety as console_safety
    from core import health, static
    from h5_pages import (
        account,
        applications,
        funds,
        home,
        notices,
        permissions,
        projects,
        safety,
    )

    return [callback.bp, health.bp, static.bp, auth_binding.bp,
            home.bp, account.bp, permissions.bp, projects.bp, applications.bp, notices.bp,
            safety.bp, funds.bp,
            console_auth.bp, console_reviews.bp, console_notices.bp, console_safety.bp,
            console_funds.bp]


def _serve(settings: Settings) -> None:
    if settings.sandbox:
        base = settings.public_base_url
        print(f"\n  聊天 (sandbox chat):  {base}/sandbox/chat\n"
              f"  我的小区 (H5 pages):   {base}/h5/projects\n"
              f"  审核后台 (console):    {base}/console/\n", flush=True)
    if settings.workers == 1:
        # One process, no worker manager: what a pilot and `make run` need, and the lightest.
        app = create_app(settings)
        app.prepare(host=settings.host, port=settings.port, access_log=False,
                    single_process=True)
        Sanic.serve_single(primary=app)
        return
    loader = AppLoader(factory=partial(create_app, settings))
    app = loader.load()
    app.prepare(host=settings.host, port=settings.port, workers=settings.workers,
                access_log=False)
    Sanic.serve(primary=app, app_loader=loader)


async def _with_db(settings: Settings, job: str) -> None:
    from core.db import close_db, init_db, migrate

    if job == "migrate":
        await migrate(settings)
        print("migrations applied")
        return
    await init_db(settings)
    try:
        if job == "load-demo":
            from demo_data.load import load_demo

            summary = await load_demo(settings)
            print(summary)
        elif job == "push-menu":
            from bot.menu import push_menu

            await push_menu(settings)
        elif job == "worker":
            from bot.outbox_worker import run_standalone_worker

            await run_standalone_worker(settings)
    finally:
        await close_db()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="server.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="serve",
                        choices=["serve", "migrate", "load-demo", "push-menu", "worker"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in ("sanic.root", "sanic.error", "sanic.access", "sanic.server"):
        # Sanic's loggers have handlers of their own; without this each line is printed twice.
        logging.getLogger(name).propagate = False
    settings = Settings.from_env()
    if args.command == "serve":
        _serve(settings)
        return 0
    try:
        asyncio.run(_with_db(settings, args.command))
    except Exception as exc:  # the command line's boundary: say what failed, exit non-zero
        log.exception("%s failed", args.command)
        print(f"{args.command} failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
