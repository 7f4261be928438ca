"""安全检查 pages (F11): the tabs 待提交 / 已提交 / 已结束 with counts, and the phone-sized check
form (each item 正常 / 存在问题 with a remark and photos; save a draft or submit; read-only
after). A leader sees the checks of every project of the enterprise, a manager granted 安全检查
those of their projects. Overdue checks are ended before any list or form is shown, so the
page never shows a stale tab even when the schedule has not run yet.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json, raw, redirect
from tortoise.expressions import Subquery
from tortoise.functions import Count

from actions.errors import ActionError
from actions.safety import (
    MAX_PHOTOS_PER_ITEM,
    ItemAnswer,
    PreparedPhoto,
    discard_photos,
    do_end_overdue_safety_checks,
    do_save_safety_draft,
    do_submit_safety_check,
    prepare_photo,
)
from auth_binding.access import Viewer, h5_page
from core.errors import wants_json
from core.localtime import fmt_minute
from core.pages import render
from core.uploads import read_upload
from models.people import Module
from models.safety import (
    AssignmentStatus,
    ItemResult,
    SafetyCheckAssignment,
    SafetyCheckPhoto,
    SafetyCheckResult,
)

bp = Blueprint("h5_safety", url_prefix="/h5")

PAGE_SIZE = 20
TABS: tuple[AssignmentStatus, ...] = (AssignmentStatus.OPEN, AssignmentStatus.SUBMITTED,
                                      AssignmentStatus.ENDED)
TOASTS = {"saved": "草稿已保存", "submitted": "已提交"}
_ORDER = {AssignmentStatus.OPEN: ("deadline", "id"),
          AssignmentStatus.SUBMITTED: ("-submitted_at", "-id"),
          AssignmentStatus.ENDED: ("-deadline", "-id")}


def visible(viewer: Viewer) -> Any:
    """The viewer's assignments: their enterprise, and for a manager only their projects."""
    return SafetyCheckAssignment.filter(enterprise_id=viewer.enterprise.id,
                                        project_id__in=Subquery(viewer.projects().values("id")))


