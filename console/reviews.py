"""The review queue (F18): every application kind, filtered by kind, status, district and
enterprise; accept / approve / reject / return with an opinion; the trail; and the delivery of
each status message. District staff see only their district's applications."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, redirect

from actions.applications import (
    Transition,
    all_kinds,
    allowed_transitions,
    do_review_application,
    get_kind,
    officer_may_see,
)
from actions.errors import ActionError
from actions.projects import DISTRICTS
from console.auth import console_page, district_scope
from core.pages import render
from h5_pages.applications import attachment_response
from models.applications import Application, ApplicationEvent, ApplicationStatus, Attachment
from models.officers import Officer
from models.outbox import OutboxMessage
from models.people import Person

bp = Blueprint("console_reviews", url_prefix="/console")

PAGE_SIZE = 30


def _filters(request: Request, officer: Officer) -> dict[str, str]:
    args = request.args
    chosen = {name: str(args.get(name, "")).strip()[:50]
              for name in ("kind", "status", "district", "enterprise")}
    scope = district_scope(officer)
    if scope is not None:
        chosen["district"] = scope
    return chosen


@bp.get("/reviews")
@console_page()
async def review_queue(request: Request, officer: Officer) -> HTTPResponse:
    chosen = _filters(request, officer)
    kinds = all_kinds()
    queue = Application.all()
    if chosen["kind"] in {k.key for k in kinds}:
        queue = queue.filter(kind=chosen["kind"])
    if chosen["status"] in {s.value for s in ApplicationStatus}:
        queue = queue.filter(status=chosen["status"])
    if chosen["district"]:
        queue = queue.filter(district=chosen["district"])
    if chosen["enterprise"]:
        queue = queue.filter(enterprise__name__icontains=chosen["enterprise"])
    raw_page = str(request.args.get("page", "1"))
    total = await queue.count()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(int(raw_page), 1) if raw_page.isdigit() else 1, pages)
    rows = await queue.select_related("enterprise", "applicant").order_by(
        "-submitted_at", "-id").offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    query = "&".join(f"{k}={v}" for k, v in chosen.items() if v)
    return render(request, "console/reviews/list.html", officer=officer, applications=rows,
                  kinds=kinds, kind_labels={k.key: k.label for k in kinds},
                  statuses=list(ApplicationStatus), districts=DISTRICTS, chosen=chosen,
                  district_fixed=district_scope(officer) is not None, total=total, page=page,
                  pages=pages, href="/console/reviews" + (f"?{query}" if query else ""))


async def _visible(officer: Officer, application_id: int) -> Application:
    application = await Application.filter(id=application_id).select_related(
        "enterprise", "applicant").first()
    if application is None or not officer_may_see(officer, application):
        raise NotFound("申请不存在。")
    return application


@bp.get("/reviews/<application_id:int>")
@console_page()
async def review_detail(request: Request, officer: Officer, application_id: int) -> HTTPResponse:
    return await _render_detail(request, officer, application_id)


async def _render_detail(request: Request, officer: Officer, application_id: int,
                         error: str = "", status: int = 200) -> HTTPResponse:
    application = await _visible(officer, application_id)
    kind = get_kind(application.kind)
    events = await ApplicationEvent.filter(application_id=application.id).order_by("id")
    attachments = await Attachment.filter(application_id=application.id).order_by("id")
    messages = await OutboxMessage.filter(subject_type="application",
                                          subject_id=application.id).order_by("id")
    names = dict(await Person.filter(
        id__in={m.person_id for m in messages if m.person_id}).values_list("id", "name"))
    transitions = (allowed_transitions(application.status, by_officer=True)
                   if officer.role in kind.reviewer_roles else [])
    done = str(request.args.get("done", ""))
    flashes: list[tuple[str, str]] = []
    if error:
        flashes.append(("warn", error))
    elif done in {t.value for t in Transition}:
        flashes.append(("success", f"已{Transition(done).label}。"))
    return render(request, "console/reviews/detail.html", status=status, officer=officer,
                  application=application, kind=kind, events=events, attachments=attachments,
                  messages=messages, names=names, transitions=transitions, flashes=flashes)


@bp.post("/reviews/<application_id:int>/<transition:str>")
@console_page()
async def review_act(request: Request, officer: Officer, application_id: int,
                     transition: str) -> HTTPResponse:
    await _visible(officer, application_id)
    if transition not in {t.value for t in Transition}:
        raise NotFound("没有这种审核操作。")
    form: Any = request.form or {}
    try:
        await do_review_application(request.app.ctx.settings, officer, application_id,
                                    Transition(transition), str(form.get("opinion", "")))
    except ActionError as exc:
        return await _render_detail(request, officer, application_id, error=exc.message,
                                    status=exc.status)
    return redirect(f"/console/reviews/{application_id}?done={transition}", status=303)


@bp.get("/reviews/<application_id:int>/attachments/<attachment_id:int>")
@console_page()
async def review_attachment(request: Request, officer: Officer, application_id: int,
                            attachment_id: int) -> HTTPResponse:
    application = await _visible(officer, application_id)
    return await attachment_response(request, application.id, attachment_id)
