"""The officers' notices (F5, F18): publish to all, a district or chosen enterprises (and
projects), follow the receipts — read, replied, overdue, with the replies — and export them.
District staff publish to, and follow, their own district only."""

from __future__ import annotations

import asyncio
from collections import Counter
from io import BytesIO
from typing import Any
from urllib.parse import quote

from openpyxl import Workbook
from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, file, raw, redirect
from tortoise.expressions import Q
from tortoise.functions import Count

from actions.clock import now
from actions.errors import ActionError
from actions.notices import NoticeDraft, do_publish_notice
from console.auth import console_page, district_scope
from core.localtime import fmt_minute, parse_local
from core.pages import render
from core.uploads import store_upload, upload_path
from models.enterprises import Enterprise
from models.notices import Audience, Notice, NoticeReceipt, NoticeReply, ReceiptStatus
from models.officers import Officer
from models.projects import Project

bp = Blueprint("console_notices", url_prefix="/console")

MAX_ATTACHMENTS = 5
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FOLLOW_UP = {"all": "全部", "unread": "未读", "read": "已读", "replied": "已回复",
             "overdue": "逾期未回复"}


def _visible_notices(officer: Officer) -> Any:
    district = district_scope(officer)
    query = Notice.all()
    if district is not None:
        query = query.filter(Q(publisher__district=district) | Q(district=district))
    return query


async def _notice_or_404(officer: Officer, notice_id: int) -> Notice:
    notice = await _visible_notices(officer).filter(id=notice_id).first()
    if notice is None:
        raise NotFound("通知不存在。")
    return notice


def receipt_state(notice: Notice, receipt: NoticeReceipt) -> str:
    if receipt.status == ReceiptStatus.REPLIED:
        return "replied"
    if notice.reply_required and notice.deadline and notice.deadline <= now():
        return "overdue"
    return str(receipt.status.value)


@bp.get("/notices", name="console_notices_list")
@console_page()
async def notices_list(request: Request, officer: Officer) -> HTTPResponse:
    notices = await _visible_notices(officer).order_by("-created_at").limit(100)
    tallies: dict[int, Counter[str]] = {n.id: Counter() for n in notices}
    rows = await NoticeReceipt.filter(notice_id__in=list(tallies)).annotate(
        n=Count("id")).group_by("notice_id", "status").values("notice_id", "status", "n")
    for row in rows:
        tallies[row["notice_id"]][str(row["status"])] += row["n"]
    return render(request, "console/notices/list.html", officer=officer, notices=notices,
                  tallies=tallies, minute=fmt_minute)


async def _form_choices(officer: Officer) -> dict[str, Any]:
    district = district_scope(officer)
    enterprises = Enterprise.all().order_by("district", "name")
    projects = Project.filter(enterprise_id__not_isnull=True).order_by("enterprise_id", "name")
    if district is not None:
        enterprises = enterprises.filter(district=district)
        projects = projects.filter(enterprise__district=district)
    districts = sorted({d for d in await Enterprise.all().distinct().values_list(
        "district", flat=True) if d})
    return {"enterprises": await enterprises, "projects": await projects,
            "districts": [district] if district else districts, "own_district": district}


@bp.get("/notices/new", name="console_notice_new")
@console_page()
async def notice_new(request: Request, officer: Officer) -> HTTPResponse:
    return render(request, "console/notices/new.html", officer=officer, form={}, error="",
                  **await _form_choices(officer))


def _ids(values: list[str] | None) -> list[int]:
    return [int(v) for v in values or [] if v.isdecimal()]


async def _attachments(request: Request) -> list[dict[str, Any]]:
    uploaded = request.files.getlist("attachments") if request.files else None
    files = [f for f in uploaded or [] if f.body]
    if len(files) > MAX_ATTACHMENTS:
        raise ActionError("too_many_files", f"附件最多{MAX_ATTACHMENTS}个。")
    stored = [await store_upload(request.app.ctx.settings, f) for f in files]
    return [{"name": s.display_name, "stored": s.stored_name, "mime": s.mime, "size": s.size}
            for s in stored]


