"""我的小区: the list (scoped, searchable, a fixed number of queries), the nine tabs of a
project, and the subsidiaries page."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from applications_support import ANJULE_MANAGER_OPENID, LEADER_OPENID, MANAGER_OPENID
from auth_helpers import sign_in

from actions.clock import now
from conftest import LiveServer
from core.db import count_queries
from models.enterprises import Enterprise
from models.officers import Officer
from models.projects import Project
from models.safety import SafetyCheckAssignment, SafetyCheckTask
from settings import Settings

TABS = ("basic", "employees", "company", "committee", "party", "owners", "safety", "votes",
        "facilities")
GARDEN_SHOWS = {"basic": "EA440304001", "employees": "林海", "company": "包干制",
                "committee": "执行秘书", "party": "鹏城花园小区党支部", "owners": "1栋101",
                "safety": "汛期安全检查", "votes": "正在表决", "facilities": "1号客梯"}


async def _list_queries(c: httpx.AsyncClient) -> int:
    with count_queries() as counter:
        page = await c.get("/h5/projects")
        assert page.status_code == 200
    return counter.count


async def test_list_projects_fixed_query_count(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID, "/h5/projects")
        few = await _list_queries(c)
        pengcheng = await Enterprise.get(credit_code="91440300MA5FP0001C")
        await Project.bulk_create([
            Project(code=f"EAQ{i:05d}", name=f"测试小区{i:02d}", district="福田区",
                    enterprise=pengcheng) for i in range(40)])
        many = await _list_queries(c)
        pages = [(await c.get(f"/h5/projects?page={n}")).text for n in (1, 2, 3)]
    assert few == many
    # By enterprise, then name: 40 test projects, then 鹏城's own, then 南山's (read-only).
    assert "测试小区00" in pages[0] and "测试小区19" in pages[0] and "测试小区20" not in pages[0]
    assert "测试小区20" in pages[1] and "测试小区39" in pages[1]
    assert "测试小区39" not in pages[2] and "鹏城花园" in pages[2] and "南山海岸花园" in pages[2]
    assert many <= 5  # the person, the subsidiaries, 2 counts, 1 page


async def test_list_projects_leader_sees_own_and_subsidiaries(live: LiveServer,
                                                              demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID, "/h5/projects")
        page = await c.get("/h5/projects")
        for shown in ("鹏城花园", "莲花苑", "福景大厦", "香蜜湖公寓", "南山海岸花园", "只读",
                      "下属分公司项目（只读）"):
            assert shown in page.text
        for hidden in ("安居乐家园", "梅林一村"):
            assert hidden not in page.text
        found = await c.get("/h5/projects?q=莲花")
        assert "莲花苑" in found.text and "鹏城花园" not in found.text


async def test_list_projects_manager_sees_own(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, MANAGER_OPENID, "/h5/projects")
        page = await c.get("/h5/projects")
        assert "鹏城花园" in page.text and "莲花苑" in page.text
        assert "福景大厦" not in page.text and "南山海岸花园" not in page.text
        assert "下属分公司项目" not in page.text


async def test_show_project_every_tab_has_data(live: LiveServer, demo: None) -> None:
    garden = await Project.get(code="EA440304001")
    task = await SafetyCheckTask.create(title="汛期安全检查", items=["排水"],
                                        deadline=now() + timedelta(days=3),
                                        issued_by=await Officer.get(username="city"))
    await SafetyCheckAssignment.create(task=task, project=garden,
                                       enterprise_id=garden.enterprise_id,  # type: ignore[attr-defined]
                                       deadline=task.deadline)
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID, "/h5/projects")
        for tab in TABS:
            page = await c.get(f"/h5/projects/{garden.id}?tab={tab}")
            assert page.status_code == 200, tab
            assert GARDEN_SHOWS[tab] in page.text, tab


@pytest.mark.parametrize("tab", TABS[1:])
async def test_show_project_empty_tab_says_so(live: LiveServer, demo: None, tab: str) -> None:
    pengcheng = await Enterprise.get(credit_code="91440300MA5FP0001C")
    fresh = await Project.create(code="EAQ00001", name="新接手小区", district="福田区",
                                 enterprise=pengcheng)
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID, "/h5/projects")
        page = await c.get(f"/h5/projects/{fresh.id}?tab={tab}")
        assert page.status_code == 200 and "app-empty" in page.text


async def test_show_project_other_enterprise_not_found(live: LiveServer, demo: None) -> None:
    garden = await Project.get(code="EA440304001")
    async with live.client() as c:
        await sign_in(c, ANJULE_MANAGER_OPENID, "/h5/projects")
        assert (await c.get(f"/h5/projects/{garden.id}")).status_code == 404
        assert (await c.get(f"/h5/projects/{garden.id}?tab=owners")).status_code == 404


async def test_show_subsidiaries_or_own_name(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID, "/h5/subsidiaries")
        page = await c.get("/h5/subsidiaries")
        assert "南山分公司" in page.text
    async with live.client() as c:
        await sign_in(c, ANJULE_MANAGER_OPENID, "/h5/subsidiaries")
        page = await c.get("/h5/subsidiaries")
        assert "深圳市安居乐物业管理有限公司" in page.text and "暂无下属分公司" in page.text


async def test_load_demo_twice_adds_nothing(base_settings: Settings, demo: None) -> None:
    from demo_data.load import load_demo
    from models.applications import Application
    from models.project_details import ProjectEmployee

    counts = (await Application.all().count(), await ProjectEmployee.all().count())
    await load_demo(base_settings)
    assert (await Application.all().count(), await ProjectEmployee.all().count()) == counts
    assert counts[0] == 3 and counts[1] > 0
