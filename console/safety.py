"""The officers' safety-check pages (F11, F18): issue a task to many projects (a district or
a chosen list), follow it (submitted, late, problems found), read each submission's items,
remarks and photos, and export the follow-up as xlsx. A district officer issues to and follows
only their own district; a city officer the whole city.
"""

from __future__ import annotations

import asyncio
import io
from collections import defaultdict
from typing import Any

from openpyxl import Workbook
from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, raw, redirect

from actions.errors import ActionError
from actions.safety import do_end_overdue_safety_checks, do_issue_safety_task
from console.auth import console_page, district_scope
from core.localtime import fmt_minute, parse_local
from core.pages import render
from core.uploads import read_upload
from models.officers import Officer
from models.projects import Project, ProjectStatus
from models.safety import (
    AssignmentStatus,
    SafetyCheckAssignment,
    SafetyCheckPhoto,
    SafetyCheckResult,
    SafetyCheckTask,
)

bp = Blueprint("console_safety", url_prefix="/console")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _tasks(officer: Officer) -> Any:
    district = district_scope(officer)
    query = SafetyCheckTask.all()
    return query if district is None else query.filter(district=district)


async def _task_or_404(officer: Officer, task_id: int) -> SafetyCheckTask:
    task = await _tasks(officer).filter(id=task_id).first()
    if task is None:
        raise NotFound("没有找到这项安全检查任务。")
    return task


async def _task_and_assignments(officer: Officer, task_id: int,
                                ) -> tuple[SafetyCheckTask, list[SafetyCheckAssignment]]:
    """A task the officer may see and its projects' checks, overdue ones ended first."""
    await do_end_overdue_safety_checks()
    task = await _task_or_404(officer, task_id)
    assignments = await SafetyCheckAssignment.filter(task_id=task.id).select_related(
        "project", "enterprise", "submitted_by").order_by("project__district", "project__name")
    return task, list(assignments)


async def _progress(task_ids: list[int]) -> dict[int, dict[str, int]]:
    """Per task: projects, submitted, open, overdue, with problems."""
    progress: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in await SafetyCheckAssignment.filter(task_id__in=task_ids).values(
            "task_id", "status", "overdue", "problem_count"):
        counts = progress[row["task_id"]]
        counts["projects"] += 1
        counts[str(row["status"])] += 1
        counts["overdue"] += 1 if row["overdue"] else 0
        counts["problems"] += 1 if row["problem_count"] else 0
    return progress


@bp.get("/safety")
@console_page()
async def task_list(request: Request, officer: Officer) -> HTTPResponse:
    await do_end_overdue_safety_checks()
    tasks = await _tasks(officer).order_by("-created_at", "-id").limit(200)
    return render(request, "console/safety/tasks.html", officer=officer, tasks=tasks,
                  progress=await _progress([t.id for t in tasks]), fmt=fmt_minute,
                  flashes=[("success", "任务已下发")] if request.args.get("issued") else [])


async def _issue_form(request: Request, officer: Officer, *, error: str = "",
                      values: dict[str, Any] | None = None, status: int = 200) -> HTTPResponse:
    query = Project.filter(status=ProjectStatus.MANAGED, enterprise_id__isnull=False)
    district = district_scope(officer)
    if district is not None:
        query = query.filter(district=district)
    projects = await query.select_related("enterprise").order_by("district", "name")
    districts = sorted({p.district for p in projects if p.district})
    return render(request, "console/safety/task_new.html", status=status, officer=officer,
                  projects=projects, districts=districts, city=district is None,
                  error=error, values=values or {"target": "district"})


@bp.get("/safety/new")
@console_page()
async def issue_form(request: Request, officer: Officer) -> HTTPResponse:
    return await _issue_form(request, officer)


@bp.post("/safety/new")
@console_page()
async def issue_submit(request: Request, officer: Officer) -> HTTPResponse:
    form: Any = request.form or {}
    values = {key: str(form.get(key, "") or "") for key in
              ("title", "description", "items", "deadline", "target", "district")}
    chosen = [int(v) for v in form.getlist("project", []) if str(v).isdigit()]
    values["projects"] = chosen  # type: ignore[assignment]
    by_district = values["target"] == "district"
    try:
        task = await do_issue_safety_task(
            request.app.ctx.settings, officer, title=values["title"],
            description=values["description"], items=values["items"].splitlines(),
            deadline=parse_local(values["deadline"]),
            district=(values["district"] or officer.district or "全市") if by_district else None,
            project_ids=[] if by_district else chosen)
    except ActionError as exc:
        return await _issue_form(request, officer, error=exc.message, values=values,
                                 status=exc.status)
    return redirect(f"/console/safety/{task.id}?issued=1", status=303)


