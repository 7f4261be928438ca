"""The reply reminder: a 回复 notice still unanswered a day before its deadline is reminded once
per addressee, however many workers run the job at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from notices_support import (
    ANJULE,
    LEADER_OPENID,
    MANAGER_OPENID,
    PENGCHENG,
    enterprise,
    person,
    publish,
    receipt_of,
)

from actions.clock import now, travel
from actions.notices import do_reply_to_notice, remind_unanswered_notices
from bot.outbox_worker import OutboxWorker
from bot.schedules import run_due_jobs, scheduled_jobs
from bot.wechat_api import WeChatAPI
from conftest import LiveServer
from models.outbox import OutboxMessage
from sandbox.state import SandboxState
from settings import Settings


async def _reminded_openids() -> list[str]:
    rows = await OutboxMessage.filter(template_key="NOTICE_REMINDER").values("openid")
    return sorted(str(row["openid"]) for row in rows)


async def test_remind_unanswered_notices_once_a_day_before(
        demo_people: None, base_settings: Settings) -> None:
    await publish(base_settings, deadline=now() + timedelta(days=3))
    assert await remind_unanswered_notices() == 0  # not due yet
    travel(2.5 * 86400)
    assert await remind_unanswered_notices() == 2
    assert await remind_unanswered_notices() == 0
    travel(3600)
    assert await remind_unanswered_notices() == 0
    assert await _reminded_openids() == sorted([LEADER_OPENID, MANAGER_OPENID])


async def test_remind_unanswered_notices_skips_answered_and_read_only(
        demo_people: None, base_settings: Settings) -> None:
    answered = await publish(base_settings, title="已回复的通知",
                             deadline=now() + timedelta(hours=20))
    await publish(base_settings, title="无需回复的通知", reply=False,
                  deadline=now() + timedelta(hours=20))
    await do_reply_to_notice(await person("张伟"), (await receipt_of(answered, PENGCHENG)).id,
                             "已处理")
    assert await remind_unanswered_notices() == 0


async def test_remind_unanswered_notices_with_two_workers_sends_once(
        demo_people: None, live: LiveServer) -> None:
    await publish(live.settings, title="关于燃气安全排查的通知",
                  deadline=now() + timedelta(hours=20),
                  enterprises=[(await enterprise(PENGCHENG)).id, (await enterprise(ANJULE)).id])
    # Two jobs racing on the database itself, then two workers' schedulers racing on Redis.
    counts = await asyncio.gather(remind_unanswered_notices(), remind_unanswered_notices())
    job = next(j for j in scheduled_jobs() if j.name == "notice_reminders")
    ran = await asyncio.gather(run_due_jobs(live.redis, [job]), run_due_jobs(live.redis, [job]))
    assert sorted(counts) == [0, 3] and sum(ran) <= 2
    wechat = WeChatAPI(live.settings, live.redis)
    try:
        workers = [OutboxWorker(live.settings, live.redis, wechat) for _ in range(2)]
        while sum(await asyncio.gather(*(w.run_once() for w in workers))):
            pass
    finally:
        await wechat.aclose()
    inbox = await SandboxState(live.redis).messages(LEADER_OPENID)
    reminders = [m for m in inbox if "关于燃气安全排查的通知" in str(m)
                 and "sandbox-notice_reminder" in str(m)]
    assert len(reminders) == 1, await OutboxMessage.all().values("template_key", "status")
