"""Health and metrics: `/healthz` for load balancers, `/metrics` for Prometheus, and the
count of every response by route and status."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text
from tortoise import connections
from tortoise.functions import Count

from core import metrics
from models.outbox import OutboxMessage, OutboxStatus

log = logging.getLogger("wuye.health")

bp = Blueprint("health")

# A health check must answer before the load balancer's own timeout gives up on it.
CHECK_TIMEOUT = 2.0
BACKLOG_STATUSES = (OutboxStatus.PENDING, OutboxStatus.SENDING)


async def _database_ok() -> bool:
    try:
        await asyncio.wait_for(connections.get("default").execute_query("SELECT 1"),
                               CHECK_TIMEOUT)
    except Exception:  # the health boundary: any failure means "database down"
        log.warning("health check: database failed", exc_info=True)
        return False
    return True


async def _redis_ok(redis: Any) -> bool:
    try:
        await asyncio.wait_for(redis.ping(), CHECK_TIMEOUT)
    except Exception:  # the health boundary: any failure means "redis down"
        log.warning("health check: redis failed", exc_info=True)
        return False
    return True


@bp.get("/healthz")
async def healthz(request: Request) -> HTTPResponse:
    database, redis = await asyncio.gather(_database_ok(), _redis_ok(request.app.ctx.redis))
    checks = {"database": "ok" if database else "down", "redis": "ok" if redis else "down"}
    if database and redis:
        return json({"ok": True, "checks": checks})
    failing = [name for name, state in checks.items() if state != "ok"]
    return json({"ok": False, "checks": checks, "failing": failing,
                 "message": "服务暂不可用：" + "、".join(failing) + " 无法连接"}, status=503)


async def outbox_backlog() -> dict[str, int]:
    rows = await (OutboxMessage.filter(status__in=list(BACKLOG_STATUSES))
                  .annotate(n=Count("id")).group_by("status").values("status", "n"))
    counts = {status.value: 0 for status in BACKLOG_STATUSES}
    for row in rows:
        counts[str(row["status"])] = int(row["n"])
    return counts


@bp.get("/metrics")
async def metrics_page(request: Request) -> HTTPResponse:
    body = metrics.render(await outbox_backlog())
    return text(body, content_type="text/plain; version=0.0.4; charset=utf-8")


# A signal, unlike blueprint middleware, sees every response of the app (error pages and
# unmatched paths included), so one place counts them all.
@bp.signal("http.lifecycle.response")
async def count_response(request: Request, response: HTTPResponse) -> None:
    route = "/" + request.route.path.lstrip("/") if request.route else "<unmatched>"
    metrics.count_request(route, response.status)
