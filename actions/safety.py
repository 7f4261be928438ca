"""Safety checks (F11): issue a task to many projects, save a draft, submit, end the overdue,
remind one day before the deadline.

Who a task concerns: the project's manager when granted 安全检查, and the enterprise's
leaders. A new task reaches each of them once (naming the project, or how many), the reminder
once per task and person (outbox `dedupe_key`). An unsubmitted assignment past its deadline
moves to 已结束 marked overdue, by the schedule and also whenever a page reads the list, so no
page ever shows a stale tab.
"""

from __future__ import annotations

import asyncio
import io
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sanic.request import File
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from bot.schedules import ScheduledJob
from core.db import dialect
from core.localtime import fmt_minute, local
from core.uploads import store_upload, upload_path
from models.audit import AuditEntry
from models.officers import Officer, OfficerRole
from models.outbox import OutboxMessage
from models.people import Module, Person, PersonStatus, Role
from models.projects import Project, ProjectStatus
from models.safety import (
    AssignmentStatus,
    ItemResult,
    SafetyCheckAssignment,
    SafetyCheckPhoto,
    SafetyCheckResult,
    SafetyCheckTask,
)
from settings import Settings

from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError
from .outbox import enqueue_template_to_people

MAX_ITEMS = 60
MAX_ITEM_CHARS = 100
MAX_REMARK_CHARS = 500
MAX_PHOTOS_PER_ITEM = 3
PHOTO_MAX_SIDE = 1280  # px: sharp on any phone, a few hundred KB
PHOTO_MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding
REMIND_BEFORE = timedelta(days=1)
OVERDUE_EVERY_SECONDS = 60
REMIND_EVERY_SECONDS = 300


