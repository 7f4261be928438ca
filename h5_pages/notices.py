"""The notices pages (F5): list with unread / to-reply / overdue filters, a notice with its
read receipt, the reply form (amendable until the deadline) and the attachments."""

from __future__ import annotations

import math
from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, file, redirect

from actions.clock import now
from actions.errors import ActionError
from actions.notice_queries import (
    NoticeScope,
    ReceiptFilter,
    filter_counts,
    is_overdue,
    notice_scope,
    receipts_page,
    scoped_receipts,
)
from actions.notices import do_mark_notice_read, do_number_receipts, do_reply_to_notice
from auth_binding.access import Viewer, h5_page
from core.localtime import fmt_minute
from core.pages import render
from core.uploads import upload_path
from models.notices import Notice, NoticeReceipt, NoticeReply
from models.people import Module

bp = Blueprint("h5_notices", url_prefix="/h5")

PAGE_SIZE = 20


def _which(request: Request) -> ReceiptFilter:
    try:
        return ReceiptFilter(request.args.get("filter", "all"))
    except ValueError:
        return ReceiptFilter.ALL


@bp.get("/notices", name="notices_list")
@h5_page(module=Module.NOTICES)
async def notices_list(request: Request, viewer: Viewer) -> HTTPResponse:
    scope = await notice_scope(viewer.person)
    which = _which(request)
    counts = await filter_counts(scope)
    total = counts[which]
    pages = max(1, math.ceil(total / PAGE_SIZE))
    asked = str(request.args.get("page", "1"))
    page = min(int(asked), pages) if asked.isdecimal() and int(asked) > 0 else 1
    receipts = await receipts_page(scope, which, (page - 1) * PAGE_SIZE, PAGE_SIZE)
    numbers = await do_number_receipts(viewer.person.id, [r.id for r in receipts])
    return render(request, "notices/list.html", receipts=receipts, numbers=numbers,
                  which=which, filters=list(ReceiptFilter), counts=counts,
                  page=page, pages=pages, is_overdue=is_overdue, minute=fmt_minute)


async def _notice_and_receipts(scope: NoticeScope,
                               notice_id: int) -> tuple[Notice, list[NoticeReceipt]]:
    receipts = await scoped_receipts(scope).filter(notice_id=notice_id).select_related(
        "notice", "project").order_by("id")
    if not receipts:
        raise NotFound("通知不存在。")
    return receipts[0].notice, receipts


async def _detail(request: Request, viewer: Viewer, notice_id: int, *, status: int = 200,
                  error: str = "", draft: dict[int, str] | None = None,
                  toast: str = "") -> HTTPResponse:
    scope = await notice_scope(viewer.person)
    notice, receipts = await _notice_and_receipts(scope, notice_id)
    history: dict[int, list[NoticeReply]] = {r.id: [] for r in receipts}
    for reply in await NoticeReply.filter(receipt_id__in=list(history)).order_by("-id"):
        history[reply.receipt_id].append(reply)  # type: ignore[attr-defined]
    return render(request, "notices/detail.html", status=status, notice=notice,
                  receipts=receipts, history=history, error=error, draft=draft or {},
                  is_overdue=is_overdue, toast=toast, minute=fmt_minute,
                  open_for_reply=bool(notice.deadline and notice.deadline > now()))


@bp.get("/notices/<notice_id:int>", name="notice_detail")
@h5_page(module=Module.NOTICES)
async def notice_detail(request: Request, viewer: Viewer, notice_id: int) -> HTTPResponse:
    scope = await notice_scope(viewer.person)
    _, receipts = await _notice_and_receipts(scope, notice_id)
    # Opening the notice is its read receipt (and all a 不回复 notice asks for).
    await do_mark_notice_read(viewer.person, [r.id for r in receipts])
    toast = "回复已提交" if request.args.get("replied") else ""
    return await _detail(request, viewer, notice_id, toast=toast)


@bp.post("/notices/<notice_id:int>/reply", name="notice_reply")
@h5_page(module=Module.NOTICES)
async def notice_reply(request: Request, viewer: Viewer, notice_id: int) -> HTTPResponse:
    form: Any = request.form or {}
    content = str(form.get("content", ""))
    raw_id = str(form.get("receipt_id", ""))
    scope = await notice_scope(viewer.person)
    _, receipts = await _notice_and_receipts(scope, notice_id)
    receipt = next((r for r in receipts if str(r.id) == raw_id), None)
    if receipt is None:
        raise NotFound("通知不存在。")
    try:
        await do_reply_to_notice(viewer.person, receipt.id, content, via="page")
    except ActionError as exc:
        return await _detail(request, viewer, notice_id, status=exc.status, error=exc.message,
                             draft={receipt.id: content})
    return redirect(f"/h5/notices/{notice_id}?replied=1", status=303)


@bp.get("/notices/<notice_id:int>/attachments/<index:int>", name="notice_attachment")
@h5_page(module=Module.NOTICES)
async def notice_attachment(request: Request, viewer: Viewer, notice_id: int,
                            index: int) -> HTTPResponse:
    scope = await notice_scope(viewer.person)
    notice, _ = await _notice_and_receipts(scope, notice_id)
    if not 0 <= index < len(notice.attachments):
        raise NotFound("附件不存在。")
    attachment = notice.attachments[index]
    return await file(upload_path(request.app.ctx.settings, attachment["stored"]),
                      filename=attachment["name"], mime_type=attachment.get("mime"))
