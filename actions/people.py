"""The people of an enterprise (F2): the leader adds, edits and deregisters project managers;
everyone may change their own mobile and deregister themselves.

A project has at most one manager. Assigning one is a conditional UPDATE (`... WHERE manager_id
IS NULL`), so of two concurrent adds for the same project only one can take it; the other's
transaction is rolled back whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.ids import is_valid_id_number, is_valid_mobile
from core.sessions import SessionStore
from models.people import Module, Person, PersonStatus, Role, WeChatBinding
from models.projects import Project, ProjectStatus

from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError

NAME_MAX = 50


@dataclass(frozen=True)
class ManagerForm:
    name: str
    mobile: str
    id_number: str
    project_ids: tuple[int, ...]
    modules: tuple[str, ...]


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ActionError("bad_name", "请填写姓名（不超过50个字）。")
    return name


def _check_mobile(mobile: str) -> str:
    mobile = mobile.strip()
    if not is_valid_mobile(mobile):
        raise ActionError("bad_mobile", "请填写正确的11位手机号码。")
    return mobile


async def _check_mobile_free(conn: BaseDBAsyncClient, enterprise_id: int, mobile: str,
                             except_person: int | None = None) -> None:
    taken = Person.filter(enterprise_id=enterprise_id, mobile=mobile,
                          status=PersonStatus.ACTIVE).using_db(conn)
    if except_person is not None:
        taken = taken.exclude(id=except_person)
    if await taken.exists():
        raise ActionError("mobile_taken", "该手机号已被本企业其他在职人员使用。")


def check_manager_form(form: ManagerForm) -> ManagerForm:
    id_number = form.id_number.strip().upper()
    if not is_valid_id_number(id_number):
        raise ActionError("bad_id_number", "身份证号码有误（请核对最后一位校验码）。")
    modules = tuple(dict.fromkeys(m for m in form.modules if m in {x.value for x in Module}))
    if len(modules) != len(set(form.modules)):
        raise ActionError("bad_module", "所选权限无效，请刷新页面后重试。")
    if not modules:
        raise ActionError("no_module", "请至少选择一项权限。")
    if not form.project_ids:
        raise ActionError("no_project", "请至少选择一个项目。")
    return ManagerForm(_check_name(form.name), _check_mobile(form.mobile), id_number,
                       tuple(dict.fromkeys(form.project_ids)), modules)


async def do_add_manager(actor: Actor, enterprise_id: int, form: ManagerForm) -> Person:
    """Add a project manager of the actor's enterprise to projects it manages."""
    form = check_manager_form(form)
    async with in_transaction() as conn:
        await _check_mobile_free(conn, enterprise_id, form.mobile)
        projects = await Project.filter(
            id__in=form.project_ids, enterprise_id=enterprise_id,
            status=ProjectStatus.MANAGED).using_db(conn).select_related("manager")
        if len(projects) != len(form.project_ids):
            raise ActionError("bad_project", "所选项目不存在或不在本企业在管项目中。", 404)
        _refuse_taken(p for p in projects if p.manager_id is not None)  # type: ignore[attr-defined]
        person = await Person.create(
            enterprise_id=enterprise_id, role=Role.MANAGER, name=form.name, mobile=form.mobile,
            id_number=form.id_number, modules=list(form.modules), using_db=conn)
        for project in projects:
            # The conditional UPDATE is the guard against a concurrent add of the same project.
            taken = await Project.filter(id=project.id, manager_id=None).using_db(conn).update(
                manager_id=person.id)
            if taken != 1:
                fresh = await Project.filter(id=project.id).using_db(conn).select_related(
                    "manager").first()
                _refuse_taken([fresh] if fresh else [])
                raise ActionError("project_taken", "该项目已有项目经理，请先注销现任项目经理。",
                                  409)
        await record_audit(conn, actor, "manager.added", "person", person.id,
                           new={"name": form.name, "mobile": form.mobile,
                                "projects": [p.id for p in projects],
                                "modules": list(form.modules)},
                           enterprise_id=enterprise_id)
    return person