@dataclass(frozen=True)
class ItemAnswer:
    result: ItemResult | None
    remark: str = ""


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo checked by content and re-encoded for the phone, stored, not yet recorded."""

    item_index: int
    stored_name: str
    width: int
    height: int
    size_bytes: int


def officer_actor(officer: Officer) -> Actor:
    return Actor("officer", officer.id, officer.name)


def person_actor(person: Person) -> Actor:
    return Actor("person", person.id, person.name, person.enterprise_id)  # type: ignore[attr-defined]


# -- issuing --------------------------------------------------------------------------------

def check_task_fields(title: str, items: list[str], deadline: datetime | None) -> list[str]:
    title = title.strip()
    if not title or len(title) > 100:
        raise ActionError("safety_title", "请填写任务名称（不超过100个字）。")
    cleaned = [i.strip() for i in items if i.strip()]
    if not cleaned:
        raise ActionError("safety_items", "请至少填写一个检查项目。")
    if len(cleaned) > MAX_ITEMS:
        raise ActionError("safety_items", f"检查项目不能超过{MAX_ITEMS}个。")
    if any(len(i) > MAX_ITEM_CHARS for i in cleaned):
        raise ActionError("safety_items", f"每个检查项目不能超过{MAX_ITEM_CHARS}个字。")
    if deadline is None:
        raise ActionError("safety_deadline", "请填写截止时间。")
    if deadline <= now():
        raise ActionError("safety_deadline", "截止时间必须晚于现在。")
    return cleaned


async def target_projects(officer: Officer, *, district: str | None,
                          project_ids: Iterable[int]) -> list[Project]:
    """The managed projects a task goes to: a whole district (or the city, district "全市"),
    or a chosen list. A district officer reaches only their own district."""
    query = Project.filter(status=ProjectStatus.MANAGED, enterprise_id__isnull=False)
    if officer.role == OfficerRole.DISTRICT:
        query = query.filter(district=officer.district)
    chosen = sorted(set(project_ids))
    if district:
        if district != "全市":
            query = query.filter(district=district)
    elif chosen:
        query = query.filter(id__in=chosen)
    else:
        raise ActionError("safety_targets", "请选择下发的区域或项目。")
    projects = await query.order_by("id")
    if chosen and not district and len(projects) != len(chosen):
        raise ActionError("safety_targets", "所选项目中有不在您辖区内或无在管企业的项目。")
    if not projects:
        raise ActionError("safety_targets", "所选范围内没有在管项目。")
    return projects


async def do_issue_safety_task(
    settings: Settings, officer: Officer, *, title: str, description: str, items: list[str],
    deadline: datetime | None, district: str | None = None, project_ids: Iterable[int] = (),
) -> SafetyCheckTask:
    """One task to many projects at once: the task, one assignment per project (bulk), an
    audit entry and one template message per person concerned."""
    cleaned = check_task_fields(title, items, deadline)
    assert deadline is not None
    projects = await target_projects(officer, district=district, project_ids=project_ids)
    async with in_transaction() as conn:
        task = await SafetyCheckTask.create(
            title=title.strip(), description=description.strip()[:2000], items=cleaned,
            deadline=deadline, issued_by=officer, district=officer.district,
            link_base=settings.public_base_url, using_db=conn)
        await SafetyCheckAssignment.bulk_create(
            [SafetyCheckAssignment(task_id=task.id, project_id=p.id,
                                   enterprise_id=p.enterprise_id,  # type: ignore[attr-defined]
                                   deadline=deadline) for p in projects],
            batch_size=1000, using_db=conn)
        assignments = await SafetyCheckAssignment.filter(task_id=task.id).using_db(conn)
        await record_audit(conn, officer_actor(officer), "safety.task_issued", "safety_task",
                           task.id, new={"title": task.title, "items": len(cleaned),
                                         "deadline": deadline.isoformat(),
                                         "projects": len(projects)})
        await _notify(conn, task, assignments, "SAFETY_TASK_NEW", dedupe=None)
    return task


async def _concerned_people(conn: BaseDBAsyncClient, assignments: list[SafetyCheckAssignment],
                            ) -> dict[int, list[SafetyCheckAssignment]]:
    """person id -> the assignments that concern them (manager granted safety, leaders)."""
    projects = await Project.filter(
        id__in=[a.project_id for a in assignments]  # type: ignore[attr-defined]
    ).using_db(conn).values("id", "manager_id")
    manager_of = {p["id"]: p["manager_id"] for p in projects}
    enterprise_ids = {a.enterprise_id for a in assignments}  # type: ignore[attr-defined]
    people = await Person.filter(
        status=PersonStatus.ACTIVE, enterprise_id__in=enterprise_ids).using_db(conn).filter(
        role__in=[Role.LEADER, Role.MANAGER])
    leaders: dict[int, list[int]] = defaultdict(list)
    managers: dict[int, Person] = {}
    for person in people:
        if person.role == Role.LEADER:
            leaders[person.enterprise_id].append(person.id)  # type: ignore[attr-defined]
        elif person.holds(Module.SAFETY):
            managers[person.id] = person
    concerned: dict[int, list[SafetyCheckAssignment]] = defaultdict(list)
    for a in assignments:
        manager_id = manager_of.get(a.project_id)  # type: ignore[attr-defined]
        targets = set(leaders[a.enterprise_id])  # type: ignore[attr-defined]
        if manager_id in managers:
            targets.add(manager_id)
        for person_id in targets:
            concerned[person_id].append(a)
    return concerned


async def _notify(conn: BaseDBAsyncClient, task: SafetyCheckTask,
                  assignments: list[SafetyCheckAssignment], template_key: str,
                  dedupe: str | None) -> None:
    """Group people by what their message says, then one bulk enqueue per group. With
    `dedupe`, a person who already has this message of this task is left out."""
    concerned = await _concerned_people(conn, assignments)
    if dedupe:
        prefix = f"{dedupe}:{task.id}"
        keys: list[Any] = await OutboxMessage.filter(
            dedupe_key__in=[f"{prefix}:{p}" for p in concerned]).using_db(conn).values_list(
            "dedupe_key", flat=True)
        for key in keys:
            concerned.pop(int(str(key).rsplit(":", 1)[1]), None)
    names: dict[int, str] = dict(await Project.filter(
        id__in=[a.project_id for a in assignments]  # type: ignore[attr-defined]
    ).using_db(conn).values_list("id", "name"))
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for person_id, theirs in concerned.items():
        if len(theirs) == 1:
            label = str(names[theirs[0].project_id])  # type: ignore[attr-defined]
            path = f"/h5/safety/{theirs[0].id}"
        else:
            first = names[theirs[0].project_id]  # type: ignore[attr-defined]
            label, path = f"{first}等{len(theirs)}个项目", "/h5/safety"
        groups[(label, path)].append(person_id)
    for (label, path), person_ids in groups.items():
        await enqueue_template_to_people(
            conn, person_ids, template_key=template_key,
            values={"thing1": task.title, "thing2": label, "time3": fmt_minute(task.deadline)},
            url=task.link_base + path if task.link_base else "", subject=("safety_task", task.id),
            dedupe_prefix=f"{dedupe}:{task.id}" if dedupe else None)


# -- the schedule's jobs ---------------------------------------------------------------------

def _locked(query: object) -> object:
    """FOR UPDATE SKIP LOCKED on PostgreSQL so that two workers never take the same rows."""
    if dialect() == "postgres":
        return query.select_for_update(skip_locked=True)  # type: ignore[attr-defined]
    return query


async def do_end_overdue_safety_checks(enterprise_id: int | None = None) -> int:
    """Open assignments past their deadline → 已结束, overdue. Returns how many moved."""
    at = local(now())  # SQLite compares the stored text: query in the storage's zone
    async with in_transaction() as conn:
        query = SafetyCheckAssignment.filter(status=AssignmentStatus.OPEN, deadline__lte=at)
        if enterprise_id is not None:
            query = query.filter(enterprise_id=enterprise_id)
        rows = await _locked(query.using_db(conn)).values_list(  # type: ignore[attr-defined]
            "id", "enterprise_id")
        if not rows:
            return 0
        ids = [r[0] for r in rows]
        await SafetyCheckAssignment.filter(
            id__in=ids, status=AssignmentStatus.OPEN).using_db(conn).update(
            status=AssignmentStatus.ENDED, overdue=True, ended_at=at)
        await AuditEntry.bulk_create(
            [AuditEntry(actor_type="system", actor_name="系统", enterprise_id=ent,
                        event="safety.assignment_overdue", subject_type="safety_assignment",
                        subject_id=aid, old={"status": "open"},
                        new={"status": "ended", "overdue": True}) for aid, ent in rows],
            batch_size=1000, using_db=conn)
    return len(ids)


async def do_remind_safety_deadlines() -> int:
    """Open assignments within a day of their deadline get one reminder (per task and person).
    Returns how many assignments were reminded."""
    at = local(now())  # SQLite compares the stored text: query in the storage's zone
    async with in_transaction() as conn:
        query = SafetyCheckAssignment.filter(
            status=AssignmentStatus.OPEN, reminded_at__isnull=True, deadline__gt=at,
            deadline__lte=at + REMIND_BEFORE).using_db(conn)
        due: list[SafetyCheckAssignment] = await _locked(query)  # type: ignore[misc]
        if not due:
            return 0
        await SafetyCheckAssignment.filter(id__in=[a.id for a in due]).using_db(conn).update(
            reminded_at=at)
        by_task: dict[int, list[SafetyCheckAssignment]] = defaultdict(list)
        for a in due:
            by_task[a.task_id].append(a)  # type: ignore[attr-defined]
        for task in await SafetyCheckTask.filter(id__in=list(by_task)).using_db(conn):
            await _notify(conn, task, by_task[task.id], "SAFETY_TASK_REMINDER",
                          dedupe="safety-remind")
    return len(due)


# -- the enterprise's answers ----------------------------------------------------------------

async def prepare_photo(settings: Settings, file: File, item_index: int) -> PreparedPhoto:
    """Check an upload by content (JPG or PNG), then apply the EXIF orientation, shrink it to
    at most 1280 px and re-encode it as JPEG, in a thread."""
    stored = await store_upload(settings, file, kinds={"jpg", "png"})
    original = upload_path(settings, stored.stored_name)
    try:
        name, width, height, size = await asyncio.to_thread(_resize, settings, original)
    finally:
        await asyncio.to_thread(original.unlink, True)
    return PreparedPhoto(item_index, name, width, height, size)


def _resize(settings: Settings, original: object) -> tuple[str, int, int, int]:
    try:
        with Image.open(original) as img:  # type: ignore[arg-type]
            if img.width * img.height > PHOTO_MAX_PIXELS:
                raise ActionError("photo_too_big", "照片像素过大，请用手机相机直接拍摄后上传。")
            upright = ImageOps.exif_transpose(img).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ActionError("photo_unreadable", "照片无法识别，请重新拍摄后上传。") from exc
    upright.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    upright.save(buffer, "JPEG", quality=82, optimize=True)
    name = f"{secrets.token_hex(16)}.jpg"
    path = upload_path(settings, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return name, upright.width, upright.height, len(buffer.getvalue())


def discard_photos(settings: Settings, photos: list[PreparedPhoto]) -> None:
    """Remove stored files of photos an action refused (sync: call through a thread)."""
    for photo in photos:
        upload_path(settings, photo.stored_name).unlink(missing_ok=True)


async def _open_assignment(conn: BaseDBAsyncClient, person: Person,
                           assignment_id: int) -> SafetyCheckAssignment:
    query = SafetyCheckAssignment.filter(
        id=assignment_id, enterprise_id=person.enterprise_id  # type: ignore[attr-defined]
    ).using_db(conn)
    assignment = await _locked(query).first()  # type: ignore[attr-defined]
    if assignment is None:
        raise ActionError("not_found", "没有找到这项安全检查。", 404)
    if assignment.status == AssignmentStatus.OPEN and assignment.deadline <= now():
        raise ActionError("safety_overdue", "这项安全检查已过截止时间，不能再填写。", 409)
    if assignment.status != AssignmentStatus.OPEN:
        raise ActionError("safety_closed", "这项安全检查已提交或已结束，不能再修改。", 409)
    return assignment


async def _open_and_write(conn: BaseDBAsyncClient, person: Person, assignment_id: int,
                          answers: dict[int, ItemAnswer], photos: Sequence[PreparedPhoto],
                          remove_photo_ids: Iterable[int],
                          ) -> tuple[SafetyCheckAssignment, SafetyCheckTask]:
    """What saving a draft and submitting share: the open check, locked, with what was filled
    in written."""
    assignment = await _open_assignment(conn, person, assignment_id)
    task = await SafetyCheckTask.get(id=assignment.task_id).using_db(  # type: ignore[attr-defined]
        conn)
    await _write_answers(conn, assignment, len(task.items), answers, list(photos),
                         remove_photo_ids, person)
    return assignment, task


async def _write_answers(conn: BaseDBAsyncClient, assignment: SafetyCheckAssignment,
                         item_count: int, answers: dict[int, ItemAnswer],
                         photos: list[PreparedPhoto], remove_photo_ids: Iterable[int],
                         person: Person) -> None:
    for index, answer in answers.items():
        if not 0 <= index < item_count:
            raise ActionError("safety_item", "检查项目不存在，请刷新页面后重试。")
        if len(answer.remark) > MAX_REMARK_CHARS:
            raise ActionError("safety_remark", f"备注不能超过{MAX_REMARK_CHARS}个字。")
    existing = {r.item_index: r for r in await SafetyCheckResult.filter(
        assignment_id=assignment.id).using_db(conn)}
    for index, answer in answers.items():
        row = existing.get(index)
        if row is None:
            await SafetyCheckResult.create(assignment_id=assignment.id, item_index=index,
                                           result=answer.result, remark=answer.remark.strip(),
                                           using_db=conn)
        elif (row.result, row.remark) != (answer.result, answer.remark.strip()):
            row.update_from_dict({"result": answer.result, "remark": answer.remark.strip()})
            await row.save(using_db=conn, update_fields=["result", "remark"])
    removed = list(remove_photo_ids)
    if removed:
        await SafetyCheckPhoto.filter(assignment_id=assignment.id, id__in=removed).using_db(
            conn).delete()
    if photos:
        if any(not 0 <= p.item_index < item_count for p in photos):
            raise ActionError("safety_item", "检查项目不存在，请刷新页面后重试。")
        await SafetyCheckPhoto.bulk_create(
            [SafetyCheckPhoto(assignment_id=assignment.id, item_index=p.item_index,
                              stored_name=p.stored_name, width=p.width, height=p.height,
                              size_bytes=p.size_bytes, uploaded_by_id=person.id)
             for p in photos], using_db=conn)
    counts: dict[int, int] = defaultdict(int)
    for photo_item in await SafetyCheckPhoto.filter(assignment_id=assignment.id).using_db(
            conn).values_list("item_index", flat=True):
        counts[int(str(photo_item))] += 1
    if any(n > MAX_PHOTOS_PER_ITEM for n in counts.values()):
        raise ActionError("safety_photos", f"每个检查项目最多上传{MAX_PHOTOS_PER_ITEM}张照片。")


async def do_save_safety_draft(person: Person, assignment_id: int, answers: dict[int, ItemAnswer],
                               photos: Sequence[PreparedPhoto] = (),
                               remove_photo_ids: Iterable[int] = ()) -> SafetyCheckAssignment:
    """Keep what is filled in so far; the task stays 待提交."""
    async with in_transaction() as conn:
        assignment, _ = await _open_and_write(conn, person, assignment_id, answers,
                                              photos, remove_photo_ids)
        assignment.draft_saved_at = now()
        await assignment.save(using_db=conn, update_fields=["draft_saved_at"])
        await record_audit(conn, person_actor(person), "safety.draft_saved",
                           "safety_assignment", assignment.id,
                           new={"answered": sum(1 for a in answers.values() if a.result),
                                "photos_added": len(photos)})
    return assignment


async def do_submit_safety_check(person: Person, assignment_id: int,
                                 answers: dict[int, ItemAnswer],
                                 photos: Sequence[PreparedPhoto] = (),
                                 remove_photo_ids: Iterable[int] = ()) -> SafetyCheckAssignment:
    """Submit: every item answered, each 存在问题 explained in its remark, at least one photo
    of the check on site. Read-only from then on."""
    async with in_transaction() as conn:
        assignment, task = await _open_and_write(conn, person, assignment_id, answers,
                                                 photos, remove_photo_ids)
        results = {r.item_index: r for r in await SafetyCheckResult.filter(
            assignment_id=assignment.id).using_db(conn)}
        missing = [i + 1 for i in range(len(task.items))
                   if results.get(i) is None or results[i].result is None]
        if missing:
            raise ActionError("safety_incomplete", "请为每个检查项目选择“正常”或“存在问题”，"
                              f"尚未填写：第{'、'.join(map(str, missing))}项。")
        unexplained = [i + 1 for i, r in sorted(results.items())
                       if r.result == ItemResult.PROBLEM and not r.remark.strip()]
        if unexplained:
            raise ActionError("safety_remark_needed", "选择“存在问题”的项目请在备注中说明问题，"
                              f"尚未说明：第{'、'.join(map(str, unexplained))}项。")
        if not await SafetyCheckPhoto.filter(assignment_id=assignment.id).using_db(conn).exists():
            raise ActionError("safety_photo_needed", "请至少上传一张现场检查照片后再提交。")
        problems = sum(1 for r in results.values() if r.result == ItemResult.PROBLEM)
        assignment.status = AssignmentStatus.SUBMITTED
        assignment.submitted_at = now()
        assignment.submitted_by = person
        assignment.problem_count = problems
        await assignment.save(using_db=conn, update_fields=[
            "status", "submitted_at", "submitted_by_id", "problem_count"])
        await record_audit(conn, person_actor(person), "safety.submitted", "safety_assignment",
                           assignment.id, old={"status": "open"},
                           new={"status": "submitted", "problems": problems})
    return assignment


JOBS = (
    ScheduledJob("safety_overdue", OVERDUE_EVERY_SECONDS, do_end_overdue_safety_checks),
    ScheduledJob("safety_reminders", REMIND_EVERY_SECONDS, do_remind_safety_deadlines),
)
