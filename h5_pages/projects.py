"""我的小区 (F3): the project list, a project's nine tabs, and the subsidiaries page.

The list issues the same few queries whatever the number of projects: one count per group
and one page of rows with manager and enterprise joined in.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from auth_binding.access import (
    Viewer,
    h5_page,
    own_projects_rule,
    project_or_404,
    subsidiary_ids,
)
from core.pages import render
from core.statements import Statement
from models.enterprises import Enterprise
from models.people import Module
from models.project_details import (
    CommitteeMember,
    Facility,
    OwnersCommittee,
    PartyBranch,
    ProjectEmployee,
    ProjectOwner,
    ServiceContract,
    Vote,
)
from models.projects import Project, ProjectStatus

bp = Blueprint("h5_projects", url_prefix="/h5")

PAGE_SIZE = 20
TABS = (("basic", "基础信息"), ("employees", "从业人员"), ("company", "物业公司"),
        ("committee", "业主委员会"), ("party", "党支部"), ("owners", "业主情况"),
        ("safety", "安全检查"), ("votes", "电子投票"), ("facilities", "设施设备"))


def page_number(request: Request) -> int:
    raw = str(request.args.get("page", "1"))
    return max(int(raw), 1) if raw.isdigit() else 1


def _visible(enterprise_id: int, manager_id: int | None = None, search: str = "",
             **subsidiaries: int) -> QuerySet[Project]:
    """The viewer's own projects and, for a leader, the subsidiaries' (read-only).

    Own projects by their rule rather than by a list of ids: an enterprise with 500 projects
    put 500 parameters in each of the page's queries, and building them was a third of its
    time (`make bench`)."""
    rule = own_projects_rule(enterprise_id, manager_id)
    if subsidiaries:
        rule |= Q(enterprise_id__in=list(subsidiaries.values()), status=ProjectStatus.MANAGED)
    scope = Project.filter(rule)
    return scope.filter(name__icontains=search) if search else scope


def _list_page(offset: int, limit: int, **visible: Any) -> QuerySet[Project]:
    return _visible(**visible).select_related("manager", "enterprise").order_by(
        "enterprise_id", "name", "id").offset(offset).limit(limit)


def _own_count(enterprise_id: int, manager_id: int | None = None) -> Any:
    return _visible(enterprise_id, manager_id).annotate(n=Count("id")).values("n")


# Built once per role (and number of subsidiaries): the count and the page of every list
# (`make bench`). A search is built each time: its pattern is not a plain value.
_OWN_COUNT = Statement(_own_count)
_PAGE = Statement(_list_page)


@bp.get("/projects")
@h5_page(module=Module.PROJECT_INFO)
async def project_list(request: Request, viewer: Viewer) -> HTTPResponse:
    query = str(request.args.get("q", "")).strip()[:50]
    subsidiaries = await subsidiary_ids(viewer)
    own: dict[str, Any] = {"enterprise_id": viewer.enterprise.id}
    if viewer.is_manager:
        own["manager_id"] = viewer.person.id
    visible = {**own, **{f"s{i}": s for i, s in enumerate(subsidiaries)}}
    own_count = (await _visible(search=query, **visible).filter(
        enterprise_id=viewer.enterprise.id).count() if query
                 else int((await _OWN_COUNT.fetch_one(**own)).get("n") or 0))
    subsidiary_count = (await _visible(search=query, **visible).filter(
        enterprise_id__in=subsidiaries).count() if subsidiaries else 0)
    pages = max((own_count + subsidiary_count + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_number(request), pages)
    offset = (page - 1) * PAGE_SIZE
    rows = (await _list_page(offset, PAGE_SIZE, search=query, **visible) if query
            else await _PAGE.models(offset=offset, limit=PAGE_SIZE, **visible))
    return render(request, "projects/list.html", viewer=viewer, projects=rows, query=query,
                  own_count=own_count, subsidiaries=subsidiaries,
                  subsidiary_count=subsidiary_count, page=page,
                  pages=pages, href="/h5/projects" + (f"?q={query}" if query else ""))


@bp.get("/projects/<project_id:int>")
@h5_page(module=Module.PROJECT_INFO)
async def project_detail(request: Request, viewer: Viewer, project_id: int) -> HTTPResponse:
    project = await project_or_404(viewer, project_id, include_subsidiaries=True)
    await project.fetch_related("manager", "enterprise")
    tab = str(request.args.get("tab", "basic"))
    if tab not in dict(TABS):
        tab = "basic"
    read_only = not viewer.owns(project)
    context: dict[str, Any] = {"viewer": viewer, "project": project, "tabs": TABS, "tab": tab,
                               "read_only": read_only}
    context.update(await _tab_data(project, tab))
    return render(request, "projects/detail.html", **context)


async def _tab_data(project: Project, tab: str) -> dict[str, Any]:
    """Only the open tab's rows are loaded."""
    if tab == "employees":
        return {"employees": await ProjectEmployee.filter(project_id=project.id).order_by("id")}
    if tab == "company":
        return {"contract": await ServiceContract.get_or_none(project_id=project.id)}
    if tab == "committee":
        committee = await OwnersCommittee.get_or_none(project_id=project.id)
        members = (await CommitteeMember.filter(committee_id=committee.id).order_by("id")
                   if committee else [])
        return {"committee": committee, "members": members}
    if tab == "party":
        return {"branch": await PartyBranch.get_or_none(project_id=project.id)}
    if tab == "owners":
        owners = await ProjectOwner.filter(project_id=project.id).order_by("house")
        return {"owners": owners, "moved_in": sum(1 for o in owners if o.moved_in)}
    if tab == "safety":
        return {"assignments": await _safety_assignments(project)}
    if tab == "votes":
        return {"votes": await Vote.filter(project_id=project.id).order_by("-begin_at")}
    if tab == "facilities":
        return {"facilities": await Facility.filter(project_id=project.id).order_by("id")}
    return {}


async def _safety_assignments(project: Project) -> list[Any]:
    from models.safety import SafetyCheckAssignment

    return list(await SafetyCheckAssignment.filter(project_id=project.id).select_related(
        "task").order_by("-deadline").limit(50))


@bp.get("/subsidiaries")
@h5_page()
async def subsidiaries(request: Request, viewer: Viewer) -> HTTPResponse:
    children = await Enterprise.filter(parent_id=viewer.enterprise.id).order_by("name")
    return render(request, "projects/subsidiaries.html", viewer=viewer, subsidiaries=children)