def _refuse_taken(projects: Iterable[Project]) -> None:
    taken = [f"{p.name}：{p.manager.name}" for p in projects if p.manager is not None]
    if taken:
        raise ActionError(
            "project_taken",
            f"该项目已有项目经理（{'，'.join(taken)}），请先注销现任项目经理后再添加。", 409)


async def _manager_of(conn: BaseDBAsyncClient, enterprise_id: int, person_id: int) -> Person:
    person = await Person.filter(id=person_id, enterprise_id=enterprise_id, role=Role.MANAGER,
                                 status=PersonStatus.ACTIVE).using_db(conn).first()
    if person is None:
        raise ActionError("no_manager", "该项目经理不存在或已注销。", 404)
    return person


async def do_edit_manager(actor: Actor, enterprise_id: int, person_id: int, *, name: str,
                          mobile: str) -> Person:
    """Correct a manager's name and mobile (the mobile is what they bind with)."""
    name, mobile = _check_name(name), _check_mobile(mobile)
    async with in_transaction() as conn:
        person = await _manager_of(conn, enterprise_id, person_id)
        await _check_mobile_free(conn, enterprise_id, mobile, except_person=person.id)
        old = {"name": person.name, "mobile": person.mobile}
        person.name, person.mobile = name, mobile
        await person.save(using_db=conn, update_fields=["name", "mobile"])
        await record_audit(conn, actor, "manager.edited", "person", person.id, old=old,
                           new={"name": name, "mobile": mobile}, enterprise_id=enterprise_id)
    return person


async def _deregister(conn: BaseDBAsyncClient, actor: Actor, person: Person) -> None:
    projects = await Project.filter(manager_id=person.id).using_db(conn).values_list(
        "id", flat=True)
    await Project.filter(manager_id=person.id).using_db(conn).update(manager_id=None)
    binding = await WeChatBinding.filter(person_id=person.id).using_db(conn).first()
    if binding is not None:
        await binding.delete(using_db=conn)
    person.status = PersonStatus.DEREGISTERED
    person.deregistered_at = now()
    await person.save(using_db=conn, update_fields=["status", "deregistered_at"])
    await record_audit(conn, actor, "person.deregistered", "person", person.id,
                       old={"status": "active", "projects": list(projects),
                            "openid": binding.openid if binding else None},
                       new={"status": "deregistered"},
                       enterprise_id=person.enterprise_id)  # type: ignore[attr-defined]


async def do_deregister_manager(actor: Actor, enterprise_id: int, person_id: int,
                                sessions: SessionStore) -> Person:
    """A manager who left: assignments end, binding removed, sessions revoked at once."""
    async with in_transaction() as conn:
        person = await _manager_of(conn, enterprise_id, person_id)
        await _deregister(conn, actor, person)
    await sessions.revoke_owner(f"person:{person.id}")
    return person


async def do_deregister_self(actor: Actor, person: Person, sessions: SessionStore) -> None:
    async with in_transaction() as conn:
        fresh = await Person.filter(id=person.id, status=PersonStatus.ACTIVE).using_db(
            conn).first()
        if fresh is None:
            raise ActionError("inactive", "该账号已注销。")
        await _deregister(conn, actor, fresh)
    await sessions.revoke_owner(f"person:{person.id}")


async def do_change_mobile(actor: Actor, person: Person, mobile: str) -> Person:
    """The person's own mobile, after it was verified by an SMS code."""
    mobile = _check_mobile(mobile)
    async with in_transaction() as conn:
        await _check_mobile_free(conn, person.enterprise_id, mobile,  # type: ignore[attr-defined]
                                 except_person=person.id)
        old = person.mobile
        person.mobile = mobile
        await person.save(using_db=conn, update_fields=["mobile"])
        await record_audit(conn, actor, "person.mobile_changed", "person", person.id,
                           old={"mobile": old}, new={"mobile": mobile})
    return person