@bp.get("/safety")
@h5_page(module=Module.SAFETY)
async def safety_list(request: Request, viewer: Viewer) -> HTTPResponse:
    await do_end_overdue_safety_checks(enterprise_id=viewer.enterprise.id)
    try:
        tab = AssignmentStatus(request.args.get("tab", AssignmentStatus.OPEN.value))
    except ValueError:
        tab = AssignmentStatus.OPEN
    counts = {str(row["status"]): int(row["n"]) for row in await visible(viewer).annotate(
        n=Count("id")).group_by("status").values("status", "n")}
    page = max(1, int(request.args.get("page", "1")) if request.args.get(
        "page", "1").isdigit() else 1)
    pages = max(1, -(-counts.get(tab.value, 0) // PAGE_SIZE))
    page = min(page, pages)
    rows = await visible(viewer).filter(status=tab).select_related("task", "project").order_by(
        *_ORDER[tab]).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return render(request, "safety/list.html", viewer=viewer, tab=tab, tabs=TABS,
                  counts=counts, rows=rows, page=page, pages=pages, fmt=fmt_minute)


@dataclass
class ItemView:
    index: int
    text: str
    result: str
    remark: str
    photos: list[SafetyCheckPhoto]


async def _assignment_or_404(viewer: Viewer, assignment_id: int) -> SafetyCheckAssignment:
    assignment = await visible(viewer).filter(id=assignment_id).select_related(
        "task", "project", "submitted_by").first()
    if assignment is None:
        raise NotFound("没有找到这项安全检查。")
    return assignment


async def _item_views(assignment: SafetyCheckAssignment,
                      posted: dict[int, ItemAnswer] | None = None) -> list[ItemView]:
    results = {r.item_index: r for r in await SafetyCheckResult.filter(
        assignment_id=assignment.id)}
    photos: dict[int, list[SafetyCheckPhoto]] = {}
    for photo in await SafetyCheckPhoto.filter(assignment_id=assignment.id).order_by("id"):
        photos.setdefault(photo.item_index, []).append(photo)
    views = []
    for index, text in enumerate(assignment.task.items):
        saved = results.get(index)
        answer = (posted or {}).get(index)
        if answer is not None:
            result, remark = (answer.result.value if answer.result else ""), answer.remark
        else:
            result = saved.result.value if saved and saved.result else ""
            remark = saved.remark if saved else ""
        views.append(ItemView(index, text, result, remark, photos.get(index, [])))
    return views


def _render_check(request: Request, viewer: Viewer, assignment: SafetyCheckAssignment,
                  items: list[ItemView], error: str = "", status: int = 200) -> HTTPResponse:
    return render(request, "safety/check.html", status=status, viewer=viewer,
                  assignment=assignment, task=assignment.task, items=items, error=error,
                  editable=assignment.status == AssignmentStatus.OPEN, fmt=fmt_minute,
                  max_photos=MAX_PHOTOS_PER_ITEM, toast=TOASTS.get(request.args.get("done", "")))


@bp.get("/safety/<assignment_id:int>")
@h5_page(module=Module.SAFETY)
async def safety_check(request: Request, viewer: Viewer, assignment_id: int) -> HTTPResponse:
    await do_end_overdue_safety_checks(enterprise_id=viewer.enterprise.id)
    assignment = await _assignment_or_404(viewer, assignment_id)
    return _render_check(request, viewer, assignment, await _item_views(assignment))


def _posted_answers(form: Any, item_count: int) -> dict[int, ItemAnswer]:
    answers: dict[int, ItemAnswer] = {}
    for index in range(item_count):
        value = str(form.get(f"result_{index}", "") or "")
        result = ItemResult(value) if value in (r.value for r in ItemResult) else None
        answers[index] = ItemAnswer(result, str(form.get(f"remark_{index}", "") or "")[:1000])
    return answers


async def _posted_photos(request: Request, item_count: int) -> list[PreparedPhoto]:
    """Every photo field that carries a file, checked and resized; all or none are kept."""
    settings = request.app.ctx.settings
    prepared: list[PreparedPhoto] = []
    try:
        for index in range(item_count):
            for file in (request.files.getlist(f"photo_{index}") if request.files else None
                         ) or []:
                if file.body:
                    prepared.append(await prepare_photo(settings, file, index))
    except ActionError:
        await asyncio.to_thread(discard_photos, settings, prepared)
        raise
    return prepared


@bp.post("/safety/<assignment_id:int>")
@h5_page(module=Module.SAFETY)
async def safety_check_post(request: Request, viewer: Viewer,
                            assignment_id: int) -> HTTPResponse:
    assignment = await _assignment_or_404(viewer, assignment_id)
    form: Any = request.form or {}
    item_count = len(assignment.task.items)
    answers = _posted_answers(form, item_count)
    removed = [int(v) for v in (form.getlist("remove_photo") if request.form else None) or []
               if str(v).isdigit()]
    submitting = form.get("intent") == "submit"
    photos: list[PreparedPhoto] = []
    try:
        photos = await _posted_photos(request, item_count)
        action = do_submit_safety_check if submitting else do_save_safety_draft
        await action(viewer.person, assignment.id, answers, photos, removed)
    except ActionError as exc:
        await asyncio.to_thread(discard_photos, request.app.ctx.settings, photos)
        if wants_json(request):
            return json({"error": exc.code, "message": exc.message}, status=exc.status)
        assignment = await _assignment_or_404(viewer, assignment_id)
        return _render_check(request, viewer, assignment,
                             await _item_views(assignment, answers), exc.message,
                             status=exc.status)
    done = "submitted" if submitting else "saved"
    return redirect(f"/h5/safety/{assignment.id}?done={done}", status=303)


@bp.get("/safety/photos/<photo_id:int>")
@h5_page(module=Module.SAFETY)
async def safety_photo(request: Request, viewer: Viewer, photo_id: int) -> HTTPResponse:
    photo = await SafetyCheckPhoto.filter(
        id=photo_id, assignment__enterprise_id=viewer.enterprise.id,
        assignment__project_id__in=Subquery(viewer.projects().values("id"))).first()
    if photo is None:
        raise NotFound("照片不存在。")
    body = await read_upload(request.app.ctx.settings, photo.stored_name)
    return raw(body, content_type="image/jpeg",
               headers={"Cache-Control": "private, max-age=86400",
                        "X-Content-Type-Options": "nosniff"})