@bp.get("/safety/<task_id:int>")
@console_page()
async def task_detail(request: Request, officer: Officer, task_id: int) -> HTTPResponse:
    task, assignments = await _task_and_assignments(officer, task_id)
    return render(request, "console/safety/task.html", officer=officer, task=task,
                  assignments=assignments, progress=(await _progress([task.id]))[task.id],
                  fmt=fmt_minute,
                  flashes=[("success", "任务已下发，已通知相关项目")] if request.args.get(
                      "issued") else [])


async def _assignment_or_404(officer: Officer, assignment_id: int) -> SafetyCheckAssignment:
    query = SafetyCheckAssignment.filter(id=assignment_id)
    district = district_scope(officer)
    if district is not None:
        query = query.filter(task__district=district)
    assignment = await query.select_related("task", "project", "enterprise",
                                            "submitted_by").first()
    if assignment is None:
        raise NotFound("没有找到这份检查记录。")
    return assignment


@bp.get("/safety/assignments/<assignment_id:int>")
@console_page()
async def submission(request: Request, officer: Officer, assignment_id: int) -> HTTPResponse:
    assignment = await _assignment_or_404(officer, assignment_id)
    # A draft is the enterprise's own until submitted: officers see answers only after.
    shown = assignment.status == AssignmentStatus.SUBMITTED
    results = {r.item_index: r for r in await SafetyCheckResult.filter(
        assignment_id=assignment.id)} if shown else {}
    photos: dict[int, list[SafetyCheckPhoto]] = defaultdict(list)
    if shown:
        for photo in await SafetyCheckPhoto.filter(assignment_id=assignment.id).order_by("id"):
            photos[photo.item_index].append(photo)
    return render(request, "console/safety/submission.html", officer=officer, assignment=assignment,
                  task=assignment.task, results=results, photos=photos, shown=shown,
                  fmt=fmt_minute)


@bp.get("/safety/photos/<photo_id:int>")
@console_page()
async def photo(request: Request, officer: Officer, photo_id: int) -> HTTPResponse:
    query = SafetyCheckPhoto.filter(id=photo_id,
                                    assignment__status=AssignmentStatus.SUBMITTED)
    district = district_scope(officer)
    if district is not None:
        query = query.filter(assignment__task__district=district)
    found = await query.first()
    if found is None:
        raise NotFound("照片不存在。")
    body = await read_upload(request.app.ctx.settings, found.stored_name)
    return raw(body, content_type="image/jpeg", headers={"Cache-Control": "private"})


@bp.get("/safety/<task_id:int>/export.xlsx")
@console_page()
async def export(request: Request, officer: Officer, task_id: int) -> HTTPResponse:
    task, assignments = await _task_and_assignments(officer, task_id)
    results: dict[int, dict[int, SafetyCheckResult]] = defaultdict(dict)
    submitted = [a.id for a in assignments if a.status == AssignmentStatus.SUBMITTED]
    for r in await SafetyCheckResult.filter(assignment_id__in=submitted):
        results[r.assignment_id][r.item_index] = r  # type: ignore[attr-defined]
    body = await asyncio.to_thread(_workbook, task, assignments, results)
    return raw(body, content_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"safety-task-{task.id}.xlsx\""})


def _workbook(task: SafetyCheckTask, assignments: list[SafetyCheckAssignment],
              results: dict[int, dict[int, SafetyCheckResult]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "检查情况"
    header = ["区", "项目编号", "项目名称", "物业企业", "状态", "逾期", "提交时间", "提交人",
              "存在问题项数"]
    for index, item in enumerate(task.items, start=1):
        header += [f"{index}. {item}", f"{index}. 备注"]
    sheet.append(header)
    for a in assignments:
        row: list[object] = [
            a.project.district, a.project.code, a.project.name, a.enterprise.name,
            a.status.label, "是" if a.overdue else "否", fmt_minute(a.submitted_at),
            a.submitted_by.name if a.submitted_by else "",
            a.problem_count if a.status == AssignmentStatus.SUBMITTED else ""]
        for index in range(len(task.items)):
            result = results.get(a.id, {}).get(index)
            row += [result.result.label if result and result.result else "",
                    result.remark if result else ""]
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
