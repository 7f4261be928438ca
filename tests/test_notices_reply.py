"""Read receipts, replies, amendments and late replies, by action and on the H5 pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auth_helpers import csrf_of, h5_client
from notices_support import (
    ANJULE,
    LEADER_OPENID,
    MANAGER_OPENID,
    PENGCHENG,
    enterprise,
    person,
    project,
    publish,
    receipt_of,
)

from actions.clock import now, travel
from actions.errors import ActionError
from actions.notices import do_mark_notice_read, do_reply_to_notice
from conftest import LiveServer
from models.audit import AuditEntry
from models.notices import Audience, NoticeReceipt, NoticeReply, ReceiptStatus
from settings import Settings


async def test_reply_to_notice_amend_keeps_history(demo_people: None,
                                                    base_settings: Settings) -> None:
    notice = await publish(base_settings)
    receipt = await receipt_of(notice, PENGCHENG)
    leader = await person("张伟")
    await do_reply_to_notice(leader, receipt.id, "已收到")
    await do_reply_to_notice(leader, receipt.id, "已收到，本周内整改完毕")
    receipt = await NoticeReceipt.get(id=receipt.id)
    assert receipt.status == ReceiptStatus.REPLIED
    assert receipt.reply_content == "已收到，本周内整改完毕"
    assert receipt.reply_count == 2
    assert receipt.first_replied_at is not None and receipt.read_at is not None
    assert await NoticeReply.filter(receipt_id=receipt.id).order_by("id").values_list(
        "content", flat=True) == ["已收到", "已收到，本周内整改完毕"]
    assert await AuditEntry.filter(event="notice_reply_amended").count() == 1


async def test_reply_to_notice_after_deadline_refused(demo_people: None,
                                                      base_settings: Settings) -> None:
    notice = await publish(base_settings, deadline=now() + timedelta(hours=2))
    receipt = await receipt_of(notice, PENGCHENG)
    travel(3 * 3600)
    with pytest.raises(ActionError) as refused:
        await do_reply_to_notice(await person("张伟"), receipt.id, "迟到的回复")
    assert refused.value.message.startswith("已超过回复截止时间")
    assert await NoticeReply.all().count() == 0


async def test_reply_to_notice_of_other_enterprise_refused(demo_people: None,
                                                           base_settings: Settings) -> None:
    notice = await publish(base_settings, enterprises=[(await enterprise(ANJULE)).id])
    receipt = await receipt_of(notice, ANJULE)
    with pytest.raises(ActionError) as refused:
        await do_reply_to_notice(await person("张伟"), receipt.id, "不是我们的通知")
    assert refused.value.status == 404


async def test_reply_to_notice_manager_sees_own_projects_only(
        demo_people: None, base_settings: Settings) -> None:
    pengcheng = await enterprise(PENGCHENG)
    office = await project("福景大厦")  # 刘洋's project, not 王强's
    notice = await publish(base_settings, enterprises=[pengcheng.id], projects=[office.id])
    receipt = await receipt_of(notice, PENGCHENG)
    with pytest.raises(ActionError):
        await do_reply_to_notice(await person("王强"), receipt.id, "越权回复")
    await do_reply_to_notice(await person("刘洋"), receipt.id, "福景大厦已完成自查")
    await do_reply_to_notice(await person("张伟"), receipt.id, "负责人确认")
    assert await NoticeReply.filter(receipt_id=receipt.id).count() == 2


async def test_mark_notice_read_records_once(demo_people: None, base_settings: Settings) -> None:
    notice = await publish(base_settings, reply=False)
    receipt = await receipt_of(notice, PENGCHENG)
    leader = await person("张伟")
    assert await do_mark_notice_read(leader, [receipt.id]) == 1
    assert await do_mark_notice_read(leader, [receipt.id]) == 0
    receipt = await NoticeReceipt.get(id=receipt.id)
    assert receipt.status == ReceiptStatus.READ and receipt.read_by_id == leader.id


async def test_open_notice_page_records_read_receipt(demo_people: None, live: LiveServer) -> None:
    notice = await publish(live.settings, reply=False, title="关于春节假期安全值守的通知")
    async with h5_client(live, LEADER_OPENID) as client:
        listed = await client.get("/h5/notices?filter=unread")
        assert listed.status_code == 200
        assert "关于春节假期安全值守的通知" in listed.text
        page = await client.get(f"/h5/notices/{notice.id}")
        assert page.status_code == 200
        assert "本通知无需回复" in page.text
        unread = await client.get("/h5/notices?filter=unread")
    assert "关于春节假期安全值守的通知" not in unread.text
    receipt = await receipt_of(notice, PENGCHENG)
    assert receipt.status == ReceiptStatus.READ


async def test_reply_to_notice_on_page_amend_then_late(demo_people: None, live: LiveServer) -> None:
    notice = await publish(live.settings, deadline=now() + timedelta(minutes=60))
    async with h5_client(live, LEADER_OPENID) as client:
        receipt = await receipt_of(notice, PENGCHENG)
        to_reply = await client.get("/h5/notices?filter=to_reply")
        assert "关于开展汛期安全检查的通知" in to_reply.text
        for content in ("已收到", "已收到，本周内整改"):
            sent = await client.post(f"/h5/notices/{notice.id}/reply", data={
                "receipt_id": str(receipt.id), "content": content,
                "csrf_token": csrf_of(client)})
            assert sent.status_code == 303
        page = await client.get(f"/h5/notices/{notice.id}")
        assert "已收到，本周内整改" in page.text and "回复记录（含修改）" in page.text
        empty = await client.post(f"/h5/notices/{notice.id}/reply", data={
            "receipt_id": str(receipt.id), "content": "  ", "csrf_token": csrf_of(client)})
        assert empty.status_code == 400 and "回复内容不能为空。" in empty.text
        travel(90 * 60)  # past the deadline, within the session's idle life
        late = await client.post(f"/h5/notices/{notice.id}/reply", data={
            "receipt_id": str(receipt.id), "content": "再改一次", "csrf_token": csrf_of(client)})
        assert late.status_code == 400 and "已超过回复截止时间" in late.text
        overdue = await client.get("/h5/notices?filter=overdue")
    assert "关于开展汛期安全检查的通知" not in overdue.text  # it was answered in time
    assert (await NoticeReceipt.get(id=receipt.id)).reply_content == "已收到，本周内整改"


async def test_notice_page_without_csrf_refused(demo_people: None, live: LiveServer) -> None:
    notice = await publish(live.settings)
    receipt = await receipt_of(notice, PENGCHENG)
    async with h5_client(live, LEADER_OPENID) as client:
        sent = await client.post(f"/h5/notices/{notice.id}/reply", data={
            "receipt_id": str(receipt.id), "content": "无令牌"})
    assert sent.status_code == 403
    assert await NoticeReply.all().count() == 0


async def test_notice_page_of_other_enterprise_not_found(demo_people: None,
                                                         live: LiveServer) -> None:
    notice = await publish(live.settings, audience=Audience.ENTERPRISES,
                           enterprises=[(await enterprise(ANJULE)).id])
    async with h5_client(live, MANAGER_OPENID) as client:
        page = await client.get(f"/h5/notices/{notice.id}")
        listed = await client.get("/h5/notices")
    assert page.status_code == 404
    assert "关于开展汛期安全检查的通知" not in listed.text


async def test_demo_notices_shown_to_their_addressees(demo: None, live: LiveServer) -> None:
    from demo_data.notices import CITY_WIDE, FUTIAN, PROJECT

    async with h5_client(live, LEADER_OPENID) as client:
        leader_list = await client.get("/h5/notices")
    async with h5_client(live, "oDemo0ManagerZhaoLei00000002") as client:
        anjule_list = await client.get("/h5/notices")
    assert all(title in leader_list.text for title in (CITY_WIDE, FUTIAN, PROJECT))
    assert CITY_WIDE in anjule_list.text and "已回复" in anjule_list.text
    assert FUTIAN not in anjule_list.text and PROJECT not in anjule_list.text


async def test_number_receipts_concurrently_gives_one_number_each(
        demo_people: None, base_settings: Settings) -> None:
    import asyncio

    from actions.notices import do_number_receipts
    from models.notices import NoticeShortNumber

    notices = [await publish(base_settings, title=f"通知{i}") for i in range(3)]
    receipt_ids = [(await receipt_of(n, PENGCHENG)).id for n in reversed(notices)]
    leader = await person("张伟")
    first, second = await asyncio.gather(do_number_receipts(leader.id, receipt_ids),
                                         do_number_receipts(leader.id, receipt_ids))
    assert first == second == {rid: i + 1 for i, rid in enumerate(receipt_ids)}
    assert await NoticeShortNumber.filter(person_id=leader.id).count() == 3


async def test_reply_to_notice_concurrently_counts_every_reply(
        demo_people: None, base_settings: Settings) -> None:
    import asyncio

    notice = await publish(base_settings, enterprises=[(await enterprise(PENGCHENG)).id])
    receipt = await receipt_of(notice, PENGCHENG)
    leader = await person("张伟")
    await asyncio.gather(*(do_reply_to_notice(leader, receipt.id, f"第{i}次回复")
                           for i in range(4)))
    receipt = await NoticeReceipt.get(id=receipt.id)
    assert receipt.reply_count == 4
    assert await NoticeReply.filter(receipt_id=receipt.id).count() == 4
    assert await AuditEntry.filter(event="notice_replied").count() == 1
    assert await AuditEntry.filter(event="notice_reply_amended").count() == 3
