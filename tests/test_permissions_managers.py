"""Permission management (F2, issue 3 part 5): the leader's views by project and by
permission, adding, editing and deregistering project managers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from auth_helpers import (
    DEMO_LEADER_OPENID,
    DEMO_MANAGER_OPENID,
    NEW_MANAGER_OPENID,
    bind,
    csrf_token,
    sign_in,
)

from actions.audit import Actor
from actions.errors import ActionError
from actions.people import ManagerForm, do_add_manager
from conftest import LiveServer
from models.audit import AuditEntry
from models.people import Person, PersonStatus, WeChatBinding
from models.projects import Project

NEW_MANAGER = {"name": "孙明", "mobile": "13800000009", "id_number": "440304199001011233"}


@asynccontextmanager
async def _leader(live: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in as 张伟, the leader of 鹏城物业."""
    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)
        yield c


async def _add(c: httpx.AsyncClient, projects: list[int], modules: tuple[str, ...] = (
        "notices", "safety"), **fields: str) -> httpx.Response:
    token = await csrf_token(c, "/h5/permissions/managers/new")
    data: dict[str, object] = {**NEW_MANAGER, **fields, "csrf_token": token,
                               "project": [str(p) for p in projects], "module": list(modules)}
    return await c.post("/h5/permissions/managers", data=data)


async def test_view_managers_by_project_and_by_permission(live: LiveServer, demo: None) -> None:
    async with _leader(live) as c:
        by_project = await c.get("/h5/permissions")
        by_module = await c.get("/h5/permissions/by-module")
    assert by_project.status_code == 200
    for text in ("鹏城花园", "王强", "福景大厦", "刘洋", "香蜜湖公寓", "添加项目经理"):
        assert text in by_project.text
    assert "安居乐" not in by_project.text and "南山海岸花园" not in by_project.text
    assert by_module.status_code == 200
    funds = by_module.text.split("共有资金（")[1].split("weui-cells__title")[0]
    assert "王强" in funds and "刘洋" not in funds
    assert "赵磊" not in by_module.text


async def test_add_manager_assigns_projects_and_modules(live: LiveServer, demo: None) -> None:
    project = await Project.get(name="香蜜湖公寓")
    async with _leader(live) as c:
        r = await _add(c, [project.id])
        assert r.status_code == 302
        detail = await c.get(r.headers["location"])
    assert "添加成功" in detail.text and "孙明" in detail.text and "香蜜湖公寓" in detail.text
    person = await Person.get(name="孙明")
    assert person.role == "manager" and sorted(person.modules) == ["notices", "safety"]
    assert (await Project.get(id=project.id)).manager_id == person.id  # type: ignore[attr-defined]
    entry = await AuditEntry.get(event="manager.added", subject_id=person.id)
    assert entry.new is not None
    assert entry.actor_name == "张伟" and entry.new["projects"] == [project.id]


async def test_add_manager_to_project_with_manager_refused(live: LiveServer, demo: None) -> None:
    taken = await Project.get(name="鹏城花园")
    free = await Project.get(name="香蜜湖公寓")
    async with _leader(live) as c:
        r = await _add(c, [free.id, taken.id])
    assert r.status_code == 409
    assert "该项目已有项目经理" in r.text and "鹏城花园：王强" in r.text and "请先注销" in r.text
    assert not await Person.filter(name="孙明").exists()
    assert (await Project.get(id=free.id)).manager_id is None  # type: ignore[attr-defined]


async def test_add_manager_bad_id_number_refused(live: LiveServer, demo: None) -> None:
    free = await Project.get(name="香蜜湖公寓")
    async with _leader(live) as c:
        r = await _add(c, [free.id], id_number="440304199001011234")
        assert r.status_code == 400 and "校验码" in r.text
        r = await _add(c, [free.id], mobile="1234")
        assert r.status_code == 400 and "11位手机号" in r.text
        r = await _add(c, [free.id], modules=())
        assert r.status_code == 400 and "至少选择一项权限" in r.text
        r = await _add(c, [free.id], mobile="13800000003")  # 王强's
        assert r.status_code == 400 and "已被本企业其他在职人员使用" in r.text
    assert not await Person.filter(name="孙明").exists()


async def test_add_manager_to_other_enterprise_project_refused(live: LiveServer,
                                                               demo: None) -> None:
    other = await Project.get(name="东门商业广场")  # 安居乐's, without a manager
    subsidiary = await Project.get(name="南山海岸花园")
    async with _leader(live) as c:
        for project in (other, subsidiary):
            r = await _add(c, [project.id])
            assert r.status_code == 400 and "不在本企业在管项目中" in r.text
    assert not await Person.filter(name="孙明").exists()


