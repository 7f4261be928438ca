"""The route sweep (issue 3, part 4): for EVERY /h5 route of the app, a signed-in user of
enterprise A (鹏城物业) asking for enterprise B's (安居乐物业) object gets 404 (or 403 for a role
or module they lack), lists never show B's rows, and actions never change B's rows.

ADDING A ROUTE? Register it in SWEEP_CASES below, keyed "<blueprint>.<route name>", with a
builder that turns B's objects (`OtherEnterprise`) into probes. The sweep fails for any /h5
route without a case, and for a case whose route is gone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import httpx
import pytest
from auth_helpers import DEMO_LEADER_OPENID, DEMO_MANAGER_OPENID, csrf_token, sign_in

from actions.clock import now
from conftest import LiveServer
from models.enterprises import Enterprise
from models.notices import Audience, Notice, NoticeReceipt
from models.officers import Officer
from models.people import Person, PersonStatus, Role, WeChatBinding
from models.projects import Project
from models.safety import SafetyCheckAssignment, SafetyCheckPhoto, SafetyCheckTask

# Words that appear only in enterprise B's rows (its name, people, projects, notice, task).
B_MARKERS = ("安居乐", "赵磊", "陈静", "东门", "13900000002")

ProbeKind = Literal["object", "list", "action"]


@dataclass(frozen=True)
class Probe:
    """One request of the sweep.

    object: B's object by id → 404 (403 accepted when the viewer lacks the role or module).
    list:   a page of A's own rows → 200 (or 403) and none of B_MARKERS in it.
    action: a state change aimed at B's rows → anything but 5xx, and `unchanged` holds after.
    """

    kind: ProbeKind
    method: str
    path: str
    data: dict[str, Any] = field(default_factory=dict)
    unchanged: Callable[[OtherEnterprise], Awaitable[bool]] | None = None
    last: bool = False  # ends the viewer's own session or account: run after the others


@dataclass(frozen=True)
class OtherEnterprise:
    """Enterprise B's objects, which A's users must never reach."""

    enterprise_id: int
    project_id: int
    free_project_id: int  # a B project without a manager
    manager_id: int
    leader_id: int
    notice_id: int
    safety_assignment_id: int
    safety_photo_id: int
    application_id: int = 0
    application_attachment_id: int = 0


def obj(method: str, path: str, **data: Any) -> Probe:
    return Probe("object", method, path, data)


def listing(path: str) -> Probe:
    return Probe("list", "GET", path)


CaseBuilder = Callable[[OtherEnterprise], list[Probe]]


async def _b_people_untouched(b: OtherEnterprise) -> bool:
    manager = await Person.get(id=b.manager_id)
    leader = await Person.get(id=b.leader_id)
    return (manager.status == PersonStatus.ACTIVE and manager.mobile == "13900000002"
            and leader.mobile == "13900000001"
            and await WeChatBinding.filter(person_id=b.manager_id).exists())


async def _b_project_still_managed(b: OtherEnterprise) -> bool:
    from models.applications import Application

    project = await Project.get(id=b.project_id)
    return (project.enterprise_id == b.enterprise_id  # type: ignore[attr-defined]
            and not await Application.filter(project_id=b.project_id,
                                             kind="project_remove").exists())


async def _b_free_project_untouched(b: OtherEnterprise) -> bool:
    project = await Project.get(id=b.free_project_id)
    return project.manager_id is None  # type: ignore[attr-defined]


SWEEP_CASES: dict[str, CaseBuilder] = {
    # -- my account ----------------------------------------------------------------------
    "h5_account.account": lambda b: [listing("/h5/account")],
    "h5_account.mobile_form": lambda b: [listing("/h5/account/mobile")],
    "h5_account.mobile_change": lambda b: [Probe(
        "action", "POST", "/h5/account/mobile",
        {"mobile": "13900000002", "op": "send_code", "person_id": b.manager_id},
        unchanged=_b_people_untouched)],
    "h5_account.unbind": lambda b: [Probe(
        "action", "POST", "/h5/account/unbind", {"person_id": b.manager_id},
        unchanged=_b_people_untouched, last=True)],
    "h5_account.deregister": lambda b: [Probe(
        "action", "POST", "/h5/account/deregister", {"person_id": b.manager_id},
        unchanged=_b_people_untouched, last=True)],
    # -- permission management -----------------------------------------------------------
    "h5_permissions.by_project": lambda b: [listing("/h5/permissions")],
    "h5_permissions.by_module": lambda b: [listing("/h5/permissions/by-module")],
    "h5_permissions.manager_new": lambda b: [
        listing(f"/h5/permissions/managers/new?project={b.free_project_id}")],
    "h5_permissions.manager_add": lambda b: [Probe(
        "action", "POST", "/h5/permissions/managers",
        {"name": "越权", "mobile": "13800000066", "id_number": "440304199001011233",
         "project": str(b.free_project_id), "module": "notices",
         "enterprise_id": b.enterprise_id},
        unchanged=_b_free_project_untouched)],
    "h5_permissions.manager_detail": lambda b: [
        obj("GET", f"/h5/permissions/managers/{b.manager_id}")],
    "h5_permissions.manager_edit": lambda b: [
        obj("POST", f"/h5/permissions/managers/{b.manager_id}/edit", name="越权",
            mobile="13800000067")],
    "h5_permissions.manager_deregister": lambda b: [
        obj("POST", f"/h5/permissions/managers/{b.manager_id}/deregister")],
    # -- home ----------------------------------------------------------------------------
    "h5_home.hub": lambda b: [listing("/h5/")],
    # -- notices -------------------------------------------------------------------------
    "h5_notices.notices_list": lambda b: [listing("/h5/notices")],
    "h5_notices.notice_detail": lambda b: [obj("GET", f"/h5/notices/{b.notice_id}")],
    "h5_notices.notice_reply": lambda b: [
        obj("POST", f"/h5/notices/{b.notice_id}/reply", content="越权回复")],
    "h5_notices.notice_attachment": lambda b: [
        obj("GET", f"/h5/notices/{b.notice_id}/attachments/0")],
    # -- safety checks -------------------------------------------------------------------
    "h5_safety.safety_list": lambda b: [listing("/h5/safety")],
    "h5_safety.safety_check": lambda b: [obj("GET", f"/h5/safety/{b.safety_assignment_id}")],
    "h5_safety.safety_check_post": lambda b: [
        obj("POST", f"/h5/safety/{b.safety_assignment_id}", op="save")],
    "h5_safety.safety_photo": lambda b: [obj("GET", f"/h5/safety/photos/{b.safety_photo_id}")],
    # -- common funds --------------------------------------------------------------------
    "h5_funds.funds_list": lambda b: [listing("/h5/funds")],
    "h5_funds.fund_account": lambda b: [obj("GET", f"/h5/funds/{b.project_id}")],
    # -- projects and applications -----------------------------------------------------------
    "h5_projects.project_list": lambda b: [listing("/h5/projects")],
    "h5_projects.project_detail": lambda b: [
        obj("GET", f"/h5/projects/{b.project_id}?tab=owners")],
    "h5_projects.subsidiaries": lambda b: [listing("/h5/subsidiaries")],
    "h5_applications.application_list": lambda b: [listing("/h5/applications")],
    "h5_applications.application_form": lambda b: [
        listing(f"/h5/applications/new?kind=project_remove&project={b.project_id}"),
        obj("GET", f"/h5/applications/new?kind=project_add&from={b.application_id}")],
    "h5_applications.application_submit": lambda b: [Probe(
        "action", "POST", "/h5/applications/new",
        {"kind": "project_remove", "project_id": str(b.project_id), "reason": "越权",
         "enterprise_id": b.enterprise_id},
        unchanged=_b_project_still_managed)],
    "h5_applications.application_detail": lambda b: [
        obj("GET", f"/h5/applications/{b.application_id}")],
    "h5_applications.application_withdraw": lambda b: [
        obj("POST", f"/h5/applications/{b.application_id}/withdraw")],
    "h5_applications.supplement_form": lambda b: [
        obj("GET", f"/h5/applications/{b.application_id}/supplement")],
    "h5_applications.supplement_submit": lambda b: [
        obj("POST", f"/h5/applications/{b.application_id}/supplement", reason="越权")],
    "h5_applications.attachment_download": lambda b: [obj(
        "GET", f"/h5/applications/{b.application_id}/attachments/"
               f"{b.application_attachment_id}")],
}


def h5_routes(live: LiveServer) -> dict[str, set[str]]:
    """Every /h5 route of the app: "<blueprint>.<name>" → its methods."""
    routes: dict[str, set[str]] = {}
    for route in live.app.router.routes:
        if route.path == "h5" or route.path.startswith("h5/"):
            key = route.name.split(".", 1)[1]  # drop the app's name
            routes.setdefault(key, set()).update(route.methods)
    return routes


async def _b_application(b: Enterprise, project: Project) -> tuple[int, int]:
    """B's returned application (so that every action on it would be allowed to B)."""
    from models.applications import Application, ApplicationStatus, Attachment

    zhaolei = await Person.get(name="赵磊")
    application = await Application.create(
        kind="project_edit", number="BG20261126999999", status=ApplicationStatus.RETURNED,
        enterprise=b, applicant=zhaolei, project=project, title="信息变更：安居乐家园",
        district="罗湖区", payload={"project_name": "安居乐家园", "old": {}, "changes": {}},
        submitted_at=now(), updated_at=now())
    attachment = await Attachment.create(
        application=application, stored_name="f" * 32 + ".pdf", display_name="安居乐合同.pdf",
        kind="pdf", mime="application/pdf", size=1, sha256="0", created_at=now())
    return application.id, attachment.id


