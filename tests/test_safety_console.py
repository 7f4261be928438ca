"""Officers follow a safety-check task: submitted, late, problems found, each submission's items,
remarks and photos, and the xlsx export."""

from __future__ import annotations

import io
from datetime import timedelta

from auth_helpers import console_client, csrf_of, h5_client
from openpyxl import load_workbook
from safety_support import (
    MANAGER,
    OTHER_MANAGER,
    assignment_of,
    issue,
    jpeg,
)

from actions.clock import travel
from conftest import LiveServer
from models.safety import SafetyCheckPhoto


async def _submit(live: LiveServer, openid: str, assignment_id: int,
                  fields: dict[str, str]) -> None:
    async with h5_client(live, openid) as c:
        r = await c.post(f"/h5/safety/{assignment_id}",
                         data={"csrf_token": csrf_of(c), "intent": "submit", **fields},
                         files=[("photo_0", ("site.jpg", jpeg(640, 480), "image/jpeg"))])
    assert r.status_code == 303, r.text


async def test_follow_safety_task_shows_submissions_late_and_problems(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园", "莲花苑", "安居乐家园"], days=1)
    flower = await assignment_of(task, "鹏城花园")
    anjule = await assignment_of(task, "安居乐家园")
    await _submit(live, MANAGER, flower.id, {
        "result_0": "problem", "remark_0": "消防通道被车辆占用", "result_1": "ok",
        "result_2": "ok"})
    await _submit(live, OTHER_MANAGER, anjule.id, {
        "result_0": "ok", "result_1": "ok", "result_2": "ok"})
    travel(timedelta(days=1, hours=1).total_seconds())
    async with console_client(live) as c:
        listing = await c.get("/console/safety")
        follow = await c.get(f"/console/safety/{task.id}")
        detail = await c.get(f"/console/safety/assignments/{flower.id}")
        photo = await SafetyCheckPhoto.get(assignment_id=flower.id)
        image = await c.get(f"/console/safety/photos/{photo.id}")
        export = await c.get(f"/console/safety/{task.id}/export.xlsx")
    assert listing.status_code == 200 and "台风季三防检查" in listing.text
    assert "已提交 2" in follow.text and "逾期未交 1" in follow.text
    assert "发现问题 1" in follow.text
    assert "消防通道被车辆占用" in detail.text and "存在问题" in detail.text
    assert f"/console/safety/photos/{photo.id}" in detail.text
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet is not None
    rows = {row[2]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows["鹏城花园"][4] == "已提交" and rows["鹏城花园"][8] == 1
    assert rows["鹏城花园"][9] == "存在问题" and rows["鹏城花园"][10] == "消防通道被车辆占用"
    assert rows["莲花苑"][4] == "已结束" and rows["莲花苑"][5] == "是"
    assert rows["安居乐家园"][9] == "正常"


async def test_follow_safety_task_draft_answers_hidden_from_officers(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    async with h5_client(live, MANAGER) as h5:
        await h5.post(f"/h5/safety/{assignment.id}", data={
            "csrf_token": csrf_of(h5), "intent": "save", "result_0": "problem",
            "remark_0": "草稿中的内部说明"})
    async with console_client(live) as c:
        detail = await c.get(f"/console/safety/assignments/{assignment.id}")
    assert detail.status_code == 200
    assert "草稿中的内部说明" not in detail.text and "尚未提交" in detail.text


async def test_follow_safety_task_of_city_refused_to_district_officer(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"], by="city")
    assignment = await assignment_of(task, "鹏城花园")
    async with console_client(live, "luohu") as c:
        listing = await c.get("/console/safety")
        responses = [await c.get(f"/console/safety/{task.id}"),
                     await c.get(f"/console/safety/{task.id}/export.xlsx"),
                     await c.get(f"/console/safety/assignments/{assignment.id}")]
    assert "台风季三防检查" not in listing.text
    assert [r.status_code for r in responses] == [404, 404, 404]


async def test_console_safety_pages_need_an_officer(live: LiveServer, demo: None) -> None:
    async with h5_client(live, MANAGER) as c:
        page = await c.get("/console/safety")
        new = await c.post("/console/safety/new", data={"csrf_token": csrf_of(c), "title": "x"})
    assert page.status_code == 302 and page.headers["location"].startswith("/console/login")
    assert new.status_code == 403