async def test_add_manager_concurrently_one_wins(demo: None) -> None:
    leader = await Person.get(name="张伟")
    project = await Project.get(name="香蜜湖公寓")
    actor = Actor("person", leader.id, leader.name, leader.enterprise_id)  # type: ignore[attr-defined]
    forms = [ManagerForm(name, mobile, "440304199001011233", (project.id,), ("notices",))
             for name, mobile in (("孙明", "13800000009"), ("周杰", "13800000010"))]
    results = await asyncio.gather(*(do_add_manager(actor, leader.enterprise_id, f)  # type: ignore[attr-defined]
                                      for f in forms), return_exceptions=True)
    refused = [r for r in results if isinstance(r, ActionError)]
    assert len(refused) == 1 and refused[0].code == "project_taken", results
    winner = next(r for r in results if isinstance(r, Person))
    assert (await Project.get(id=project.id)).manager_id == winner.id  # type: ignore[attr-defined]
    assert await Person.filter(name__in=["孙明", "周杰"]).count() == 1


async def test_edit_manager_name_and_mobile(live: LiveServer, demo: None) -> None:
    manager = await Person.get(name="刘洋")
    async with _leader(live) as c:
        url = f"/h5/permissions/managers/{manager.id}"
        token = await csrf_token(c, url)
        r = await c.post(url + "/edit", data={"name": "刘阳", "mobile": "13800000044",
                                              "csrf_token": token})
        assert r.status_code == 302
        page = await c.get(r.headers["location"])
        assert "已保存" in page.text and "刘阳" in page.text and "13800000044" in page.text
        r = await c.post(url + "/edit", data={"name": "刘阳", "mobile": "13800000001",
                                              "csrf_token": token})
        assert r.status_code == 400 and "已被本企业其他在职人员使用" in r.text
    person = await Person.get(id=manager.id)
    assert (person.name, person.mobile) == ("刘阳", "13800000044")
    assert await AuditEntry.filter(event="manager.edited", subject_id=manager.id).count() == 1


async def test_deregister_manager_ends_access_at_once(live: LiveServer, demo: None) -> None:
    manager = await Person.get(name="王强")
    async with _leader(live) as leader, live.client() as phone:
        await sign_in(phone, DEMO_MANAGER_OPENID)
        assert (await phone.get("/h5/account")).status_code == 200
        url = f"/h5/permissions/managers/{manager.id}"
        r = await leader.post(url + "/deregister",
                              data={"csrf_token": await csrf_token(leader, url)})
        assert r.status_code == 302
        listing = await leader.get(r.headers["location"])
        # The manager's open page stops working on its next request.
        after = await phone.get("/h5/account")
        assert after.status_code == 302 and after.headers["location"].startswith("/auth/start")
        again = await sign_in(phone, DEMO_MANAGER_OPENID)
        assert again.headers["location"] == "/auth/bind"
        assert (await leader.get(url)).status_code == 404
    assert "已注销" in listing.text
    person = await Person.get(id=manager.id)
    assert person.status == PersonStatus.DEREGISTERED
    assert await Project.filter(manager_id=manager.id).count() == 0
    assert not await WeChatBinding.filter(person_id=manager.id).exists()
    entry = await AuditEntry.get(event="person.deregistered", subject_id=manager.id)
    assert entry.old is not None
    assert sorted(entry.old["projects"]) == sorted(
        await Project.filter(name__in=["鹏城花园", "莲花苑"]).values_list("id", flat=True))


async def test_add_manager_then_manager_binds_and_sees_only_that_project(
        live: LiveServer, demo: None) -> None:
    """The issue's "done when": a new manager is added, binds, sees only their project."""
    project = await Project.get(name="香蜜湖公寓")
    async with _leader(live) as leader, live.client() as phone:
        assert (await _add(leader, [project.id])).status_code == 302
        r = await bind(phone, NEW_MANAGER_OPENID, {"kind": "manager", "name": "孙明",
                                             "mobile": "13800000009"})
        assert r.status_code == 302
        page = await phone.get("/h5/account")
        assert "香蜜湖公寓" in page.text and "鹏城花园" not in page.text
        assert (await phone.get("/h5/permissions")).status_code == 403


async def test_manager_pages_of_other_enterprise_are_404(live: LiveServer, demo: None) -> None:
    other = await Person.get(name="赵磊")
    async with _leader(live) as c:
        token = await csrf_token(c)
        url = f"/h5/permissions/managers/{other.id}"
        assert (await c.get(url)).status_code == 404
        assert (await c.post(url + "/edit", data={"name": "x", "mobile": "13800000055",
                                                  "csrf_token": token})).status_code == 404
        assert (await c.post(url + "/deregister",
                             data={"csrf_token": token})).status_code == 404
    assert (await Person.get(id=other.id)).status == PersonStatus.ACTIVE
