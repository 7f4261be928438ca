"""The conversation: `通知`, `回复 <编号> <内容>`, `待办` and the menu's clicks, through the real
callback (signed, AES-encrypted, de-duplicated, dispatched), and every failure's answer."""

from __future__ import annotations

from datetime import timedelta

from auth_helpers import h5_client
from notices_support import (
    GUEST_OPENID,
    LEADER_OPENID,
    MANAGER_OPENID,
    PENGCHENG,
    chat,
    enterprise,
    publish,
    receipt_of,
)

from actions.clock import now, travel
from conftest import LiveServer
from models.applications import Application, ApplicationStatus
from models.notices import NoticeReceipt, NoticeReply
from models.people import Person
from models.safety import AssignmentStatus, SafetyCheckAssignment


async def test_list_notices_numbers_stay_the_same(demo_people: None, live: LiveServer) -> None:
    await publish(live.settings, title="关于开展消防安全检查的通知")
    await publish(live.settings, title="关于春节值班安排的通知", reply=False)
    first = await chat(live, "text__notices")
    assert "【1】关于春节值班安排的通知" in first
    assert "【2】关于开展消防安全检查的通知" in first
    assert "回复 编号 内容" in first and "/h5/notices" in first
    await publish(live.settings, title="关于物业费公示的通知")
    second = await chat(live, "click__notices")  # the menu button answers the same
    assert "【3】关于物业费公示的通知" in second
    assert "【1】关于春节值班安排的通知" in second
    assert "【2】关于开展消防安全检查的通知" in second


async def test_reply_to_notice_by_chat_confirms_with_title(demo_people: None,
                                                           live: LiveServer) -> None:
    notice = await publish(live.settings, title="关于开展汛期安全检查的通知")
    await chat(live, "text__notices")
    answer = await chat(live, "text__reply_to_notice")
    assert answer.startswith("已回复通知“关于开展汛期安全检查的通知”：已收到，本周内整改")
    amended = await chat(live, "text__reply_to_notice", content="回复 1 已整改完毕")
    assert amended.startswith("已修改通知“关于开展汛期安全检查的通知”：已整改完毕")
    receipt = await receipt_of(notice, PENGCHENG)
    assert receipt.reply_content == "已整改完毕"
    assert await NoticeReply.filter(receipt_id=receipt.id, via="chat").count() == 2
    async with h5_client(live, LEADER_OPENID) as client:
        page = await client.get(f"/h5/notices/{notice.id}")
    assert "已整改完毕" in page.text  # a chat reply and a page reply are the same thing


async def test_reply_to_notice_retried_by_wechat_stored_once(demo_people: None,
                                                             live: LiveServer) -> None:
    notice = await publish(live.settings)
    await chat(live, "text__notices")
    answers = [await chat(live, "text__reply_to_notice", msgid="26000000000000001")
               for _ in range(4)]
    assert len(set(answers)) == 1 and answers[0].startswith("已回复通知")
    receipt = await receipt_of(notice, PENGCHENG)
    assert await NoticeReply.filter(receipt_id=receipt.id).count() == 1
    assert receipt.reply_count == 1


async def test_chat_commands_not_bound_refused(demo_people: None, live: LiveServer) -> None:
    for fixture in ("text__notices", "text__reply_to_notice", "text__todo", "click__todo"):
        answer = await chat(live, fixture, openid=GUEST_OPENID)
        assert answer.startswith("您还没有绑定身份，请先绑定："), (fixture, answer)
        assert "/auth/start" in answer


async def test_reply_to_notice_failures_answered(demo_people: None, live: LiveServer) -> None:
    await publish(live.settings, title="需要回复的通知", deadline=now() + timedelta(hours=1))
    await publish(live.settings, title="只需阅读的通知", reply=False)
    listing = await chat(live, "text__notices")
    assert "【1】只需阅读的通知" in listing and "【2】需要回复的通知" in listing
    cases = {
        "回复": "请按“回复 编号 内容”的格式发送",
        "回复 第一条 收到": "请按“回复 编号 内容”的格式发送",
        "回复 9 收到": "没有编号为 9 的通知，请先发送“通知”查看通知编号。",
        "回复 1 收到": "通知“只需阅读的通知”无需回复，阅读即可。",
        "回复 2": "回复内容不能为空。",
        "回复 2    ": "回复内容不能为空。",
    }
    for content, expected in cases.items():
        answer = await chat(live, "text__reply_to_notice", content=content)
        assert answer.startswith(expected), (content, answer)
    travel(2 * 3600)
    late = await chat(live, "text__reply_to_notice", content="回复 2 迟到的回复")
    assert late.startswith("已超过回复截止时间")
    assert await NoticeReply.all().count() == 0


async def test_chat_commands_without_notices_module_refused(demo_people: None,
                                                            live: LiveServer) -> None:
    await Person.filter(name="王强").update(modules=["safety", "funds"])
    await publish(live.settings)
    answer = await chat(live, "text__notices", openid=MANAGER_OPENID)
    assert answer == "您没有“通知消息”的权限，请联系企业负责人开通。"
    reply = await chat(live, "text__reply_to_notice", openid=MANAGER_OPENID)
    assert reply.startswith("没有编号为 1 的通知") or reply.startswith("您没有“通知消息”的权限")


async def test_list_notices_empty_answered(demo_people: None, live: LiveServer) -> None:
    assert await chat(live, "text__notices") == "暂无通知。"


async def test_todo_sums_up_with_links(demo_people: None, live: LiveServer) -> None:
    await publish(live.settings, title="需要回复的通知一")
    await publish(live.settings, title="需要回复的通知二")
    await publish(live.settings, title="只需阅读的通知", reply=False)
    pengcheng = await enterprise(PENGCHENG)
    open_checks = await SafetyCheckAssignment.filter(enterprise_id=pengcheng.id,
                                                     status=AssignmentStatus.OPEN).count()
    returned = await Application.filter(enterprise_id=pengcheng.id,
                                        status=ApplicationStatus.RETURNED).count()
    for fixture in ("text__todo", "click__todo"):
        answer = await chat(live, fixture)
        assert "待回复通知 2 条，未读通知 3 条" in answer, answer
        assert "/h5/notices?filter=to_reply" in answer
        assert f"待提交安全检查 {open_checks} 项" in answer and "/h5/safety" in answer
        assert f"待补充资料的申请 {returned} 件" in answer and "/h5/applications" in answer
    assert await NoticeReceipt.filter(status="replied").count() == 0


async def test_todo_counts_follow_the_role(demo: None, live: LiveServer) -> None:
    """The demo's 鹏城 has 4 open safety checks, 2 of them on 王强's projects, and one
    application returned for supplements, 张伟's."""
    leader = await chat(live, "text__todo")
    manager = await chat(live, "text__todo", openid=MANAGER_OPENID)
    assert "待提交安全检查 4 项" in leader and "待补充资料的申请 1 件" in leader
    assert "待提交安全检查 2 项" in manager and "待补充资料的申请 0 件" in manager
