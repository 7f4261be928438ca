"""Notices: publish, read, reply, number for chat, remind (F5, F16, F17).

A city-wide notice reaches thousands of enterprises: its receipts are written by one
INSERT … SELECT and its template messages by one bulk insert, in the publishing transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Subquery
from tortoise.transactions import in_transaction

from actions.audit import Actor, record_audit
from actions.clock import now
from actions.errors import ActionError
from actions.notice_queries import REMIND_BEFORE, notice_scope, scoped_receipts
from actions.outbox import enqueue_template_to_people
from bot.schedules import ScheduledJob
from core.localtime import fmt_minute
from core.statements import Statement
from models.enterprises import Enterprise
from models.notices import (
    Audience,
    Notice,
    NoticeReceipt,
    NoticeReply,
    NoticeShortNumber,
    ReceiptStatus,
)
from models.officers import Officer, OfficerRole
from models.outbox import OutboxMessage
from models.people import Module, Person, PersonStatus, Role
from models.projects import Project
from settings import Settings

TITLE_MAX = 100
CONTENT_MAX = 5000
REPLY_MAX = 1000
REMINDER_BATCH = 500
REMINDER_EVERY_SECONDS = 600


@dataclass(frozen=True)
class NoticeDraft:
    title: str
    content: str
    reply_required: bool
    deadline: datetime | None
    audience: Audience
    district: str = ""
    enterprise_ids: Sequence[int] = ()
    project_ids: Sequence[int] = ()  # optional, only with Audience.ENTERPRISES
    attachments: list[dict[str, Any]] = field(default_factory=list)


def officer_actor(officer: Officer) -> Actor:
    return Actor("officer", officer.id, officer.name)


def person_actor(person: Person) -> Actor:
    return Actor("person", person.id, person.name,
                 person.enterprise_id)  # type: ignore[attr-defined]


def publisher_unit(officer: Officer) -> str:
    if officer.role == OfficerRole.DISTRICT:
        return f"{officer.district}物业管理中心"
    return "市物业管理信息平台"


def notice_url(settings: Settings, notice_id: int) -> str:
    return f"{settings.public_base_url}/h5/notices/{notice_id}"


# -- publishing -----------------------------------------------------------------------------

async def _check_draft(officer: Officer, draft: NoticeDraft) -> list[tuple[int, int | None]]:
    """Validate; for a chosen audience return the (enterprise, project) receipts to write."""
    if not draft.title.strip():
        raise ActionError("title_required", "请填写通知标题。")
    if len(draft.title.strip()) > TITLE_MAX:
        raise ActionError("title_too_long", f"通知标题不能超过{TITLE_MAX}个字。")
    if not draft.content.strip():
        raise ActionError("content_required", "请填写通知内容。")
    if len(draft.content) > CONTENT_MAX:
        raise ActionError("content_too_long", f"通知内容不能超过{CONTENT_MAX}个字。")
    if draft.reply_required and draft.deadline is None:
        raise ActionError("deadline_required", "需要回复的通知必须设置回复截止时间。")
    if draft.deadline is not None and draft.deadline <= now():
        raise ActionError("deadline_past", "回复截止时间必须晚于当前时间。")
    own_district = officer.district if officer.role == OfficerRole.DISTRICT else None
    if draft.audience == Audience.ALL:
        if own_district is not None:
            raise ActionError("district_only", "区中心只能向本区企业发布通知。", 403)
        return []
    if draft.audience == Audience.DISTRICT:
        if not draft.district:
            raise ActionError("district_required", "请选择接收通知的区。")
        if own_district is not None and draft.district != own_district:
            raise ActionError("district_only", "区中心只能向本区企业发布通知。", 403)
        if not await Enterprise.filter(district=draft.district).exists():
            raise ActionError("no_recipients", "该区没有可接收通知的企业。")
        return []
    return await _chosen_targets(draft, own_district)


async def _chosen_targets(draft: NoticeDraft,
                          own_district: str | None) -> list[tuple[int, int | None]]:
    enterprise_ids = set(draft.enterprise_ids)
    if not enterprise_ids:
        raise ActionError("enterprises_required", "请至少选择一家接收通知的企业。")
    enterprises = await Enterprise.filter(id__in=enterprise_ids).values("id", "district")
    if len(enterprises) != len(enterprise_ids):
        raise ActionError("unknown_enterprise", "所选企业不存在，请刷新后重新选择。")
    if own_district is not None and any(e["district"] != own_district for e in enterprises):
        raise ActionError("district_only", "区中心只能向本区企业发布通知。", 403)
    projects = await Project.filter(id__in=set(draft.project_ids)).values("id", "enterprise_id")
    if len(projects) != len(set(draft.project_ids)) or any(
            p["enterprise_id"] not in enterprise_ids for p in projects):
        raise ActionError("unknown_project", "所选项目不属于所选企业，请重新选择。")
    with_projects = {p["enterprise_id"] for p in projects}
    # An enterprise with chosen projects gets one receipt per project, the others one each.
    return ([(p["enterprise_id"], p["id"]) for p in projects]
            + [(e, None) for e in sorted(enterprise_ids - with_projects)])


def _placeholders(conn: BaseDBAsyncClient, count: int, start: int = 1) -> list[str]:
    if conn.capabilities.dialect == "postgres":
        return [f"${i}" for i in range(start, start + count)]
    return ["?"] * count


async def _insert_receipts_for_enterprises(conn: BaseDBAsyncClient, notice_id: int,
                                           district: str | None) -> None:
    """One INSERT … SELECT over the enterprise table: no row of it passes through Python."""
    marks = _placeholders(conn, 3)
    # Only placeholders are interpolated; every value is a bound parameter.
    sql = ("INSERT INTO notice_receipt (notice_id, enterprise_id, project_id, status, "  # noqa: S608
           "reply_content, replied_by_name, reply_count) "
           f"SELECT {marks[0]}, id, NULL, {marks[1]}, '', '', 0 FROM enterprise")
    values: list[Any] = [notice_id, ReceiptStatus.UNREAD.value]
    if district is not None:
        sql += f" WHERE district = {marks[2]}"
        values.append(district)
    await conn.execute_query(sql, values)


async def _recipient_people(conn: BaseDBAsyncClient, targets: Iterable[tuple[int, int | None]]
                            | None, district: str | None = None) -> list[int]:
    """Leaders of the addressed enterprises, and their managers granted the notices module who
    are addressed: all of them for an enterprise-wide receipt, a project's own manager for a
    project receipt. `targets` None means every enterprise (of `district` when given)."""
    query = Person.filter(status=PersonStatus.ACTIVE, role__in=[Role.LEADER, Role.MANAGER])
    whole: set[int] | None = None
    project_managers: set[int] = set()
    if targets is not None:
        pairs = list(targets)
        whole = {e for e, p in pairs if p is None}
        query = query.filter(enterprise_id__in={e for e, _ in pairs})
        project_ids = {p for _, p in pairs if p is not None}
        if project_ids:
            managers: list[Any] = await Project.filter(id__in=project_ids).using_db(
                conn).values_list("manager_id", flat=True)
            project_managers = {int(m) for m in managers if m is not None}
    elif district is not None:
        query = query.filter(enterprise__district=district)
    people = await query.using_db(conn).values("id", "role", "modules", "enterprise_id")
    chosen: list[int] = []
    for p in people:
        granted = Module.NOTICES.value in (p["modules"] or []) and (
            whole is None or p["enterprise_id"] in whole or p["id"] in project_managers)
        if p["role"] == Role.LEADER or granted:
            chosen.append(p["id"])
    return chosen


async def do_publish_notice(settings: Settings, officer: Officer, draft: NoticeDraft) -> Notice:
    targets = await _check_draft(officer, draft)
    at = now()
    async with in_transaction() as conn:
        notice = await Notice.create(
            title=draft.title.strip(), content=draft.content.strip(),
            reply_required=draft.reply_required, deadline=draft.deadline, publisher=officer,
            publisher_unit=publisher_unit(officer), audience=draft.audience,
            district=draft.district if draft.audience == Audience.DISTRICT else "",
            attachments=draft.attachments, created_at=at, using_db=conn)
        notice.link = notice_url(settings, notice.id)
        if draft.audience == Audience.ENTERPRISES:
            await NoticeReceipt.bulk_create(
                [NoticeReceipt(notice_id=notice.id, enterprise_id=e, project_id=p)
                 for e, p in targets], batch_size=1000, using_db=conn)
            people = await _recipient_people(conn, targets)
        else:
            district = draft.district if draft.audience == Audience.DISTRICT else None
            await _insert_receipts_for_enterprises(conn, notice.id, district)
            people = await _recipient_people(conn, None, district)
        notice.receipt_count = await NoticeReceipt.filter(notice_id=notice.id).using_db(
            conn).count()
        await notice.save(update_fields=["receipt_count", "link"], using_db=conn)
        await enqueue_template_to_people(
            conn, people, template_key="NOTICE_NEW",
            values={"thing1": notice.title, "thing2": notice.publisher_unit,
                    "phrase3": "需回复" if notice.reply_required else "无需回复",
                    # A 不回复 notice has no deadline; its publication time stands in.
                    "time4": fmt_minute(notice.deadline or at)},
            url=notice.link, subject=("notice", notice.id))
        await record_audit(conn, officer_actor(officer), "notice_published", "notice", notice.id,
                           new={"title": notice.title, "audience": draft.audience.value,
                                "district": notice.district,
                                "receipts": notice.receipt_count,
                                "reply_required": notice.reply_required,
                                "deadline": fmt_minute(notice.deadline)})
    return notice


# -- reading and replying ----------------------------------------------------------------------

async def _visible_receipt(person: Person, receipt_id: int) -> NoticeReceipt:
    scope = await notice_scope(person)
    receipt = await scoped_receipts(scope).filter(id=receipt_id).select_related("notice").first()
    if receipt is None:
        raise ActionError("unknown_notice", "找不到该通知。", 404)
    return receipt


async def do_mark_notice_read(person: Person, receipt_ids: Sequence[int]) -> int:
    """Record the read receipt of each unread receipt among `receipt_ids` (opening a notice)."""
    scope = await notice_scope(person)
    receipts = await scoped_receipts(scope).filter(id__in=list(receipt_ids),
                                                   status=ReceiptStatus.UNREAD)
    if not receipts:
        return 0
    at = now()
    marked = 0
    async with in_transaction() as conn:
        for receipt in receipts:
            # Conditional, so two tabs opening at once record one read.
            changed = await NoticeReceipt.filter(
                id=receipt.id, status=ReceiptStatus.UNREAD).using_db(conn).update(
                status=ReceiptStatus.READ, read_at=at, read_by_id=person.id)
            if changed:
                marked += 1
                await record_audit(conn, person_actor(person), "notice_read", "notice_receipt",
                                   receipt.id, new={"notice_id": receipt.notice_id})  # type: ignore[attr-defined]
    return marked


async def do_reply_to_notice(person: Person, receipt_id: int, content: str,
                             via: str = "page") -> tuple[NoticeReceipt, NoticeReply]:
    """The one way to answer a 回复 notice, from the page or the chat; amendable until the
    deadline, every version kept."""
    text = content.strip()
    if not text:
        raise ActionError("empty_reply", "回复内容不能为空。")
    if len(text) > REPLY_MAX:
        raise ActionError("reply_too_long", f"回复内容不能超过{REPLY_MAX}个字。")
    receipt = await _visible_receipt(person, receipt_id)
    notice: Notice = receipt.notice
    if not notice.reply_required:
        raise ActionError("no_reply_needed", f"通知“{notice.title}”无需回复，阅读即可。")
    at = now()
    if notice.deadline is not None and at > notice.deadline:
        raise ActionError("deadline_passed",
                          f"已超过回复截止时间（{fmt_minute(notice.deadline)}），不能再回复或修改。")
    async with in_transaction() as conn:
        # Read again under a row lock: a leader and a manager answering at once would each
        # count from the same reply_count and record the same "old" reply.
        receipt = await NoticeReceipt.filter(id=receipt.id).using_db(
            conn).select_for_update().get()
        receipt.notice = notice
        reply = await NoticeReply.create(receipt_id=receipt.id, person=person,
                                         person_name=person.name, content=text, via=via,
                                         created_at=at, using_db=conn)
        old = {"reply": receipt.reply_content} if receipt.reply_count else None
        receipt.status = ReceiptStatus.REPLIED
        receipt.read_at = receipt.read_at or at
        receipt.read_by_id = receipt.read_by_id or person.id
        receipt.first_replied_at = receipt.first_replied_at or at
        receipt.replied_at = at
        receipt.reply_content = text
        receipt.replied_by_name = person.name
        receipt.reply_count += 1
        await receipt.save(using_db=conn, update_fields=[
            "status", "read_at", "read_by_id", "first_replied_at", "replied_at",
            "reply_content", "replied_by_name", "reply_count"])
        await record_audit(conn, person_actor(person),
                           "notice_reply_amended" if old else "notice_replied",
                           "notice_receipt", receipt.id, old=old,
                           new={"reply": text, "via": via, "notice_id": notice.id})
    return receipt, reply


# -- short numbers for chat ----------------------------------------------------------------

async def do_number_receipts(person_id: int, receipt_ids: Sequence[int]) -> dict[int, int]:
    """The chat number of each receipt for this person, giving the next numbers to those that
    have none, in the order given (newest first, so the first notice a user lists is 1).

    Not audited: a number is how one person refers to a receipt, not a change of business data.
    """
    for _attempt in range(3):
        known = dict(await NoticeShortNumber.filter(
            person_id=person_id, receipt_id__in=list(receipt_ids)).values_list(
            "receipt_id", "number"))
        missing = [r for r in receipt_ids if r not in known]
        if not missing:
            return known
        try:
            async with in_transaction() as conn:
                last = await NoticeShortNumber.filter(person_id=person_id).using_db(
                    conn).order_by("-number").first()
                start = (last.number if last else 0) + 1
                await NoticeShortNumber.bulk_create(
                    [NoticeShortNumber(person_id=person_id, receipt_id=r, number=start + i)
                     for i, r in enumerate(missing)], using_db=conn)
        except IntegrityError:
            # A concurrent request of the same person numbered them first; read theirs.
            continue
    raise ActionError("busy", "系统繁忙，请稍后再试。", 503)


# Built once: every `回复` in the chat starts here.
_BY_NUMBER = Statement(lambda person_id, number: NoticeShortNumber.filter(
    person_id=person_id, number=number).values("receipt_id"))


async def receipt_by_number(person_id: int, number: int) -> int | None:
    row = await _BY_NUMBER.fetch_one(person_id=person_id, number=number)
    return int(row["receipt_id"]) if row else None


# -- the reminder job ----------------------------------------------------------------------

async def remind_unanswered_notices() -> int:
    """Remind, once, every addressee of a 回复 notice still unanswered a day before its deadline.

    Each receipt is claimed by a conditional UPDATE … RETURNING, so two workers running the
    job at once remind it once; the outbox dedupe key makes each person's reminder unique too.
    Returns the number of messages queued.
    """
    at = now()
    queued = 0
    while True:
        due = Notice.filter(reply_required=True, deadline__gt=at,
                            deadline__lte=at + REMIND_BEFORE).values("id")
        candidates = await NoticeReceipt.filter(
            reminded_at=None, notice_id__in=Subquery(due)).exclude(
            status=ReceiptStatus.REPLIED).limit(REMINDER_BATCH).values_list("id", flat=True)
        if not candidates:
            return queued
        async with in_transaction() as conn:
            marks = _placeholders(conn, len(candidates), start=2)
            first = _placeholders(conn, 1)[0]
            # Stored as tortoise stores it, so the column reads back the same on SQLite.
            stamp = NoticeReceipt._meta.fields_map["reminded_at"].to_db_value(at, NoticeReceipt)
            # execute_query_dict: the asyncpg client's execute_query drops an UPDATE's rows.
            rows = await conn.execute_query_dict(
                f"UPDATE notice_receipt SET reminded_at = {first} WHERE reminded_at IS NULL "  # noqa: S608
                f"AND id IN ({', '.join(marks)}) RETURNING id", [stamp, *candidates])
            claimed = [int(r["id"]) for r in rows]
            receipts = await NoticeReceipt.filter(id__in=claimed).using_db(conn).values(
                "notice_id", "enterprise_id", "project_id")
            by_notice: dict[int, list[tuple[int, int | None]]] = {}
            for r in receipts:
                by_notice.setdefault(r["notice_id"], []).append(
                    (r["enterprise_id"], r["project_id"]))
            for notice in await Notice.filter(id__in=list(by_notice)).using_db(conn):
                queued += await _remind(conn, notice, by_notice[notice.id])
            if claimed:
                await record_audit(conn, Actor.system(), "notice_reminders_queued",
                                   "notice_receipt", None, new={"receipts": claimed})


async def _remind(conn: BaseDBAsyncClient, notice: Notice,
                  targets: list[tuple[int, int | None]]) -> int:
    prefix = f"notice-reminder:{notice.id}"
    people = await _recipient_people(conn, targets)
    # A person addressed through several receipts of this notice is reminded once.
    keys: list[Any] = await OutboxMessage.filter(
        dedupe_key__in=[f"{prefix}:{p}" for p in people]).using_db(conn).values_list(
        "dedupe_key", flat=True)
    already = {str(key).rsplit(":", 1)[1] for key in keys}
    fresh = [p for p in people if str(p) not in already]
    rows = await enqueue_template_to_people(
        conn, fresh, template_key="NOTICE_REMINDER",
        values={"thing1": notice.title, "time2": fmt_minute(notice.deadline),
                "thing3": "通知尚未回复，请在截止时间前回复"},
        url=notice.link, subject=("notice", notice.id), dedupe_prefix=prefix)
    return len(rows)


JOBS = (ScheduledJob("notice_reminders", REMINDER_EVERY_SECONDS, remind_unanswered_notices),)
