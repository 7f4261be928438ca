"""The enterprise's applications (F3): submit each kind with attachments, the records list,
the detail with its trail and message deliveries, 重新新增, 补充资料, 撤回, and downloads.

Files are checked and stored by `core.uploads` before the action runs; the action then links
them to the application in its transaction. Every lookup is scoped to the viewer's enterprise
(a manager: their own applications); another enterprise's application is a 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, raw, redirect

from actions.applications import (
    ApplicationKind,
    Transition,
    all_kinds,
    allowed_transitions,
    do_submit_application,
    do_supplement_application,
    do_withdraw_application,
    get_kind,
)
from actions.errors import ActionError
from actions.projects import DISTRICTS, basic_info
from auth_binding.access import Viewer, h5_page
from core.pages import render
from core.uploads import StoredUpload, read_upload, store_upload
from models.applications import (
    Application,
    ApplicationEvent,
    ApplicationStatus,
    Attachment,
    AttachmentPurpose,
)
from models.outbox import OutboxMessage
from models.people import Person
from models.projects import Project, ProjectType

bp = Blueprint("h5_applications", url_prefix="/h5")

PAGE_SIZE = 20
MAX_FILES = 10
PROJECT_TYPES = [(t.value, t.label) for t in ProjectType]


def _scope(viewer: Viewer) -> Any:
    scope = Application.filter(enterprise_id=viewer.enterprise.id)
    return scope.filter(applicant_id=viewer.person.id) if viewer.is_manager else scope


async def _application_or_404(viewer: Viewer, application_id: int) -> Application:
    application = await _scope(viewer).filter(id=application_id).first()
    if application is None:
        raise NotFound("申请不存在。")
    return application


@bp.get("/applications")
@h5_page()
async def application_list(request: Request, viewer: Viewer) -> HTTPResponse:
    status = str(request.args.get("status", ""))
    scope = _scope(viewer)
    if status in {s.value for s in ApplicationStatus}:
        scope = scope.filter(status=status)
    else:
        status = ""
    raw_page = str(request.args.get("page", "1"))
    page = max(int(raw_page), 1) if raw_page.isdigit() else 1
    total = await scope.count()
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    rows = await scope.order_by("-submitted_at", "-id").offset(
        (min(page, pages) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    kinds = {k.key: k.label for k in all_kinds()}
    return render(request, "applications/list.html", viewer=viewer, applications=rows,
                  kinds=kinds, status_filter=status, statuses=list(ApplicationStatus),
                  page=min(page, pages), pages=pages,
                  href="/h5/applications" + (f"?status={status}" if status else ""))


# -- the form ------------------------------------------------------------------------------------

def _form_fields(request: Request) -> dict[str, str]:
    form: Any = request.form or {}
    return {key: str(form.get(key, "")) for key in form if key != "csrf_token"}


async def _form_context(viewer: Viewer, kind: ApplicationKind, project_id: int | None,
                        query: str) -> dict[str, Any]:
    """What the kind's form offers: the project concerned, or the projects to choose from."""
    context: dict[str, Any] = {"kind": kind, "district_options": [(d, d) for d in DISTRICTS],
                               "project_types": PROJECT_TYPES, "query": query, "project": None,
                               "choices": []}
    if kind.key == "project_attach":
        unmanaged = Project.filter(enterprise_id=None)
        if query:
            unmanaged = unmanaged.filter(name__icontains=query)
        context["choices"] = await unmanaged.order_by("name").limit(50)
    elif kind.key in ("project_remove", "project_edit"):
        if project_id is not None:
            context["project"] = await viewer.projects().filter(id=project_id).first()
        context["choices"] = await viewer.projects().order_by("name").limit(200)
    context["project_options"] = [(p.id, p.name) for p in context["choices"]]
    return context


def _int_arg(value: Any) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() else None


@bp.get("/applications/new")
@h5_page()
async def application_form(request: Request, viewer: Viewer) -> HTTPResponse:
    try:
        kind = get_kind(str(request.args.get("kind", "project_add")))
    except ActionError as exc:
        raise NotFound(exc.message) from exc
    project_id = _int_arg(request.args.get("project"))
    source_id = _int_arg(request.args.get("from"))
    context = await _form_context(viewer, kind, project_id,
                                  str(request.args.get("q", "")).strip()[:50])
    values: dict[str, Any] = {}
    if source_id is not None:
        # 重新新增: the rejected application's fields, to edit and send again.
        source = await _application_or_404(viewer, source_id)
        values = dict(source.payload)
    elif context["project"] is not None and kind.key == "project_edit":
        values = basic_info(context["project"])
    return render(request, "applications/form.html", viewer=viewer, values=values,
                  errors=[], source_id=source_id, action="/h5/applications/new", **context)


async def _store_files(request: Request) -> list[tuple[StoredUpload, AttachmentPurpose]]:
    settings = request.app.ctx.settings
    files: Any = request.files
    materials = [f for f in (files.getlist("materials", []) if files else []) if f.body]
    contracts = [f for f in (files.getlist("contract", []) if files else []) if f.body]
    if len(materials) + len(contracts) > MAX_FILES:
        raise ActionError("too_many_files", f"一次最多上传 {MAX_FILES} 个文件。")
    stored = [(await store_upload(settings, f), AttachmentPurpose.MATERIAL) for f in materials]
    stored += [(await store_upload(settings, f), AttachmentPurpose.CONTRACT) for f in contracts]
    return stored


