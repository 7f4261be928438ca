"""The first handlers, through HTTP as a WeChat user meets them: follow, unfollow, help,
unknown input, bind, and template delivery reports."""

from __future__ import annotations

import pytest
from callback_support import GUEST, ZHANGWEI, say, wechat_xml

from actions.clock import now
from conftest import LiveServer
from core.sessions import H5_SESSIONS, SessionStore
from handlers.basic import HELP_TEXT
from models.audit import AuditEntry
from models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from models.people import Person, WeChatBinding


def _binding_link(live: LiveServer) -> str:
    return f"{live.base_url}/auth/start?next=/h5/"


async def test_receive_help_lists_every_command(live: LiveServer) -> None:
    reply = await say(live, wechat_xml("text__help"))
    assert reply == HELP_TEXT
    for command in ("帮助", "绑定", "待办", "通知", "回复 <编号> <内容>"):
        assert command in reply


async def test_receive_unknown_text_answers_help(live: LiveServer) -> None:
    reply = await say(live, wechat_xml("text__unknown"))
    assert reply.startswith("抱歉，没有识别您的指令。")
    assert reply.endswith(HELP_TEXT)


async def test_receive_unknown_menu_key_answers_help(live: LiveServer) -> None:
    assert await say(live, wechat_xml("click__unknown_key")) == HELP_TEXT


async def test_receive_menu_view_answers_success(live: LiveServer) -> None:
    assert await say(live, wechat_xml("view__projects")) == "success"


async def test_receive_bind_unbound_gives_binding_link(live: LiveServer, demo: None) -> None:
    reply = await say(live, wechat_xml("text__bind_unbound"))
    assert _binding_link(live) in reply


async def test_receive_bind_bound_names_the_person(live: LiveServer, demo: None) -> None:
    reply = await say(live, wechat_xml("text__bind_bound"))
    assert reply.startswith("已绑定为：深圳市鹏城物业服务有限公司 企业负责人 张伟。")
    assert "/auth/start" not in reply


async def test_receive_bind_deregistered_person_gives_binding_link(
        live: LiveServer, demo: None) -> None:
    binding = await WeChatBinding.get(openid=ZHANGWEI)
    await Person.filter(id=binding.person_id).update(status="deregistered")  # type: ignore[attr-defined]
    assert _binding_link(live) in await say(live, wechat_xml("text__bind_bound"))


async def test_receive_subscribe_unbound_welcomes_with_binding_link(
        live: LiveServer, demo: None) -> None:
    reply = await say(live, wechat_xml("event__subscribe"))
    assert reply.startswith("欢迎关注物业管理信息平台！")
    assert _binding_link(live) in reply
    assert not await WeChatBinding.filter(openid=GUEST).exists()


async def test_receive_unsubscribe_stops_pushes_keeps_binding_ends_sessions(
        live: LiveServer, demo: None) -> None:
    binding = await WeChatBinding.get(openid=ZHANGWEI)
    person_id = binding.person_id  # type: ignore[attr-defined]
    sessions = SessionStore(live.redis, live.settings, H5_SESSIONS)
    session = await sessions.create(f"person:{person_id}")

    assert await say(live, wechat_xml("event__unsubscribe")) == "success"

    binding = await WeChatBinding.get(openid=ZHANGWEI)
    assert binding.following is False
    assert binding.unfollowed_at is not None
    assert await sessions.load(session.sid) is None
    audit = await AuditEntry.get(event="wechat.unfollowed")
    assert (audit.actor_type, audit.subject_id) == ("wechat", person_id)
    assert audit.enterprise_id == (await Person.get(id=person_id)).enterprise_id  # type: ignore[attr-defined]


async def test_receive_subscribe_again_resumes_pushes(live: LiveServer, demo: None) -> None:
    await say(live, wechat_xml("event__unsubscribe"))
    reply = await say(live, wechat_xml("event__subscribe_bound"))
    assert reply.startswith("欢迎回来！您已绑定为：深圳市鹏城物业服务有限公司 企业负责人 张伟。")
    binding = await WeChatBinding.get(openid=ZHANGWEI)
    assert binding.following is True
    assert binding.unfollowed_at is None


async def _sent_template(wechat_msgid: int) -> OutboxMessage:
    """A template message the worker has handed to WeChat (which answered `wechat_msgid`)."""
    return await OutboxMessage.create(
        kind=OutboxKind.TEMPLATE, openid=ZHANGWEI, template_key="NOTICE_NEW",
        data={"thing1": {"value": "关于开展消防检查的通知"}}, status=OutboxStatus.SENT,
        wechat_msgid=wechat_msgid, next_attempt_at=now())


@pytest.mark.parametrize(("fixture", "msgid", "status"), [
    ("event__templatesendjobfinish", 2000000001, "success"),
    ("event__templatesendjobfinish_blocked", 2000000002, "failed:user block"),
])
async def test_receive_template_delivery_report_updates_outbox_row(
        live: LiveServer, demo: None, fixture: str, msgid: int, status: str) -> None:
    row = await _sent_template(msgid)
    other = await _sent_template(msgid + 100)

    assert await say(live, wechat_xml(fixture)) == "success"

    row = await OutboxMessage.get(id=row.id)
    assert row.delivery_status == status
    assert (row.delivered_at is not None) == (status == "success")
    assert (await OutboxMessage.get(id=other.id)).delivery_status == ""


async def test_receive_template_delivery_report_for_unknown_msgid_is_harmless(
        live: LiveServer) -> None:
    other = await _sent_template(2000000101)  # the report names 2000000001
    assert await say(live, wechat_xml("event__templatesendjobfinish")) == "success"
    other = await OutboxMessage.get(id=other.id)
    assert (other.delivery_status, other.delivered_at) == ("", None)