async def seed_other_enterprise() -> OtherEnterprise:
    """B's rows of every area, on top of the demo data."""
    b = await Enterprise.get(name="深圳市安居乐物业管理有限公司")
    project = await Project.get(name="安居乐家园")
    free = await Project.get(name="东门商业广场")
    luohu = await Officer.get(username="luohu")
    notice = await Notice.create(
        title="安居乐专属通知", content="仅发给安居乐物业", publisher=luohu,
        publisher_unit="罗湖区物业管理中心", audience=Audience.ENTERPRISES,
        created_at=now(), attachments=[{"name": "安居乐附件.pdf", "stored": "none", "size": 1}])
    await NoticeReceipt.create(notice=notice, enterprise=b)
    task = await SafetyCheckTask.create(title="安居乐专属检查", items=["东门消防通道畅通"],
                                        deadline=now() + timedelta(days=3), issued_by=luohu,
                                        district="罗湖区")
    assignment = await SafetyCheckAssignment.create(task=task, project=project, enterprise=b,
                                                    deadline=task.deadline)
    photo = await SafetyCheckPhoto.create(assignment=assignment, item_index=0,
                                          stored_name="none.jpg", width=1, height=1,
                                          size_bytes=1)
    application, attachment = await _b_application(b, project)
    chenjing = await Person.get(name="陈静", role=Role.LEADER)
    return OtherEnterprise(
        application_id=application, application_attachment_id=attachment,
        enterprise_id=b.id, project_id=project.id, free_project_id=free.id,
        manager_id=(await Person.get(name="赵磊")).id,
        leader_id=chenjing.id, notice_id=notice.id, safety_assignment_id=assignment.id,
        safety_photo_id=photo.id)


