"""The parts of `make bench`: callback, pages, fan-out. Each run is one wrk load (or one
city-wide notice) against one server; `bench.__main__` interleaves them, round by round."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.callback_requests import Line, callback_lines, text_xml
from bench.citydata import BENCH_OFFICER, openid_of
from bench.load import LoadResult, run_wrk, write_requests
from bench.procstat import cpu_seconds
from bench.servers import Running
from core.db import count_queries
from sandbox.wechat_client import WeChatSide
from settings import Settings

PROJECT_PAGES = 25  # 500 projects, 20 a page
FANOUT_FAULT_EVERY = 50  # 2% of template sends fail once (WeChat's -1, system busy)
FANOUT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Measured:
    """One wrk run against one server."""

    load: LoadResult
    cpu_us: float  # server CPU per request
    built: int  # distinct requests written for it

    @property
    def wrapped(self) -> bool:
        """wrk ran out of distinct requests and sent some again."""
        return self.load.requests > self.built


def measure(running: Running, lines: list[Line], seconds: float) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.tsv"
        write_requests(path, lines)
        before = cpu_seconds(running.pid)
        load = run_wrk(running.base_url, path, seconds=seconds)
        used = cpu_seconds(running.pid) - before
    return Measured(load, used / load.requests * 1e6 if load.requests else 0.0, len(lines))


# -- callback ------------------------------------------------------------------------------------

def bench_openids(enterprises: int) -> list[str]:
    return [openid_of(e) for e in range(1, enterprises + 1)]


def callback_load(running: Running, settings: Settings, openids: list[str],
                  contents: Iterator[str], count: int, seconds: float) -> Measured:
    return measure(running, callback_lines(settings, openids, contents, count), seconds)


def check_callback(base_url: str, settings: Settings, openid: str, content: str,
                   expected: str) -> None:
    """One request before the load: the product must answer it, not just say `success`."""
    side = WeChatSide(settings)
    signed = side.request(text_xml(openid, content, int(time.time() * 1000) % 10**12))
    answer = httpx.post(f"{base_url}/wechat", params=signed.params, content=signed.body.encode(),
                        headers={"Content-Type": "text/xml"}, timeout=10.0)
    reply = side.open_reply(answer.text)
    if answer.status_code != 200 or expected not in reply:
        raise SystemExit(f"callback answered {content!r} with {answer.status_code} "
                         f"{reply[:200]!r}; expected {expected!r}")


# -- pages ---------------------------------------------------------------------------------------

async def leader_cookie(redis: Any, settings: Settings) -> str:
    """A session of enterprise 1's leader, as the OAuth sign-in would leave it."""
    from auth_binding.access import session_owner
    from core.sessions import H5_SESSIONS, SessionStore

    store = SessionStore(redis, settings, H5_SESSIONS)
    session = await store.create(session_owner(1), {"openid": openid_of(1)})
    return f"{store.cookie_name}={session.sid}"


def page_lines(path: str, cookie: str) -> list[Line]:
    headers = {"Cookie": cookie}
    if path == "/h5/projects":
        return [("GET", f"{path}?page={p}", headers, "") for p in range(1, PROJECT_PAGES + 1)]
    return [("GET", path, headers, ""), ("GET", f"{path}?page=2", headers, "")]


def check_page(base_url: str, path: str, cookie: str, expected: str) -> None:
    answer = httpx.get(base_url + path, headers={"Cookie": cookie}, timeout=10.0)
    if answer.status_code != 200 or expected not in answer.text:
        raise SystemExit(f"{path} answered {answer.status_code}; expected a page with "
                         f"{expected!r}")


async def queries_per_page(settings: Settings, redis: Any, port: int,
                           paths: list[str]) -> dict[str, int]:
    """Database queries of one request to each page, counted on tortoise's query log in an
    instrumented copy of the app served by this process (sessions and rows are shared)."""
    from sanic import Sanic

    from server import create_app

    Sanic.test_mode = True  # a second app in this process
    local = settings.with_overrides(port=port, public_base_url=f"http://127.0.0.1:{port}",
                                    run_worker=False)
    app = create_app(local)
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    assert server is not None
    await server.startup()
    await server.before_start()
    await server.after_start()
    cookie = await leader_cookie(redis, local)
    counts: dict[str, int] = {}
    try:
        async with httpx.AsyncClient(base_url=local.public_base_url, timeout=10.0) as http:
            for path in paths:
                await http.get(path, headers={"Cookie": cookie})  # warm: numbers given once
                with count_queries() as counter:
                    answer = await http.get(path, headers={"Cookie": cookie})
                answer.raise_for_status()
                counts[path] = counter.count
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
    return counts


