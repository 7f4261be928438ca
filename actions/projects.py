"""The four project application kinds (F3) and their effects on approval.

新增物业项目 creates the project under the enterprise; 添加在管 takes an existing project that
no enterprise manages; 移除在管 ends the management (and the manager's binding to it); 项目信息
变更 applies the changed basic info. Each effect re-checks the project inside the approving
transaction, because the world may have moved since the application was submitted.
"""

from __future__ import annotations

from datetime import date, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models.applications import OPEN_STATUSES, Application
from models.people import Module, Role
from models.projects import Project, ProjectStatus, ProjectType

from .applications import ApplicationKind, Draft, Submission, register_kind
from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError

DISTRICTS = ("福田区", "罗湖区", "南山区", "盐田区", "宝安区", "龙岗区", "龙华区", "坪山区",
             "光明区", "大鹏新区")
# Basic info an enterprise may ask to change (项目信息变更); the district is not among them:
# moving a project to another district is not an edit.
EDITABLE_FIELDS = ("name", "address", "street", "community", "project_type", "build_area",
                   "total_house_num")
FIELD_LABELS = {"name": "项目名称", "address": "项目地址", "district": "所在区",
                "street": "街道办", "community": "社区", "project_type": "物业类型",
                "build_area": "建筑面积(㎡)", "total_house_num": "总户数", "reason": "移除原因",
                "remark": "备注"}
_CHINA = timezone(timedelta(hours=8))


def _text(fields: dict[str, Any], name: str, *, required: bool, limit: int) -> str:
    value = str(fields.get(name) or "").strip()
    if required and not value:
        raise ActionError("field_required", f"请填写{FIELD_LABELS[name]}。")
    if len(value) > limit:
        raise ActionError("field_too_long", f"{FIELD_LABELS[name]}不能超过 {limit} 个字。")
    return value


def _basic_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The basic info of a project, validated: what an add or an edit carries."""
    try:
        project_type = ProjectType(int(fields.get("project_type") or ProjectType.RESIDENTIAL))
    except ValueError as exc:
        raise ActionError("bad_field", "请选择物业类型。") from exc
    try:
        build_area = Decimal(str(fields.get("build_area") or "0").strip())
    except InvalidOperation as exc:
        raise ActionError("bad_field", "建筑面积须为数字。") from exc
    if not build_area.is_finite() or build_area < 0 or build_area >= Decimal("1e12"):
        raise ActionError("bad_field", "建筑面积须为不小于 0 的数字。")
    houses_raw = str(fields.get("total_house_num") or "0").strip()
    if not houses_raw.isdigit() or int(houses_raw) > 10_000_000:
        raise ActionError("bad_field", "总户数须为不小于 0 的整数。")
    return {
        "name": _text(fields, "name", required=True, limit=100),
        "address": _text(fields, "address", required=True, limit=200),
        "street": _text(fields, "street", required=False, limit=50),
        "community": _text(fields, "community", required=False, limit=50),
        "project_type": project_type.value,
        "build_area": str(build_area.quantize(Decimal("0.01"))),
        "total_house_num": int(houses_raw),
    }


async def _own_project(conn: BaseDBAsyncClient, submission: Submission) -> Project:
    """The applicant enterprise's project named by the submission (a manager: only theirs)."""
    applicant = submission.applicant
    project = None
    if submission.project_id is not None:
        project = await Project.filter(
            id=submission.project_id, enterprise_id=applicant.enterprise_id).using_db(conn).first()  # type: ignore[attr-defined]
    if project is None or (applicant.role == Role.MANAGER and project.manager_id != applicant.id):  # type: ignore[attr-defined]
        raise ActionError("project_not_found", "请选择贵企业在管的项目。", 404)
    return project


async def _refuse_open_duplicate(conn: BaseDBAsyncClient, kind: str, project: Project,
                                 enterprise_id: int, label: str) -> None:
    if await Application.filter(kind=kind, project_id=project.id, enterprise_id=enterprise_id,
                                status__in=list(OPEN_STATUSES)).using_db(conn).exists():
        raise ActionError("duplicate_application",
                          f"“{project.name}”已有一份处理中的{label}申请，请等待审核结果。", 409)


# -- 新增物业项目 -------------------------------------------------------------------------------

