"""The officers' notices pages: publish by form, follow receipts and replies, export xlsx."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from auth_helpers import console_client, csrf_of, h5_client
from notices_support import (
    ANJULE,
    LEADER_OPENID,
    PENGCHENG,
    chat,
    enterprise,
    project,
    publish,
)
from openpyxl import load_workbook

from actions.clock import now
from conftest import LiveServer
from core.localtime import local
from models.notices import Audience, Notice, NoticeReceipt
from models.outbox import OutboxMessage

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _deadline(hours: int) -> str:
    return local(now() + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")


async def test_publish_notice_by_console_form_to_chosen_enterprise(
        demo_people: None, live: LiveServer) -> None:
    pengcheng = await enterprise(PENGCHENG)
    async with console_client(live) as client:
        sent = await client.post("/console/notices", data={
            "csrf_token": csrf_of(client), "title": "关于开展汛期安全检查的通知",
            "content": "请于本周内完成自查。", "reply": "1", "deadline": _deadline(72),
            "audience": "enterprises", "enterprise_ids": [str(pengcheng.id)]},
            files={"attachments": ("检查表.pdf", PDF, "application/pdf")})
        assert sent.status_code == 303, sent.text
        detail = await client.get(sent.headers["location"])
        notice = await Notice.get(title="关于开展汛期安全检查的通知")
        attachment = await client.get(f"/console/notices/{notice.id}/attachments/0")
    assert "通知已发布。" in detail.text and PENGCHENG in detail.text
    assert attachment.status_code == 200 and attachment.content == PDF
    assert notice.attachments[0]["name"] == "检查表.pdf"
    assert await NoticeReceipt.filter(notice_id=notice.id).count() == 1
    assert await OutboxMessage.filter(subject_id=notice.id, openid=LEADER_OPENID).exists()


async def test_publish_notice_by_console_form_refused_says_why(
        demo_people: None, live: LiveServer) -> None:
    async with console_client(live) as client:
        sent = await client.post("/console/notices", data={
            "csrf_token": csrf_of(client), "title": "缺少截止时间", "content": "内容",
            "reply": "1", "deadline": "", "audience": "all"})
    assert sent.status_code == 400
    assert "需要回复的通知必须设置回复截止时间。" in sent.text
    assert await Notice.all().count() == 0


async def test_publish_notice_by_district_staff_to_own_district(
        demo_people: None, live: LiveServer) -> None:
    async with console_client(live, "futian") as client:
        form = await client.get("/console/notices/new")
        assert ANJULE not in form.text  # 罗湖区 enterprises are not offered to 福田区 staff
        sent = await client.post("/console/notices", data={
            "csrf_token": csrf_of(client), "title": "福田区物业企业座谈会通知",
            "content": "周五下午召开座谈会。", "reply": "0", "deadline": "",
            "audience": "district", "district": "罗湖区"})
        assert sent.status_code == 303
    notice = await Notice.get(title="福田区物业企业座谈会通知")
    assert notice.district == "福田区"  # the staff's own district, whatever the form said
    assert await NoticeReceipt.filter(notice_id=notice.id).values_list(
        "enterprise__name", flat=True) == [PENGCHENG]


async def test_notice_follow_up_shows_chat_reply_and_exports(demo_people: None,
                                                             live: LiveServer) -> None:
    anjule = await enterprise(ANJULE)
    pengcheng = await enterprise(PENGCHENG)
    notice = await publish(live.settings, enterprises=[pengcheng.id, anjule.id],
                           projects=[(await project("安居乐家园")).id])
    await chat(live, "text__notices")
    await chat(live, "text__reply_to_notice")
    async with console_client(live) as client:
        page = await client.get(f"/console/notices/{notice.id}")
        replied = await client.get(f"/console/notices/{notice.id}?state=replied")
        exported = await client.get(f"/console/notices/{notice.id}/export.xlsx")
        listing = await client.get("/console/notices")
    assert "已收到，本周内整改" in page.text and "张伟" in page.text
    assert "安居乐家园" in page.text
    assert ANJULE not in replied.text and PENGCHENG in replied.text
    assert notice.title in listing.text
    sheet = load_workbook(BytesIO(exported.content)).active
    assert sheet is not None
    rows = [[c for c in row] for row in sheet.iter_rows(min_row=5, values_only=True)]
    by_enterprise = {row[0]: row for row in rows}
    assert by_enterprise[PENGCHENG][3] == "已回复"
    assert by_enterprise[PENGCHENG][7] == "已收到，本周内整改"
    assert by_enterprise[ANJULE][2] == "安居乐家园" and by_enterprise[ANJULE][3] == "未读"
    # The leader's notice page shows the same reply.
    async with h5_client(live, LEADER_OPENID) as h5:
        assert "已收到，本周内整改" in (await h5.get(f"/h5/notices/{notice.id}")).text


async def test_notice_console_of_other_district_not_found(demo_people: None,
                                                          live: LiveServer) -> None:
    notice = await publish(live.settings, audience=Audience.DISTRICT, district="罗湖区",
                           by="luohu", reply=False)
    async with console_client(live, "futian") as client:
        page = await client.get(f"/console/notices/{notice.id}")
        export = await client.get(f"/console/notices/{notice.id}/export.xlsx")
    assert page.status_code == 404 and export.status_code == 404


async def test_notice_console_refuses_enterprise_user(demo_people: None, live: LiveServer) -> None:
    async with h5_client(live, LEADER_OPENID) as client:
        for path in ("/console/notices", "/console/notices/new"):
            response = await client.get(path)
            assert response.status_code == 302
            assert response.headers["location"].startswith("/console/login")
        posted = await client.post("/console/notices", data={"title": "冒充发布"})
    assert posted.status_code == 403
    assert await Notice.all().count() == 0