# -- fan-out -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FanOut:
    recipients: int
    publish_s: float
    delivered_s: float  # from the start of publishing to the last message in a sandbox inbox
    lost: int
    doubled: int
    faults: int
    statuses: dict[str, int]


async def _queue_faults(base_url: str, sends: int) -> int:
    """Make 2% of the next `sends` template sends fail once, spread evenly over the first five
    sixths of them. The sandbox fails sends in the order they come, whichever message they
    carry; a retry goes out only once every first send has been claimed (the worker takes the
    earliest due first), so with the last sixth clean no retry meets a failure meant for a
    first send, even with several workers' batches in flight: every message fails at most
    once (a second failure would wait 30 s and measure the backoff, not the delivery)."""
    faults = sends // FANOUT_FAULT_EVERY
    every = sends * 5 // 6 // faults if faults else 0
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
        await http.delete("/sandbox/api/faults")
        for _ in range(faults):
            for errcode, count in ((0, every - 1), (-1, 1)):
                answer = await http.post("/sandbox/api/faults", json={
                    "endpoint": "template_send", "errcode": errcode, "count": count,
                    "errmsg": "system error" if errcode else ""})
                answer.raise_for_status()
    return faults


async def fan_out(wechat: Running, settings: Settings, redis: Any, round_no: int,
                  enterprises: int) -> FanOut:
    """A city-wide notice through the publish action; the worker of the server under test
    delivers it to the sandbox (`wechat`), whose inboxes are counted."""
    from actions.notices import NoticeDraft, do_publish_notice
    from models.notices import Audience
    from models.officers import Officer
    from models.outbox import OutboxMessage, OutboxStatus
    from sandbox.state import PREFIX

    faults = await _queue_faults(wechat.base_url, enterprises)
    officer = await Officer.get(username=BENCH_OFFICER)
    draft = NoticeDraft(title=f"压测第{round_no}轮全市通知", content="请各企业知悉。",
                        reply_required=False, deadline=None, audience=Audience.ALL)
    wall_start = time.time()
    started = time.perf_counter()
    notice = await do_publish_notice(settings, officer, draft)
    publish_s = time.perf_counter() - started
    rows = OutboxMessage.filter(subject_type="notice", subject_id=notice.id)
    recipients = await rows.count()
    final = (OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.NOT_FOLLOWING)
    deadline = time.perf_counter() + FANOUT_TIMEOUT
    while time.perf_counter() < deadline:
        if not await rows.exclude(status__in=final).exists():
            break
        await asyncio.sleep(0.05)
    statuses: dict[str, int] = {}
    for status in OutboxStatus:
        statuses[status.value] = await rows.filter(status=status).count()
    async with httpx.AsyncClient(base_url=wechat.base_url) as http:
        await http.delete("/sandbox/api/faults")
    received: dict[str, int] = {}
    last = wall_start
    async with redis.pipeline(transaction=False) as pipe:
        openids = [openid_of(e) for e in range(1, enterprises + 1)]
        for openid in openids:
            pipe.lrange(f"{PREFIX}:inbox:{openid}", 0, -1)
        inboxes = await pipe.execute()
    for openid, inbox in zip(openids, inboxes, strict=True):
        for raw in inbox:
            message = json.loads(raw)
            if message.get("type") == "template" and message.get("url") == notice.link:
                received[openid] = received.get(openid, 0) + 1
                last = max(last, float(message["received_at"]))
    lost = sum(1 for o in openids if o not in received)
    doubled = sum(1 for n in received.values() if n > 1)
    return FanOut(recipients, publish_s, last - wall_start, lost, doubled, faults, statuses)