async def validate_project_add(conn: BaseDBAsyncClient, submission: Submission) -> Draft:
    fields = submission.fields
    payload = _basic_fields(fields)
    district = str(fields.get("district") or "").strip()
    if district not in DISTRICTS:
        raise ActionError("bad_field", "请选择项目所在区。")
    payload["district"] = district
    payload["remark"] = _text(fields, "remark", required=False, limit=500)
    if await Project.filter(name=payload["name"], district=district).using_db(conn).exists():
        raise ActionError("project_exists",
                          f"{district}已有名为“{payload['name']}”的项目，请用“添加在管”申请。", 409)
    return Draft(payload, f"新增：{payload['name']}", district)


async def approve_project_add(conn: BaseDBAsyncClient, application: Application,
                              actor: Actor) -> None:
    p = application.payload
    if await Project.filter(name=p["name"], district=p["district"]).using_db(conn).exists():
        raise ActionError("project_exists",
                          f"{p['district']}已有名为“{p['name']}”的项目，不能再新增。", 409)
    project = await Project.create(
        code=f"EAN{application.id:08d}", name=p["name"], address=p["address"],
        district=p["district"], street=p["street"], community=p["community"],
        project_type=ProjectType(p["project_type"]), build_area=Decimal(p["build_area"]),
        total_house_num=p["total_house_num"], enterprise_id=application.enterprise_id,
        status=ProjectStatus.MANAGED, managed_since=_today(), using_db=conn)
    application.project_id = project.id
    await Application.filter(id=application.id).using_db(conn).update(project_id=project.id)
    await record_audit(conn, actor, "project.created", "project", project.id,
                       new={"code": project.code, **p, "application": application.number},
                       enterprise_id=application.enterprise_id)


# -- 添加在管 -------------------------------------------------------------------------------------

async def validate_project_attach(conn: BaseDBAsyncClient, submission: Submission) -> Draft:
    project = None
    if submission.project_id is not None:
        project = await Project.filter(id=submission.project_id).using_db(conn).first()
    if project is None:
        raise ActionError("project_not_found", "请选择要添加在管的项目。", 404)
    if project.enterprise_id is not None:  # type: ignore[attr-defined]
        raise ActionError("project_managed", f"“{project.name}”已有在管企业，不能添加在管。", 409)
    await _refuse_open_duplicate(conn, "project_attach", project,
                                 submission.applicant.enterprise_id, "添加在管")  # type: ignore[attr-defined]
    remark = _text(submission.fields, "remark", required=False, limit=500)
    return Draft({"project_code": project.code, "project_name": project.name,
                  "remark": remark}, f"添加在管：{project.name}", project.district, project)


async def approve_project_attach(conn: BaseDBAsyncClient, application: Application,
                                 actor: Actor) -> None:
    # Conditional: another enterprise's attach may have been approved in between.
    taken = await Project.filter(id=application.project_id, enterprise_id=None).using_db(
        conn).update(enterprise_id=application.enterprise_id, status=ProjectStatus.MANAGED,
                     managed_since=_today())
    if taken != 1:
        raise ActionError("project_managed", "该项目已由其他企业在管，不能通过此申请。", 409)
    await record_audit(conn, actor, "project.attached", "project", application.project_id,
                       old={"enterprise_id": None},
                       new={"enterprise_id": application.enterprise_id},
                       enterprise_id=application.enterprise_id)


# -- 移除在管 -------------------------------------------------------------------------------------

async def validate_project_remove(conn: BaseDBAsyncClient, submission: Submission) -> Draft:
    project = await _own_project(conn, submission)
    await _refuse_open_duplicate(conn, "project_remove", project,
                                 submission.applicant.enterprise_id, "移除在管")  # type: ignore[attr-defined]
    reason = _text(submission.fields, "reason", required=True, limit=500)
    return Draft({"project_code": project.code, "project_name": project.name,
                  "reason": reason}, f"移除在管：{project.name}", project.district, project)


async def approve_project_remove(conn: BaseDBAsyncClient, application: Application,
                                 actor: Actor) -> None:
    project = await Project.filter(
        id=application.project_id, enterprise_id=application.enterprise_id).using_db(conn).first()
    if project is None:
        raise ActionError("project_not_managed", "该项目已不在该企业名下。", 409)
    await Project.filter(id=project.id).using_db(conn).update(
        enterprise_id=None, manager_id=None, status=ProjectStatus.UNMANAGED, managed_since=None)
    await record_audit(conn, actor, "project.removed", "project", project.id,
                       old={"enterprise_id": project.enterprise_id,  # type: ignore[attr-defined]
                            "manager_id": project.manager_id},  # type: ignore[attr-defined]
                       new={"enterprise_id": None, "manager_id": None},
                       enterprise_id=application.enterprise_id)


