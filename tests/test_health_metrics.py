"""`/healthz` for the load balancer and `/metrics` for Prometheus."""

from __future__ import annotations

import re

from tortoise.transactions import in_transaction

from actions.outbox import enqueue_template, enqueue_text
from conftest import LiveServer, live_settings, start_live, stop_live
from core import metrics
from settings import Settings


def _sample(body: str, name: str, **labels: str) -> float:
    """The value of one series in a Prometheus text body; 0 when absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in body.splitlines():
        if line.startswith(f"{name}{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_report_health_ok(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"ok": True, "checks": {"database": "ok", "redis": "ok"}}


async def test_report_health_redis_down(base_settings: Settings) -> None:
    info, server = await start_live(live_settings(base_settings,
                                                  redis_url="redis://127.0.0.1:1/0"))
    try:
        async with info.client() as c:
            r = await c.get("/healthz")
    finally:
        await stop_live(server)
    assert r.status_code == 503
    body = r.json()
    assert body["ok"] is False
    assert body["checks"] == {"database": "ok", "redis": "down"}
    assert body["failing"] == ["redis"]


async def test_report_metrics_request_counts(live: LiveServer) -> None:
    async with live.client() as c:
        before = (await c.get("/metrics")).text
        await c.get("/healthz")
        await c.get("/h5/no-such-page")
        r = await c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE wuye_http_requests_total counter" in r.text
    for labels in ({"route": "/healthz", "status": "200"},
                   {"route": "<unmatched>", "status": "404"}):
        assert (_sample(r.text, "wuye_http_requests_total", **labels)
                == _sample(before, "wuye_http_requests_total", **labels) + 1)


async def test_report_metrics_outbox_backlog(live: LiveServer) -> None:
    async with in_transaction() as conn:
        for n in range(3):
            await enqueue_template(conn, openid=f"oBacklog{n}", template_key="NOTICE_NEW",
                                   values={"thing1": "汛期安全检查", "thing2": "市物业管理中心",
                                           "phrase3": "需回复", "time4": "2026-11-27"})
        await enqueue_text(conn, openid="oBacklog9", text="您的回复已收到。")
    async with live.client() as c:
        r = await c.get("/metrics")
    assert "# TYPE wuye_outbox_backlog gauge" in r.text
    assert _sample(r.text, "wuye_outbox_backlog", status="pending") == 4
    assert _sample(r.text, "wuye_outbox_backlog", status="sending") == 0


async def test_report_metrics_callback_latency_and_outbox_outcomes(live: LiveServer) -> None:
    async with live.client() as c:
        before = (await c.get("/metrics")).text
        metrics.observe_callback(0.03, "reply")
        metrics.observe_callback(4.5, "deadline")
        metrics.count_outbox("sent")
        r = await c.get("/metrics")
    text = r.text
    assert "# TYPE wuye_callback_seconds histogram" in text

    def delta(name: str, **labels: str) -> float:
        return _sample(text, name, **labels) - _sample(before, name, **labels)

    assert delta("wuye_callback_seconds_bucket", outcome="reply", le="0.025") == 0
    assert delta("wuye_callback_seconds_bucket", outcome="reply", le="0.05") == 1
    assert delta("wuye_callback_seconds_bucket", outcome="deadline", le="4") == 0
    assert delta("wuye_callback_seconds_bucket", outcome="deadline", le="5") == 1
    assert delta("wuye_callback_seconds_bucket", outcome="deadline", le="+Inf") == 1
    assert delta("wuye_callback_seconds_count", outcome="reply") == 1
    assert delta("wuye_outbox_outcomes_total", outcome="sent") == 1
    assert re.search(r'^wuye_callback_seconds_sum\{outcome="deadline"\} [0-9.]+$', text, re.M)


async def test_report_metrics_callback_refused_by_the_real_callback(live: LiveServer) -> None:
    async with live.client() as c:
        before = (await c.get("/metrics")).text
        refused = await c.get("/wechat", params={"signature": "0" * 40, "timestamp": "1",
                                                  "nonce": "1", "echostr": "hello"})
        after = (await c.get("/metrics")).text
    assert refused.status_code == 403
    count = "wuye_callback_seconds_count"
    assert (_sample(after, count, outcome="rejected")
            == _sample(before, count, outcome="rejected") + 1)
    assert (_sample(after, "wuye_http_requests_total", route="/wechat", status="403")
            == _sample(before, "wuye_http_requests_total", route="/wechat", status="403") + 1)
