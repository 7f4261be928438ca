"""The outbox worker delivering through the sandbox over real HTTP: no message lost, none
delivered twice, whatever WeChat answers and wherever a worker dies; and the schedules."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from actions import clock
from actions.outbox import enqueue_template, enqueue_text
from bot import outbox_worker
from bot.outbox_worker import (
    BACKOFF_MAX_SECONDS,
    BATCH_SIZE,
    LEASE_SECONDS,
    MAX_ATTEMPTS,
    QUOTA_PAUSE_SECONDS,
    RECORD_LINGER_SECONDS,
    OutboxWorker,
    backoff,
)
from bot.schedules import ScheduledJob, run_due_jobs, run_job_if_due
from bot.wechat_api import WeChatAPI
from conftest import LiveServer
from demo_data.load import FOLLOWERS
from models.audit import AuditEntry
from models.outbox import OutboxMessage, OutboxStatus
from models.people import WeChatBinding
from sandbox.state import SandboxState
from sandbox.wechat_api import call_count

GUEST = "oDemo0NewFollowerGuest0000001"
PER_FOLLOWER = 9
NOTICE: dict[str, object] = {"thing1": "关于开展消防安全检查的通知", "thing2": "市物业中心",
                             "phrase3": "需回复", "time4": "2026-12-01 18:00"}


async def enqueue(openid: str = GUEST, count: int = 1) -> list[OutboxMessage]:
    async with in_transaction() as conn:
        return [await enqueue_template(conn, openid=openid, template_key="NOTICE_NEW",
                                       values=NOTICE, url="https://example.test/h5/notices")
                for _ in range(count)]


@pytest.fixture
def worker(live: LiveServer, wechat: WeChatAPI) -> OutboxWorker:
    return OutboxWorker(live.settings, live.redis, wechat)


@pytest.fixture
def sandbox(live: LiveServer) -> SandboxState:
    return SandboxState(live.redis)


async def drain(worker: OutboxWorker) -> int:
    handled = 0
    while n := await worker.run_once():
        handled += n
    return handled


async def test_deliver_outbox_messages_sent_once(worker: OutboxWorker,
                                                 sandbox: SandboxState) -> None:
    rows = await enqueue(count=3)
    assert await worker.run_once() == 3
    assert await worker.run_once() == 0
    received = await sandbox.messages(GUEST)
    assert sorted(m["client_msg_id"] for m in received) == sorted(str(r.id) for r in rows)
    for row in await OutboxMessage.all():
        assert (row.status, row.attempts, row.last_errcode) == (OutboxStatus.SENT, 1, 0)
        assert row.sent_at is not None
        assert row.wechat_msgid in {m["msgid"] for m in received}


async def test_deliver_outbox_delivery_report_recorded(worker: OutboxWorker) -> None:
    [row] = await enqueue()
    assert await worker.run_once() == 1
    # WeChat reports delivery a moment later, through the callback (TEMPLATESENDJOBFINISH).
    for _ in range(100):
        await row.refresh_from_db()
        if row.delivery_status:
            break
        await asyncio.sleep(0.05)
    assert (row.status, row.delivery_status) == (OutboxStatus.SENT, "success")


async def test_deliver_outbox_accepted_sends_recorded_together_without_waiting_for_batch(
        worker: OutboxWorker, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = await enqueue(count=5)
    writes: list[list[int]] = []
    record_sent = outbox_worker.record_sent

    async def counted(accepted: dict[int, int | None], claim: str) -> int:
        writes.append(sorted(accepted))
        return await record_sent(accepted, claim)

    monkeypatch.setattr(outbox_worker, "record_sent", counted)
    claim, _ = await worker.claim_batch()
    recorder = outbox_worker.SentRecorder(claim)
    for row in rows[:4]:
        recorder.sent(row.id, 7000 + row.id)
    # The batch's fifth send is still out: the four accepted are written anyway, in one
    # UPDATE, before WeChat's delivery reports about them come in.
    for _ in range(100):
        if await OutboxMessage.filter(status=OutboxStatus.SENT).count() == 4:
            break
        await asyncio.sleep(RECORD_LINGER_SECONDS)
    assert writes == [[r.id for r in rows[:4]]]
    recorder.sent(rows[4].id, None)  # a custom-service message: WeChat gives no msgid
    await recorder.close()
    assert writes == [[r.id for r in rows[:4]], [rows[4].id]]
    for row in await OutboxMessage.all():
        assert (row.status, row.attempts, row.wechat_msgid) == (
            OutboxStatus.SENT, 1, 7000 + row.id if row.id != rows[4].id else None)


async def test_deliver_outbox_lost_claim_records_nothing_for_that_row(
        worker: OutboxWorker, wechat: WeChatAPI, sandbox: SandboxState,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    rows = await enqueue(count=3)
    taken = rows[1]
    send = wechat.send_template

    async def stalled_past_the_lease(*args: Any, **kwargs: Any) -> int:
        # While this worker waits on WeChat, its lease on one row runs out and another worker
        # claims that row.
        await OutboxMessage.filter(id=taken.id).update(claimed_by="other:1:abc/1",
                                                       claimed_at=clock.now())
        return await send(*args, **kwargs)

    monkeypatch.setattr(wechat, "send_template", stalled_past_the_lease)
    assert await worker.run_once() == 3
    assert len(await sandbox.messages(GUEST)) == 3  # WeChat drops the other worker's repeat
    for row in await OutboxMessage.all():
        if row.id == taken.id:  # left as the other worker has it
            assert (row.status, row.claimed_by, row.attempts, row.wechat_msgid) == (
                OutboxStatus.SENDING, "other:1:abc/1", 0, None)
        else:
            assert (row.status, row.attempts) == (OutboxStatus.SENT, 1)
            assert row.wechat_msgid is not None
    assert f"outbox {taken.id}: claim" in caplog.text


async def test_deliver_outbox_custom_text(worker: OutboxWorker, sandbox: SandboxState) -> None:
    async with in_transaction() as conn:
        await enqueue_text(conn, openid=GUEST, text="处理完成：您的回复已记录。")
    assert await worker.run_once() == 1
    [received] = await sandbox.messages(GUEST)
    assert received["content"] == "处理完成：您的回复已记录。"
    assert (await OutboxMessage.get()).status == OutboxStatus.SENT


async def test_deliver_outbox_expired_token_refreshed(worker: OutboxWorker, wechat: WeChatAPI,
                                                      sandbox: SandboxState) -> None:
    await wechat.access_token()
    await sandbox.expire_all_tokens()
    await enqueue(count=2)
    assert await worker.run_once() == 2
    assert await sandbox.token_calls() == 2
    assert len(await sandbox.messages(GUEST)) == 2
    assert {r.status for r in await OutboxMessage.all()} == {OutboxStatus.SENT}


async def test_deliver_outbox_injected_40001_refreshed(worker: OutboxWorker,
                                                       sandbox: SandboxState) -> None:
    await enqueue()
    await sandbox.add_fault("template_send", 40001)
    assert await worker.run_once() == 1
    assert (await OutboxMessage.get()).status == OutboxStatus.SENT
    assert len(await sandbox.messages(GUEST)) == 1


async def test_deliver_outbox_not_following_marked(demo: None, worker: OutboxWorker,
                                                   sandbox: SandboxState) -> None:
    binding = await WeChatBinding.get(openid="oDemo0LeaderZhangWei00000001")
    await enqueue(binding.openid)
    await sandbox.add_fault("template_send", 43004, errmsg="require subscribe")
    assert await worker.run_once() == 1
    row = await OutboxMessage.get()
    assert (row.status, row.last_errcode) == (OutboxStatus.NOT_FOLLOWING, 43004)
    await binding.refresh_from_db()
    assert binding.following is False
    assert await AuditEntry.filter(event="wechat_binding.not_following",
                                   subject_id=binding.id).count() == 1
    clock.travel(BACKOFF_MAX_SECONDS)
    assert await worker.run_once() == 0
    assert await sandbox.messages(binding.openid) == []


async def test_deliver_outbox_quota_pauses_and_keeps_rows(worker: OutboxWorker,
                                                          sandbox: SandboxState) -> None:
    await enqueue(count=3)
    await sandbox.add_fault("template_send", 45009, errmsg="reach max api daily quota limit")
    assert await worker.run_once() == 3
    waiting = await OutboxMessage.filter(status=OutboxStatus.PENDING)
    assert [(r.attempts, r.last_errcode) for r in waiting] == [(0, 45009)]
    assert await worker.run_once() == 0  # paused, for every worker
    more = await enqueue()
    assert await worker.run_once() == 0
    clock.travel(QUOTA_PAUSE_SECONDS + 1)
    assert await worker.run_once() == 2
    assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == 4
    received = await sandbox.messages(GUEST)
    assert len(received) == 4
    assert str(more[0].id) in {m["client_msg_id"] for m in received}


async def test_deliver_outbox_timeout_retried_without_double_delivery(
        live: LiveServer, sandbox: SandboxState) -> None:
    api = WeChatAPI(live.settings, live.redis, timeout=0.5)
    worker = OutboxWorker(live.settings, live.redis, api)
    try:
        await api.access_token()
        [row] = await enqueue()
        # WeChat is slow: the worker gives up waiting, though WeChat may well deliver it.
        await sandbox.add_fault("template_send", 0, delay=1.5)
        assert await worker.run_once() == 1
        await row.refresh_from_db()
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
        assert "timed out" in row.last_error
        assert await worker.run_once() == 0  # backing off
        clock.travel(backoff(1).total_seconds() + 1)
        assert await worker.run_once() == 1
        await row.refresh_from_db()
        assert row.status == OutboxStatus.SENT
        await asyncio.sleep(1.5)  # let the slow first call finish on the sandbox's side
        assert len(await sandbox.messages(GUEST)) == 1
    finally:
        await api.aclose()


async def test_deliver_outbox_permanent_refusal_dead(worker: OutboxWorker,
                                                     sandbox: SandboxState) -> None:
    await enqueue()
    await sandbox.add_fault("template_send", 47003, errmsg="argument invalid!")
    assert await worker.run_once() == 1
    row = await OutboxMessage.get()
    assert (row.status, row.attempts, row.last_errcode) == (OutboxStatus.DEAD, 1, 47003)
    clock.travel(BACKOFF_MAX_SECONDS)
    assert await worker.run_once() == 0


async def test_deliver_outbox_dead_after_last_try(worker: OutboxWorker,
                                                  sandbox: SandboxState) -> None:
    await enqueue()
    await sandbox.add_fault("template_send", -1, count=MAX_ATTEMPTS + 1, errmsg="system error")
    for _ in range(MAX_ATTEMPTS):
        assert await worker.run_once() == 1
        clock.travel(BACKOFF_MAX_SECONDS + 1)
    assert await worker.run_once() == 0
    row = await OutboxMessage.get()
    assert (row.status, row.attempts, row.last_errcode) == (OutboxStatus.DEAD, MAX_ATTEMPTS, -1)
    assert await call_count(worker.redis, "template_send") == MAX_ATTEMPTS
    assert await sandbox.messages(GUEST) == []


async def test_reclaim_outbox_abandoned_claim_after_lease(live: LiveServer,
                                                          worker: OutboxWorker,
                                                          wechat: WeChatAPI,
                                                          sandbox: SandboxState) -> None:
    [row] = await enqueue()
    killed = OutboxWorker(live.settings, live.redis, wechat)
    _, claimed = await killed.claim_batch()  # then the process dies before sending
    assert [r.id for r in claimed] == [row.id]
    assert await worker.run_once() == 0  # still leased to the dead worker
    clock.travel(LEASE_SECONDS + 1)
    assert await worker.run_once() == 1
    await row.refresh_from_db()
    assert row.status == OutboxStatus.SENT
    assert row.claimed_by.startswith(worker.worker_id)
    assert len(await sandbox.messages(GUEST)) == 1


async def test_reclaim_outbox_sent_but_unrecorded_not_delivered_twice(
        live: LiveServer, worker: OutboxWorker, wechat: WeChatAPI,
        sandbox: SandboxState) -> None:
    [row] = await enqueue()
    killed = OutboxWorker(live.settings, live.redis, wechat)
    _, [claimed] = await killed.claim_batch()
    # The dead worker got as far as WeChat accepting the message, and no further.
    msgid = await wechat.send_template(GUEST, live.settings.template_id("NOTICE_NEW"),
                                       claimed.data, claimed.url, client_msg_id=str(claimed.id))
    clock.travel(LEASE_SECONDS + 1)
    assert await worker.run_once() == 1
    await row.refresh_from_db()
    assert (row.status, row.wechat_msgid) == (OutboxStatus.SENT, msgid)
    assert await call_count(live.redis, "template_send") == 2
    assert len(await sandbox.messages(GUEST)) == 1


async def test_claim_outbox_two_workers_never_same_row(live: LiveServer, wechat: WeChatAPI,
                                                       sandbox: SandboxState) -> None:
    a = OutboxWorker(live.settings, live.redis, wechat)
    b = OutboxWorker(live.settings, live.redis, wechat)
    openids = [f.openid for f in FOLLOWERS]
    assert PER_FOLLOWER * len(openids) > BATCH_SIZE  # so both workers find rows to claim
    for openid in openids:
        await enqueue(openid, count=PER_FOLLOWER)
    (_, first), (_, second) = await asyncio.gather(a.claim_batch(), b.claim_batch())
    assert not {r.id for r in first} & {r.id for r in second}
    assert len(first) + len(second) == min(2 * BATCH_SIZE, PER_FOLLOWER * len(openids))
    clock.travel(LEASE_SECONDS + 1)  # both "die"; two fresh workers take over
    c = OutboxWorker(live.settings, live.redis, wechat)
    d = OutboxWorker(live.settings, live.redis, wechat)
    await asyncio.gather(drain(c), drain(d))
    total = PER_FOLLOWER * len(openids)
    assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == total
    assert await call_count(live.redis, "template_send") == total
    for openid in openids:
        assert len(await sandbox.messages(openid)) == PER_FOLLOWER


async def test_run_outbox_worker_forever_until_stopped(worker: OutboxWorker,
                                                       sandbox: SandboxState) -> None:
    task = asyncio.create_task(worker.run_forever())
    await enqueue(count=2)
    for _ in range(200):
        if await OutboxMessage.filter(status=OutboxStatus.SENT).count() == 2:
            break
        await asyncio.sleep(0.05)
    worker.stop()
    await task
    assert len(await sandbox.messages(GUEST)) == 2


async def test_run_scheduled_job_once_across_workers(live: LiveServer) -> None:
    runs: list[int] = []

    async def remind() -> int:
        runs.append(1)
        await asyncio.sleep(0.05)  # long enough for the other workers to find it locked
        return 1

    job = ScheduledJob("test_reminders", 300, remind)
    assert sum(await asyncio.gather(*(run_due_jobs(live.redis, [job]) for _ in range(5)))) == 1
    assert await run_job_if_due(live.redis, job) is None  # not due again yet
    clock.travel(301)
    assert await run_job_if_due(live.redis, job) == 1
    assert len(runs) == 2