async def test_sweep_table_covers_every_h5_route(live: LiveServer) -> None:
    routes = h5_routes(live)
    missing = sorted(set(routes) - set(SWEEP_CASES))
    stale = sorted(set(SWEEP_CASES) - set(routes))
    assert not missing, f"/h5 routes without a sweep case (add them to SWEEP_CASES): {missing}"
    assert not stale, f"sweep cases whose route is gone: {stale}"


async def _probe(c: httpx.AsyncClient, probe: Probe, token: str) -> httpx.Response:
    if probe.method == "GET":
        return await c.get(probe.path)
    return await c.request(probe.method, probe.path, data={**probe.data, "csrf_token": token})


@pytest.mark.parametrize("openid", [DEMO_LEADER_OPENID, DEMO_MANAGER_OPENID],
                         ids=["leader", "manager"])
async def test_sweep_other_enterprise_never_reached(live: LiveServer, demo: None,
                                                    openid: str) -> None:
    b = await seed_other_enterprise()
    routes = h5_routes(live)
    probes = [(key, p) for key, build in SWEEP_CASES.items() if key in routes
              for p in build(b)]
    probes.sort(key=lambda kp: (kp[1].last, kp[1].path.endswith("deregister")))
    async with live.client() as c:
        await sign_in(c, openid)
        token = await csrf_token(c)
        for key, probe in probes:
            assert probe.method in routes[key], f"{key}: probe {probe.method} not served"
            r = await _probe(c, probe, token)
            where = f"{key} {probe.method} {probe.path} → {r.status_code}"
            assert r.status_code < 500, where
            if probe.kind == "object":
                assert r.status_code in (403, 404), where
                assert r.status_code == 404 or openid != DEMO_LEADER_OPENID, where
            elif probe.kind == "list":
                assert r.status_code in (200, 403), where
                leaked = [m for m in B_MARKERS if m in r.text]
                assert not leaked, f"{where} shows B's rows: {leaked}"
            else:
                assert probe.unchanged is not None
                assert await probe.unchanged(b), f"{where} changed B's rows"
