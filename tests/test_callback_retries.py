"""WeChat's retries: one effect and the same reply however often a message is redelivered —
with Redis, without it, and when the handler outlives the callback's deadline."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
from callback_support import ZHANGWEI, say, wechat_xml

from actions import clock
from actions.wechat_users import do_send_late_reply
from bot.bot_request import BotRequest
from conftest import LiveServer, live_settings, start_live, stop_live
from handlers import HANDLERS, TEXT_COMMANDS
from models.callbacks import CallbackReceipt
from models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from settings import Settings


async def _queue_a_message(req: BotRequest) -> str:
    """A test command with an effect a user notices: a message queued for them."""
    row = await do_send_late_reply(req.openid, "已为您登记。", route=req.route)
    return f"已记录（{row.id}）"


@pytest.fixture
def counted_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(TEXT_COMMANDS, "记录", "text:counted")
    monkeypatch.setitem(HANDLERS, "text:counted", _queue_a_message)


@pytest.fixture
async def live_without_redis(base_settings: Settings) -> AsyncIterator[LiveServer]:
    """The app with its Redis on a closed port."""
    server_info, server = await start_live(
        live_settings(base_settings, redis_url="redis://127.0.0.1:1/0"))
    yield server_info
    await stop_live(server)


async def _template_row(wechat_msgid: int) -> OutboxMessage:
    from actions.clock import now

    return await OutboxMessage.create(
        kind=OutboxKind.TEMPLATE, openid=ZHANGWEI, template_key="NOTICE_NEW",
        status=OutboxStatus.SENT, wechat_msgid=wechat_msgid, next_attempt_at=now())


async def test_receive_message_redelivered_four_times_has_one_effect(
        live: LiveServer, counted_command: None) -> None:
    replies = [await say(live, wechat_xml("text__counted")) for _ in range(4)]
    rows = await OutboxMessage.filter(kind=OutboxKind.CUSTOM_TEXT)
    assert len(rows) == 1
    assert replies == [f"已记录（{rows[0].id}）"] * 4


async def test_receive_message_concurrent_redeliveries_have_one_effect(
        live: LiveServer, counted_command: None) -> None:
    await asyncio.gather(*(say(live, wechat_xml("text__counted")) for _ in range(4)))
    assert await OutboxMessage.filter(kind=OutboxKind.CUSTOM_TEXT).count() == 1


async def test_receive_message_with_new_msgid_is_a_new_message(
        live: LiveServer, counted_command: None) -> None:
    await say(live, wechat_xml("text__counted"))
    await say(live, wechat_xml("text__counted", **{"24000000000000005": "24000000000000105"}))
    assert await OutboxMessage.filter(kind=OutboxKind.CUSTOM_TEXT).count() == 2


async def _delivered_at_after_repeats(live: LiveServer, row: OutboxMessage,
                                      times: int) -> list[datetime | None]:
    """The row's delivered_at after each of `times` deliveries of one report, a minute apart."""
    seen = []
    for _ in range(times):
        assert await say(live, wechat_xml("event__templatesendjobfinish")) == "success"
        row = await OutboxMessage.get(id=row.id)
        assert row.delivery_status == "success"
        seen.append(row.delivered_at)
        clock.travel(60)
    return seen


async def test_receive_event_redelivered_is_deduplicated(live: LiveServer, demo: None) -> None:
    row = await _template_row(2000000001)
    first, *repeats = await _delivered_at_after_repeats(live, row, 3)
    assert first is not None
    assert repeats == [first, first]  # a repeated report is harmless: the first time stays
    welcome = [await say(live, wechat_xml("event__subscribe")) for _ in range(3)]
    assert len(set(welcome)) == 1 and welcome[0].startswith("欢迎关注")


async def test_receive_events_of_one_second_for_different_templates_are_both_recorded(
        live: LiveServer) -> None:
    first = await _template_row(2000000001)
    second = await _template_row(2000000009)
    await say(live, wechat_xml("event__templatesendjobfinish"))
    await say(live, wechat_xml("event__templatesendjobfinish",
                               **{"2000000001": "2000000009"}))
    assert (await OutboxMessage.get(id=first.id)).delivery_status == "success"
    assert (await OutboxMessage.get(id=second.id)).delivery_status == "success"


async def test_receive_message_with_redis_down_still_answers_once(
        live_without_redis: LiveServer, counted_command: None) -> None:
    replies = [await say(live_without_redis, wechat_xml("text__counted")) for _ in range(4)]
    rows = await OutboxMessage.filter(kind=OutboxKind.CUSTOM_TEXT)
    assert len(rows) == 1
    assert replies == [f"已记录（{rows[0].id}）"] * 4
    assert await CallbackReceipt.filter(dedupe_key="msg:24000000000000005").exists()


async def test_receive_event_with_redis_down_is_deduplicated(
        live_without_redis: LiveServer, demo: None) -> None:
    row = await _template_row(2000000001)
    first, repeat = await _delivered_at_after_repeats(live_without_redis, row, 2)
    assert first is not None and repeat == first
    assert await say(live_without_redis, wechat_xml("event__unsubscribe")) == "success"


async def test_receive_slow_message_answers_success_then_sends_reply_once(
        base_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    gate = asyncio.Event()
    runs: list[str] = []

    async def slow(req: BotRequest) -> str:
        runs.append(req.openid)
        await gate.wait()
        return "您的查询结果：共 3 条待办。"

    monkeypatch.setitem(TEXT_COMMANDS, "慢", "text:slow")
    monkeypatch.setitem(HANDLERS, "text:slow", slow)
    server_info, server = await start_live(live_settings(base_settings, callback_deadline=0.2))
    try:
        assert await say(server_info, wechat_xml("text__slow")) == "success"
        # WeChat's retry while the handler still runs: no second run, no second reply.
        assert await say(server_info, wechat_xml("text__slow")) == "success"
        assert runs == [ZHANGWEI]
        assert not await OutboxMessage.filter(kind=OutboxKind.CUSTOM_TEXT).exists()

        gate.set()
        await asyncio.gather(*server_info.app.ctx.background)

        late = await OutboxMessage.get(kind=OutboxKind.CUSTOM_TEXT)
        assert (late.openid, late.text) == (ZHANGWEI, "您的查询结果：共 3 条待办。")
        assert late.status == OutboxStatus.PENDING
        assert await say(server_info, wechat_xml("text__slow")) == "success"
        assert runs == [ZHANGWEI]
    finally:
        await stop_live(server)
