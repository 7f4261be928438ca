"""Publishing notices to each kind of audience, the bulk fan-out and the NOTICE_NEW pushes."""

from __future__ import annotations

import logging

import pytest
from notices_support import (
    ANJULE,
    ANJULE_MANAGER_OPENID,
    LEADER_OPENID,
    MANAGER_OPENID,
    NANSHAN_LEADER_OPENID,
    PENGCHENG,
    enterprise,
    project,
    publish,
)

from actions.errors import ActionError
from bot.outbox_worker import OutboxWorker
from bot.wechat_api import WeChatAPI
from conftest import LiveServer
from models.audit import AuditEntry
from models.enterprises import Enterprise
from models.notices import Audience, NoticeReceipt
from models.outbox import OutboxMessage, OutboxStatus
from sandbox.state import SandboxState
from settings import Settings


async def _pushed_openids(notice_id: int) -> set[str]:
    rows = await OutboxMessage.filter(
        subject_type="notice", subject_id=notice_id, template_key="NOTICE_NEW").values("openid")
    return {str(row["openid"]) for row in rows}


async def test_publish_notice_to_all_reaches_every_enterprise(
        demo_people: None, base_settings: Settings) -> None:
    notice = await publish(base_settings, audience=Audience.ALL)
    assert notice.receipt_count == await Enterprise.all().count() == 3
    assert await NoticeReceipt.filter(notice_id=notice.id, project_id=None).count() == 3
    # Bound leaders and bound managers granted 通知消息; unbound people get nothing.
    assert await _pushed_openids(notice.id) == {LEADER_OPENID, MANAGER_OPENID,
                                               NANSHAN_LEADER_OPENID, ANJULE_MANAGER_OPENID}
    message = await OutboxMessage.get(openid=LEADER_OPENID, subject_id=notice.id)
    assert message.data["thing1"]["value"] == "关于开展汛期安全检查的通知"
    assert message.data["phrase3"]["value"] == "需回复"
    assert message.url.endswith(f"/h5/notices/{notice.id}")
    assert await AuditEntry.filter(event="notice_published", subject_id=notice.id).count() == 1


async def test_publish_notice_to_district_reaches_its_enterprises_only(
        demo_people: None, base_settings: Settings) -> None:
    notice = await publish(base_settings, audience=Audience.DISTRICT, district="福田区",
                           by="futian", reply=False)
    receipts = await NoticeReceipt.filter(notice_id=notice.id).values_list(
        "enterprise__name", flat=True)
    assert receipts == [PENGCHENG]
    assert notice.publisher_unit == "福田区物业管理中心"
    assert await _pushed_openids(notice.id) == {LEADER_OPENID, MANAGER_OPENID}


async def test_publish_notice_to_chosen_projects_reaches_their_managers(
        demo_people: None, base_settings: Settings) -> None:
    anjule = await enterprise(ANJULE)
    pengcheng = await enterprise(PENGCHENG)
    garden = await project("安居乐家园")
    notice = await publish(base_settings, enterprises=[anjule.id, pengcheng.id],
                           projects=[garden.id])
    receipts = await NoticeReceipt.filter(notice_id=notice.id).order_by("id").values_list(
        "enterprise_id", "project_id")
    assert sorted(receipts) == sorted([(anjule.id, garden.id), (pengcheng.id, None)])
    assert await _pushed_openids(notice.id) == {ANJULE_MANAGER_OPENID, LEADER_OPENID,
                                               MANAGER_OPENID}


async def test_publish_notice_by_district_staff_outside_district_refused(
        demo_people: None, base_settings: Settings) -> None:
    anjule = await enterprise(ANJULE)  # 罗湖区
    for kwargs in ({"audience": Audience.ALL}, {"audience": Audience.DISTRICT,
                                                "district": "罗湖区"},
                   {"enterprises": [anjule.id]}):
        with pytest.raises(ActionError) as refused:
            await publish(base_settings, by="futian", **kwargs)
        assert refused.value.message == "区中心只能向本区企业发布通知。"
    assert await NoticeReceipt.all().count() == 0


async def test_publish_notice_without_deadline_or_title_refused(
        demo_people: None, base_settings: Settings) -> None:
    with pytest.raises(ActionError, match="请填写通知标题"):
        await publish(base_settings, title="  ")
    from actions.clock import now

    with pytest.raises(ActionError, match="回复截止时间必须晚于当前时间"):
        await publish(base_settings, deadline=now())
    assert await NoticeReceipt.all().count() == 0


async def test_publish_notice_city_wide_fans_out_in_bulk(
        demo_people: None, base_settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    await Enterprise.bulk_create([
        Enterprise(name=f"批量物业{i:04d}", credit_code=f"9144030000B{i:07d}", district="宝安区")
        for i in range(1500)])
    caplog.set_level(logging.DEBUG, logger="tortoise.db_client")
    notice = await publish(base_settings, audience=Audience.ALL)
    inserts = [r.getMessage() for r in caplog.records
               if r.getMessage().lstrip().upper().startswith("INSERT")]
    assert notice.receipt_count == 1503
    assert await NoticeReceipt.filter(notice_id=notice.id).count() == 1503
    # The notice, its receipts (one INSERT … SELECT), the bulk of template messages, the audit.
    assert len(inserts) == 4, inserts
    assert sum("notice_receipt" in q.split("(")[0] for q in inserts) == 1


async def test_publish_notice_template_reaches_leader_in_sandbox(demo_people: None,
                                                                  live: LiveServer) -> None:
    notice = await publish(live.settings, title="关于开展汛期安全检查的通知")
    wechat = WeChatAPI(live.settings, live.redis)
    try:
        worker = OutboxWorker(live.settings, live.redis, wechat)
        while await worker.run_once():
            pass
    finally:
        await wechat.aclose()
    inbox = await SandboxState(live.redis).messages(LEADER_OPENID)
    pushed = [m for m in inbox if "关于开展汛期安全检查的通知" in str(m)]
    assert len(pushed) == 1
    assert f"/h5/notices/{notice.id}" in str(pushed[0])
    assert await OutboxMessage.filter(subject_id=notice.id, status=OutboxStatus.SENT).count() == 2
