"""Access control in one place: who is asking, and what they may see.

Every `/h5/...` page is wrapped by `h5_page`, which loads the signed-in person from the server
side session (never from a query, form or header), checks role and module, checks the CSRF
token on state-changing requests, and hands the handler a `Viewer`. Queries are then scoped with
`viewer.projects()` (a rule, not a list of ids: a leader of 500 projects would otherwise carry
500 ids into every query and load them on every page); `project_or_404` hides another
enterprise's project.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sanic import Request, Sanic
from sanic.exceptions import NotFound
from sanic.response import HTTPResponse, json, redirect
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from bot.bot_request import bound_person
from core.errors import wants_json
from core.pages import render
from core.sessions import H5_SESSIONS, Session, SessionStore, csrf_ok
from core.statements import Statement
from models.enterprises import Enterprise
from models.people import Module, Person, Role
from models.projects import Project, ProjectStatus

ALL_MODULES: frozenset[str] = frozenset(m.value for m in Module)
_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class Viewer:
    """The signed-in person and everything they may see."""

    person: Person  # active, bound, with .enterprise fetched
    enterprise: Enterprise
    role: Role
    # leader/handler: every module; manager: the modules granted by the leader.
    modules: frozenset[str]

    def can(self, module: Module | str) -> bool:
        return str(module) in self.modules

    def own_projects(self) -> Q:
        """leader/handler: every project the enterprise manages; manager: the ones they manage."""
        return own_projects_rule(self.enterprise.id,
                                 self.person.id if self.is_manager else None)

    def projects(self) -> QuerySet[Project]:
        return Project.filter(self.own_projects())

    def owns(self, project: Project) -> bool:
        """The same rule as own_projects(), on a project already loaded."""
        return (project.enterprise_id == self.enterprise.id  # type: ignore[attr-defined]
                and project.status == ProjectStatus.MANAGED
                and (not self.is_manager
                     or project.manager_id == self.person.id))  # type: ignore[attr-defined]

    @property
    def is_leader(self) -> bool:
        return self.role == Role.LEADER

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def owner(self) -> str:
        return session_owner(self.person.id)


def own_projects_rule(enterprise_id: int, manager_id: int | None) -> Q:
    rule = Q(enterprise_id=enterprise_id, status=ProjectStatus.MANAGED)
    return rule if manager_id is None else rule & Q(manager_id=manager_id)


def session_owner(person_id: int) -> str:
    """The owner string under which a person's sessions are indexed (revoke_owner)."""
    return f"person:{person_id}"


def h5_sessions(app: Sanic) -> SessionStore:
    """The store of the WeChat users' sessions (`/h5`, `/auth`)."""
    return SessionStore(app.ctx.redis, app.ctx.settings, H5_SESSIONS)


async def revoke_person_sessions(app: Sanic, person_id: int) -> int:
    """End every session of a person at once (unbind, deregistration, unsubscribe)."""
    return await h5_sessions(app).revoke_owner(session_owner(person_id))


async def load_viewer(session: Session) -> Viewer | None:
    """The Viewer of a person's session, or None when the person is no longer active and
    bound to the openid the session was opened for."""
    if not session.owner.startswith("person:"):
        return None
    # The bot's one-statement lookup: every page starts here (`make bench`).
    person = await bound_person(str(session.data.get("openid", "")))
    if person is None or person.id != int(session.owner.removeprefix("person:")):
        return None
    modules = (frozenset(person.modules) & ALL_MODULES if person.role == Role.MANAGER
               else ALL_MODULES)
    return Viewer(person=person, enterprise=person.enterprise, role=Role(person.role),
                  modules=modules)


_SUBSIDIARIES = Statement(lambda parent_id: Enterprise.filter(parent_id=parent_id).values("id"))


async def subsidiary_ids(viewer: Viewer) -> list[int]:
    """A leader sees the subsidiaries' projects read-only (F3); nobody else has any."""
    if not viewer.is_leader:
        return []
    return [int(row["id"]) for row in await _SUBSIDIARIES.fetch(parent_id=viewer.enterprise.id)]


def form_text(request: Request, name: str) -> str:
    """One text field of a posted form, stripped ("" when absent or not a form)."""
    form = request.form
    return str(form.get(name) or "").strip() if form else ""


def local_path(candidate: str | None, default: str = "/h5/projects") -> str:
    """A path on this site only: an open redirect through `next` is refused."""
    if (not candidate or not candidate.startswith("/") or candidate.startswith("//")
            or "\\" in candidate or any(ord(c) < 0x20 for c in candidate)):
        return default
    return candidate


def sign_in_url(request: Request) -> str:
    path = request.path + (f"?{request.query_string}" if request.query_string else "")
    return "/auth/start?next=" + quote(local_path(path), safe="")


def refuse(request: Request, status: int, code: str, message: str) -> HTTPResponse:
    """A refusal: JSON with a code for scripts, a plain Chinese page for people."""
    if wants_json(request):
        return json({"error": code, "message": message}, status=status)
    return render(request, "auth/refused.html", status=status, message=message,
                  retry_url=sign_in_url(request) if status == 401 else "")


def _signed_out(request: Request) -> HTTPResponse:
    if wants_json(request):
        return refuse(request, 401, "signed_out", "登录已失效，请重新进入。")
    return redirect(sign_in_url(request))


def h5_page(module: Module | None = None,
            roles: tuple[Role, ...] | None = None) -> Callable[[Handler], Handler]:
    """Decorate `async def page(request, viewer: Viewer, **route_args)`.

    No session: redirect to the OAuth entry. A session whose person was deregistered or
    unbound: destroyed, then the same. Role not allowed or module not granted: 403. A
    state-changing request without the session's CSRF token: 403.
    """

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def page(request: Request, **route_args: Any) -> HTTPResponse:
            store = h5_sessions(request.app)
            session = await store.load(store.sid_from(request))
            if session is None or not session.owner:
                return _signed_out(request)
            viewer = await load_viewer(session)
            if viewer is None:
                await store.destroy(session.sid)
                response = _signed_out(request)
                store.clear_cookie(response)
                return response
            request.ctx.viewer = viewer
            request.ctx.session = session
            request.ctx.csrf_token = session.csrf_token
            if request.method in _UNSAFE_METHODS and not csrf_ok(request, session):
                return refuse(request, 403, "csrf", "页面已过期，请返回刷新后再提交。")
            if roles is not None and viewer.role not in roles:
                return refuse(request, 403, "role", "您的身份无权使用此功能。")
            if module is not None and not viewer.can(module):
                return refuse(request, 403, "module",
                              f"您没有「{Module(module).label}」权限，请联系企业负责人授权。")
            return await handler(request, viewer, **route_args)

        return page

    return decorate


async def project_or_404(viewer: Viewer, project_id: int, *,
                         include_subsidiaries: bool = False) -> Project:
    """A project the viewer may see, or 404 (never 403: another enterprise's project does not
    exist for them). With include_subsidiaries a leader also gets a subsidiary's project, to
    show read-only."""
    project = await viewer.projects().filter(id=project_id).first()
    if project is None and include_subsidiaries and viewer.is_leader:
        project = await Project.filter(id=project_id, enterprise__parent_id=viewer.enterprise.id,
                                       status=ProjectStatus.MANAGED).first()
    if project is None:
        raise NotFound("项目不存在。")
    return project