@bp.post("/notices", name="console_notice_publish")
@console_page()
async def notice_publish(request: Request, officer: Officer) -> HTTPResponse:
    form: Any = request.form or {}
    fields = {k: str(form.get(k, "")) for k in ("title", "content", "reply", "deadline",
                                                "audience", "district")}
    try:
        audience = Audience(fields["audience"])
    except ValueError:
        audience = Audience.ENTERPRISES
    deadline = parse_local(fields["deadline"]) if fields["deadline"] else None
    try:
        if fields["deadline"] and deadline is None:
            raise ActionError("bad_deadline", "截止时间格式不正确。")
        draft = NoticeDraft(
            title=fields["title"], content=fields["content"],
            reply_required=fields["reply"] == "1", deadline=deadline, audience=audience,
            district=district_scope(officer) or fields["district"],
            enterprise_ids=_ids(form.getlist("enterprise_ids")),
            project_ids=_ids(form.getlist("project_ids")),
            attachments=await _attachments(request))
        notice = await do_publish_notice(request.app.ctx.settings, officer, draft)
    except ActionError as exc:
        return render(request, "console/notices/new.html", status=exc.status, officer=officer,
                      form=fields, error=exc.message, **await _form_choices(officer))
    return redirect(f"/console/notices/{notice.id}?published=1", status=303)


async def _follow_up(notice: Notice) -> tuple[list[NoticeReceipt], dict[int, list[NoticeReply]],
                                              dict[int, str]]:
    """The notice's receipts, each one's reply history, and each one's follow-up state."""
    receipts = await NoticeReceipt.filter(notice_id=notice.id).select_related(
        "enterprise", "project").order_by("enterprise__name", "id")
    history: dict[int, list[NoticeReply]] = {}
    for reply in await NoticeReply.filter(receipt__notice_id=notice.id).order_by("id"):
        history.setdefault(reply.receipt_id, []).append(reply)  # type: ignore[attr-defined]
    return receipts, history, {r.id: receipt_state(notice, r) for r in receipts}


@bp.get("/notices/<notice_id:int>", name="console_notice_detail")
@console_page()
async def notice_detail(request: Request, officer: Officer, notice_id: int) -> HTTPResponse:
    notice = await _notice_or_404(officer, notice_id)
    receipts, history, states = await _follow_up(notice)
    tally = Counter(states.values())
    which = request.args.get("state", "all")
    shown = [r for r in receipts if which not in FOLLOW_UP or which == "all"
             or states[r.id] == which]
    flashes = [("success", "通知已发布。")] if request.args.get("published") else []
    return render(request, "console/notices/detail.html", officer=officer, notice=notice,
                  receipts=shown, states=states, tally=tally, total=len(receipts),
                  history=history, which=which, labels=FOLLOW_UP, minute=fmt_minute,
                  flashes=flashes)


def _workbook(notice: Notice, receipts: list[NoticeReceipt], states: dict[int, str],
              history: dict[int, list[NoticeReply]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "回执"
    sheet.append(["通知标题", notice.title])
    sheet.append(["回复要求", "需回复" if notice.reply_required else "无需回复",
                  "截止时间", fmt_minute(notice.deadline)])
    sheet.append([])
    sheet.append(["企业", "统一社会信用代码", "项目", "状态", "阅读时间", "回复时间", "回复人",
                  "回复内容", "修改次数"])
    for r in receipts:
        sheet.append([r.enterprise.name, r.enterprise.credit_code,
                      r.project.name if r.project else "", FOLLOW_UP[states[r.id]],
                      fmt_minute(r.read_at), fmt_minute(r.replied_at), r.replied_by_name,
                      r.reply_content, max(len(history.get(r.id, [])) - 1, 0)])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


@bp.get("/notices/<notice_id:int>/export.xlsx", name="console_notice_export")
@console_page()
async def notice_export(request: Request, officer: Officer, notice_id: int) -> HTTPResponse:
    notice = await _notice_or_404(officer, notice_id)
    receipts, history, states = await _follow_up(notice)
    body = await asyncio.to_thread(_workbook, notice, receipts, states, history)
    name = quote(f"通知回执-{notice.id}.xlsx")
    return raw(body, content_type=XLSX,
               headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@bp.get("/notices/<notice_id:int>/attachments/<index:int>", name="console_notice_attachment")
@console_page()
async def notice_attachment(request: Request, officer: Officer, notice_id: int,
                            index: int) -> HTTPResponse:
    notice = await _notice_or_404(officer, notice_id)
    if not 0 <= index < len(notice.attachments):
        raise NotFound("附件不存在。")
    attachment = notice.attachments[index]
    return await file(upload_path(request.app.ctx.settings, attachment["stored"]),
                      filename=attachment["name"], mime_type=attachment.get("mime"))
