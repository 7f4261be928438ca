"""Permission management (权限管理, F2), for the enterprise leader: the project managers by
project and by permission; add a manager; edit one's name and mobile; deregister one who left."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, redirect

from actions.binding import person_actor
from actions.errors import ActionError
from actions.people import ManagerForm, do_add_manager, do_deregister_manager, do_edit_manager
from auth_binding.access import Viewer, h5_page, h5_sessions
from auth_binding.access import form_text as field
from core.pages import render
from models.people import MODULE_LABELS, Module, Person, PersonStatus, Role, WeChatBinding
from models.projects import Project, ProjectStatus

bp = Blueprint("h5_permissions", url_prefix="/h5")

LEADER_ONLY = (Role.LEADER,)


async def _managers(viewer: Viewer) -> list[Person]:
    return await Person.filter(enterprise_id=viewer.enterprise.id, role=Role.MANAGER,
                               status=PersonStatus.ACTIVE).order_by("name", "id")


async def _manager_or_404(viewer: Viewer, person_id: int) -> Person:
    person = await Person.filter(id=person_id, enterprise_id=viewer.enterprise.id,
                                 role=Role.MANAGER, status=PersonStatus.ACTIVE).first()
    if person is None:
        raise NotFound("项目经理不存在。")
    return person


async def _projects(viewer: Viewer) -> list[Project]:
    return await Project.filter(enterprise_id=viewer.enterprise.id,
                                status=ProjectStatus.MANAGED).select_related(
        "manager").order_by("name", "id")


@bp.get("/permissions", name="by_project")
@h5_page(roles=LEADER_ONLY)
async def by_project(request: Request, viewer: Viewer) -> HTTPResponse:
    return render(request, "permissions/by_project.html", viewer=viewer,
                  projects=await _projects(viewer),
                  toast="已注销" if request.args.get("done") == "deregistered" else "")


@bp.get("/permissions/by-module", name="by_module")
@h5_page(roles=LEADER_ONLY)
async def by_module(request: Request, viewer: Viewer) -> HTTPResponse:
    managers = await _managers(viewer)
    holders = {m: [p for p in managers if m.value in p.modules] for m in Module}
    return render(request, "permissions/by_module.html", viewer=viewer, holders=holders,
                  labels=MODULE_LABELS)


def _new_form(request: Request, viewer: Viewer, projects: list[Project], *,
              form: ManagerForm | None = None, error: str = "",
              status: int = 200) -> HTTPResponse:
    return render(request, "permissions/manager_new.html", status=status, viewer=viewer,
                  projects=projects, labels=MODULE_LABELS, error=error,
                  form=form or ManagerForm("", "", "", (), tuple(m.value for m in Module)))


@bp.get("/permissions/managers/new", name="manager_new")
@h5_page(roles=LEADER_ONLY)
async def manager_new(request: Request, viewer: Viewer) -> HTTPResponse:
    chosen = request.args.get("project", "")
    form = ManagerForm("", "", "", (int(chosen),) if chosen.isdigit() else (),
                       tuple(m.value for m in Module))
    return _new_form(request, viewer, await _projects(viewer), form=form)


@bp.post("/permissions/managers", name="manager_add")
@h5_page(roles=LEADER_ONLY)
async def manager_add(request: Request, viewer: Viewer) -> HTTPResponse:
    posted = request.form
    form = ManagerForm(
        name=field(request, "name"), mobile=field(request, "mobile"),
        id_number=field(request, "id_number"),
        project_ids=tuple(int(v) for v in (posted.getlist("project") if posted else [])
                          if v.isdigit()),
        modules=tuple(posted.getlist("module") if posted else []))
    try:
        person = await do_add_manager(person_actor(viewer.person), viewer.enterprise.id, form)
    except ActionError as exc:
        return _new_form(request, viewer, await _projects(viewer), form=form, error=exc.message,
                         status=exc.status if exc.status != 404 else 400)
    return redirect(f"/h5/permissions/managers/{person.id}?done=added")


@bp.get("/permissions/managers/<person_id:int>", name="manager_detail")
@h5_page(roles=LEADER_ONLY)
async def manager_detail(request: Request, viewer: Viewer, person_id: int) -> HTTPResponse:
    person = await _manager_or_404(viewer, person_id)
    return _detail(request, viewer, person, await _projects_of(person),
                   await WeChatBinding.filter(person_id=person.id).exists(),
                   toast={"added": "添加成功", "edited": "已保存"}.get(
                       request.args.get("done", ""), ""))


async def _projects_of(person: Person) -> list[Project]:
    return await Project.filter(manager_id=person.id, status=ProjectStatus.MANAGED).order_by(
        "name")


def _detail(request: Request, viewer: Viewer, person: Person, projects: list[Project],
            bound: bool, *, error: str = "", toast: str = "", status: int = 200) -> HTTPResponse:
    return render(request, "permissions/manager_detail.html", status=status, viewer=viewer,
                  person=person, projects=projects, bound=bound, labels=MODULE_LABELS,
                  error=error, toast=toast)


@bp.post("/permissions/managers/<person_id:int>/edit", name="manager_edit")
@h5_page(roles=LEADER_ONLY)
async def manager_edit(request: Request, viewer: Viewer, person_id: int) -> HTTPResponse:
    person = await _manager_or_404(viewer, person_id)
    try:
        await do_edit_manager(person_actor(viewer.person), viewer.enterprise.id, person.id,
                              name=field(request, "name"), mobile=field(request, "mobile"))
    except ActionError as exc:
        return _detail(request, viewer, person, await _projects_of(person),
                       await WeChatBinding.filter(person_id=person.id).exists(),
                       error=exc.message, status=exc.status)
    return redirect(f"/h5/permissions/managers/{person.id}?done=edited")


@bp.post("/permissions/managers/<person_id:int>/deregister", name="manager_deregister")
@h5_page(roles=LEADER_ONLY)
async def manager_deregister(request: Request, viewer: Viewer, person_id: int) -> HTTPResponse:
    person = await _manager_or_404(viewer, person_id)
    await do_deregister_manager(person_actor(viewer.person), viewer.enterprise.id, person.id,
                                h5_sessions(request.app))
    return redirect("/h5/permissions?done=deregistered")