# -- 项目信息变更 ----------------------------------------------------------------------------------

def basic_info(project: Project) -> dict[str, Any]:
    return {"name": project.name, "address": project.address, "street": project.street,
            "community": project.community, "project_type": int(project.project_type),
            "build_area": str(Decimal(project.build_area).quantize(Decimal("0.01"))),
            "total_house_num": project.total_house_num}


async def validate_project_edit(conn: BaseDBAsyncClient, submission: Submission) -> Draft:
    project = await _own_project(conn, submission)
    applicant = submission.applicant
    if applicant.role == Role.MANAGER and not applicant.holds(Module.PROJECT_INFO):
        raise ActionError("not_allowed", "您没有“项目信息”权限，不能申请变更。", 403)
    await _refuse_open_duplicate(conn, "project_edit", project, applicant.enterprise_id,  # type: ignore[attr-defined]
                                 "信息变更")
    wanted = _basic_fields(submission.fields)
    old = basic_info(project)
    changes = {k: v for k, v in wanted.items() if old[k] != v}
    if not changes:
        raise ActionError("no_change", "没有修改任何信息。")
    return Draft({"project_code": project.code, "project_name": project.name, "old": old,
                  "changes": changes}, f"信息变更：{project.name}", project.district, project)


async def approve_project_edit(conn: BaseDBAsyncClient, application: Application,
                               actor: Actor) -> None:
    project = await Project.filter(
        id=application.project_id, enterprise_id=application.enterprise_id).using_db(conn).first()
    if project is None:
        raise ActionError("project_not_managed", "该项目已不在该企业名下，不能变更。", 409)
    changes: dict[str, Any] = dict(application.payload["changes"])
    values: dict[str, Any] = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    if "project_type" in values:
        values["project_type"] = ProjectType(values["project_type"])
    if "build_area" in values:
        values["build_area"] = Decimal(values["build_area"])
    before = basic_info(project)
    await Project.filter(id=project.id).using_db(conn).update(**values)
    await record_audit(conn, actor, "project.edited", "project", project.id,
                       old={k: before[k] for k in changes}, new=changes,
                       enterprise_id=application.enterprise_id)


def describe_project_payload(payload: dict[str, Any]) -> list[tuple[str, str]]:
    """Readable rows of a project application: labels, type names, old → new for an edit."""
    def shown(key: str, value: Any) -> str:
        return ProjectType(int(value)).label if key == "project_type" else str(value)

    rows = [("项目", str(payload["project_name"]))] if "project_name" in payload else []
    old = payload.get("old", {})
    for key, value in payload.get("changes", {}).items():
        rows.append((FIELD_LABELS.get(key, key), f"{shown(key, old.get(key, ''))} → "
                                                 f"{shown(key, value)}"))
    for key, value in payload.items():
        if key in FIELD_LABELS and value not in ("", None):
            rows.append((FIELD_LABELS[key], shown(key, value)))
    return rows


def _today() -> date:
    return now().astimezone(_CHINA).date()


PROJECT_ADD = register_kind(ApplicationKind(
    "project_add", "新增物业项目", "XZ", validate_project_add, approve_project_add,
    resubmittable=True, describe=describe_project_payload))
PROJECT_ATTACH = register_kind(ApplicationKind(
    "project_attach", "添加在管", "TJ", validate_project_attach, approve_project_attach,
    describe=describe_project_payload))
PROJECT_REMOVE = register_kind(ApplicationKind(
    "project_remove", "移除在管", "YC", validate_project_remove, approve_project_remove,
    describe=describe_project_payload))
PROJECT_EDIT = register_kind(ApplicationKind(
    "project_edit", "项目信息变更", "BG", validate_project_edit, approve_project_edit,
    submitter_roles=frozenset({Role.LEADER, Role.HANDLER, Role.MANAGER}),
    describe=describe_project_payload))
PROJECT_KINDS = (PROJECT_ADD, PROJECT_ATTACH, PROJECT_REMOVE, PROJECT_EDIT)
