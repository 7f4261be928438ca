"""Demo notices: a city-wide 回复 notice (one enterprise has answered, once amended), a 福田区
不回复 notice, and a 回复 notice to one project whose deadline is a day away (so the reminder
job has something to remind). Seeded directly, like the rest of the demo data; idempotent by
title."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from actions.clock import now
from models.enterprises import Enterprise
from models.notices import Audience, Notice, NoticeReceipt, NoticeReply, ReceiptStatus
from models.officers import Officer
from models.projects import Project

CITY_WIDE = "关于开展2026年汛期物业小区安全隐患排查的通知"
FUTIAN = "关于做好元旦春节期间物业服务保障工作的通知"
PROJECT = "关于报送鹏城花园电梯维保情况的通知"


async def _notice(title: str, content: str, officer: Officer, unit: str, *,
                  reply: bool, deadline_hours: int | None, audience: Audience,
                  district: str = "") -> Notice | None:
    if await Notice.filter(title=title).exists():
        return None
    at = now()
    return await Notice.create(
        title=title, content=content, reply_required=reply, publisher=officer,
        deadline=at + timedelta(hours=deadline_hours) if deadline_hours else None,
        publisher_unit=unit, audience=audience, district=district,
        created_at=at - timedelta(days=1))


async def load(enterprises: dict[str, Enterprise], people: dict[str, Any]) -> None:
    city = await Officer.get(username="city")
    futian = await Officer.get(username="futian")

    notice = await _notice(
        CITY_WIDE, "各物业服务企业：\n汛期将至，请组织在管项目开展地下车库、配电房、边坡挡墙等"
        "安全隐患排查，并回复排查及整改情况。", city, "市物业管理信息平台", reply=True,
        deadline_hours=5 * 24, audience=Audience.ALL)
    if notice is not None:
        receipts = [NoticeReceipt(notice=notice, enterprise=e) for e in enterprises.values()]
        await NoticeReceipt.bulk_create(receipts)
        answered = await NoticeReceipt.get(notice=notice, enterprise=enterprises["anjule"])
        for content in ("已收到，正在组织排查。", "已完成排查，发现隐患2处，均已整改。"):
            await NoticeReply.create(receipt=answered, person=people["chenjing"],
                                     person_name="陈静", content=content, via="page",
                                     created_at=now())
        await NoticeReceipt.filter(id=answered.id).update(
            status=ReceiptStatus.REPLIED, read_at=now(), first_replied_at=now(),
            replied_at=now(), reply_content="已完成排查，发现隐患2处，均已整改。",
            replied_by_name="陈静", reply_count=2)
        await Notice.filter(id=notice.id).update(receipt_count=len(receipts))

    notice = await _notice(
        FUTIAN, "请各企业做好节日期间值班值守、消防安全和保洁绿化工作。", futian,
        "福田区物业管理中心", reply=False, deadline_hours=None, audience=Audience.DISTRICT,
        district="福田区")
    if notice is not None:
        local = [e for e in enterprises.values() if e.district == "福田区"]
        await NoticeReceipt.bulk_create([NoticeReceipt(notice=notice, enterprise=e)
                                         for e in local])
        await Notice.filter(id=notice.id).update(receipt_count=len(local))

    notice = await _notice(
        PROJECT, "请报送项目电梯最近一次维保记录及年检情况。", city, "市物业管理信息平台",
        reply=True, deadline_hours=20, audience=Audience.ENTERPRISES)
    if notice is not None:
        garden = await Project.get(code="EA440304001")
        await NoticeReceipt.create(notice=notice, enterprise=enterprises["pengcheng"],
                                   project=garden)
        await Notice.filter(id=notice.id).update(receipt_count=1)