@bp.post("/applications/new")
@h5_page()
async def application_submit(request: Request, viewer: Viewer) -> HTTPResponse:
    fields = _form_fields(request)
    try:
        kind = get_kind(fields.pop("kind", ""))
    except ActionError as exc:
        raise NotFound(exc.message) from exc
    project_id = _int_arg(fields.pop("project_id", ""))
    source_id = _int_arg(fields.pop("resubmitted_from", ""))
    try:
        uploads = await _store_files(request)
        application = await do_submit_application(
            request.app.ctx.settings, viewer.person, kind.key, fields, project_id=project_id,
            uploads=uploads, resubmitted_from_id=source_id)
    except ActionError as exc:
        context = await _form_context(viewer, kind, project_id, "")
        return render(request, "applications/form.html", status=exc.status, viewer=viewer,
                      values=fields, errors=[exc.message], source_id=source_id,
                      action="/h5/applications/new", **context)
    return redirect(f"/h5/applications/{application.id}?done=submit", status=303)


# -- one application -----------------------------------------------------------------------------

@bp.get("/applications/<application_id:int>")
@h5_page()
async def application_detail(request: Request, viewer: Viewer,
                             application_id: int) -> HTTPResponse:
    application = await _application_or_404(viewer, application_id)
    kind = get_kind(application.kind)
    applicant = await Person.get(id=application.applicant_id)
    events = await ApplicationEvent.filter(application_id=application.id).order_by("id")
    attachments = await Attachment.filter(application_id=application.id).order_by("id")
    messages = await OutboxMessage.filter(subject_type="application",
                                          subject_id=application.id).order_by("id")
    names = dict(await Person.filter(
        id__in={m.person_id for m in messages if m.person_id}).values_list("id", "name"))
    resubmission = await Application.filter(resubmitted_from_id=application.id).first()
    mine = {t.value for t in allowed_transitions(application.status, by_officer=False)}
    may_act = not viewer.is_manager or application.applicant_id == viewer.person.id
    done = {"submit": "申请已提交", "withdraw": "申请已撤回",
            "supplement": "资料已补充，等待审核"}.get(str(request.args.get("done", "")))
    return render(request, "applications/detail.html", viewer=viewer, application=application,
                  kind=kind, applicant=applicant, events=events, attachments=attachments,
                  messages=messages, names=names, resubmission=resubmission,
                  can_withdraw=may_act and Transition.WITHDRAW.value in mine,
                  can_supplement=may_act and Transition.SUPPLEMENT.value in mine,
                  can_resubmit=(may_act and kind.resubmittable and resubmission is None
                                and application.status == ApplicationStatus.REJECTED),
                  toast=done)


@bp.post("/applications/<application_id:int>/withdraw")
@h5_page()
async def application_withdraw(request: Request, viewer: Viewer,
                               application_id: int) -> HTTPResponse:
    await _application_or_404(viewer, application_id)
    try:
        await do_withdraw_application(request.app.ctx.settings, viewer.person, application_id)
    except ActionError as exc:
        return render(request, "error.html", status=exc.status, title="无法撤回",
                      message=exc.message, status_code=exc.status,
                      home_url=f"/h5/applications/{application_id}")
    return redirect(f"/h5/applications/{application_id}?done=withdraw", status=303)


@bp.get("/applications/<application_id:int>/supplement")
@h5_page()
async def supplement_form(request: Request, viewer: Viewer,
                          application_id: int) -> HTTPResponse:
    application = await _application_or_404(viewer, application_id)
    kind = get_kind(application.kind)
    context = await _form_context(viewer, kind, application.project_id, "")
    values = dict(application.payload)
    if kind.key == "project_edit":
        values = {**values.get("old", {}), **values.get("changes", {})}
    return render(request, "applications/form.html", viewer=viewer, values=values, errors=[],
                  source_id=None, supplement=application,
                  action=f"/h5/applications/{application.id}/supplement", **context)


@bp.post("/applications/<application_id:int>/supplement")
@h5_page()
async def supplement_submit(request: Request, viewer: Viewer,
                            application_id: int) -> HTTPResponse:
    application = await _application_or_404(viewer, application_id)
    fields = _form_fields(request)
    note = fields.pop("note", "")
    for key in ("kind", "project_id", "resubmitted_from"):
        fields.pop(key, None)
    try:
        uploads = await _store_files(request)
        await do_supplement_application(request.app.ctx.settings, viewer.person,
                                        application.id, fields, note=note, uploads=uploads)
    except ActionError as exc:
        kind = get_kind(application.kind)
        context = await _form_context(viewer, kind, application.project_id, "")
        return render(request, "applications/form.html", status=exc.status, viewer=viewer,
                      values=fields, errors=[exc.message], source_id=None,
                      supplement=application,
                      action=f"/h5/applications/{application.id}/supplement", **context)
    return redirect(f"/h5/applications/{application.id}?done=supplement", status=303)


@bp.get("/applications/<application_id:int>/attachments/<attachment_id:int>")
@h5_page()
async def attachment_download(request: Request, viewer: Viewer, application_id: int,
                              attachment_id: int) -> HTTPResponse:
    application = await _application_or_404(viewer, application_id)
    return await attachment_response(request, application.id, attachment_id)


async def attachment_response(request: Request, application_id: int,
                              attachment_id: int) -> HTTPResponse:
    """An attachment of an application the caller may see, as a download (never rendered
    inline as a page of this site); 404 when it is not that application's."""
    attachment = await Attachment.get_or_none(id=attachment_id, application_id=application_id)
    if attachment is None:
        raise NotFound("附件不存在。")
    body = await read_upload(request.app.ctx.settings, attachment.stored_name)
    name = quote(attachment.display_name, safe="")
    return raw(body, content_type=attachment.mime, headers={
        "Content-Disposition": f"attachment; filename=\"file.{attachment.kind}\"; "
                               f"filename*=UTF-8''{name}",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})
