"""The enterprise's 安全检查 pages: tabs per role, draft, submit, read-only after, the overdue
move, photo checks, and another enterprise's checks refused on every route."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import httpx
from auth_helpers import console_client, csrf_of, h5_client
from PIL import Image
from safety_support import (
    LEADER,
    MANAGER,
    OTHER_MANAGER,
    assignment_of,
    issue,
    jpeg,
)

from actions.clock import travel
from conftest import LiveServer
from core.uploads import upload_path
from models.safety import (
    AssignmentStatus,
    ItemResult,
    SafetyCheckAssignment,
    SafetyCheckPhoto,
    SafetyCheckResult,
)

ALL_OK = {"result_0": "ok", "result_1": "ok", "result_2": "ok"}


def _titles_in_tab(html: str) -> list[str]:
    return re.findall(r'<p class="weui-cell__desc">([^<·]+) ·', html)


async def _post(client: httpx.AsyncClient, assignment_id: int, fields: dict[str, object],
                photos: list[tuple[str, bytes]] = ()) -> httpx.Response:  # type: ignore[assignment]
    files = [(name, (f"{name}.jpg", body, "image/jpeg")) for name, body in photos]
    return await client.post(f"/h5/safety/{assignment_id}",
                             data={"csrf_token": csrf_of(client), **fields},
                             files=files or None)


async def test_list_safety_tabs_leader_sees_every_project_manager_only_theirs(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园", "福景大厦", "安居乐家园"], title="专项检查A")
    async with h5_client(live, LEADER) as leader, h5_client(live, MANAGER) as manager:
        leader_page = await leader.get("/h5/safety?tab=open")
        manager_page = await manager.get("/h5/safety?tab=open")
    assert leader_page.status_code == 200 and manager_page.status_code == 200
    leader_rows = [t.strip() for t in _titles_in_tab(leader_page.text)]
    manager_rows = [t.strip() for t in _titles_in_tab(manager_page.text)]
    # The demo's typhoon check is open on all four 福田 projects of 鹏城 as well.
    assert sorted(leader_rows) == sorted(["鹏城花园", "福景大厦", "鹏城花园", "莲花苑", "福景大厦",
                                          "香蜜湖公寓"])
    assert sorted(manager_rows) == sorted(["鹏城花园", "鹏城花园", "莲花苑"])
    assert "安居乐家园" not in leader_page.text
    assert "待提交(6)" in leader_page.text and "待提交(3)" in manager_page.text
    # 已结束 holds the demo's half-year check: 莲花苑 overdue, seen by both.
    async with h5_client(live, MANAGER) as manager:
        ended = await manager.get("/h5/safety?tab=ended")
        submitted = await manager.get("/h5/safety?tab=submitted")
    assert "逾期未提交" in ended.text and "莲花苑" in ended.text
    assert "鹏城花园" in submitted.text and "存在问题 1 项" in submitted.text
    assert task.id


async def test_save_safety_draft_keeps_answers_and_stays_open(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    async with h5_client(live, MANAGER) as c:
        r = await _post(c, assignment.id, {"intent": "save", "result_0": "problem",
                                           "remark_0": "东侧通道堆放杂物"})
        assert r.status_code == 303
        page = await c.get(r.headers["location"])
    assert "草稿已保存" in page.text and "东侧通道堆放杂物" in page.text
    assert 'value="problem" checked' in page.text
    fresh = await SafetyCheckAssignment.get(id=assignment.id)
    assert fresh.status == AssignmentStatus.OPEN and fresh.draft_saved_at is not None
    result = await SafetyCheckResult.get(assignment_id=assignment.id, item_index=0)
    assert result.result == ItemResult.PROBLEM


async def test_submit_safety_check_then_no_change_after(live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    async with h5_client(live, MANAGER) as c:
        r = await _post(c, assignment.id, {"intent": "submit", **ALL_OK, "result_1": "problem",
                                           "remark_1": "雨水井堵塞，已安排清理"},
                        photos=[("photo_1", jpeg(800, 600))])
        assert r.status_code == 303, r.text
        page = await c.get(f"/h5/safety/{assignment.id}")
        again = await _post(c, assignment.id, {"intent": "save", "result_1": "ok"})
        tab = await c.get("/h5/safety?tab=submitted")
    assert "已提交" in page.text and "雨水井堵塞" in page.text
    assert 'name="result_0"' not in page.text  # read-only: no form any more
    assert again.status_code == 409 and "不能再修改" in again.text
    fresh = await SafetyCheckAssignment.get(id=assignment.id)
    assert fresh.status == AssignmentStatus.SUBMITTED and fresh.problem_count == 1
    assert (await SafetyCheckResult.get(assignment_id=assignment.id, item_index=1)
            ).result == ItemResult.PROBLEM
    assert "存在问题 1 项" in tab.text


async def test_submit_safety_check_incomplete_refused_with_what_is_missing(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    async with h5_client(live, MANAGER) as c:
        missing = await _post(c, assignment.id, {"intent": "submit", "result_0": "ok"},
                              photos=[("photo_0", jpeg(400, 300))])
        unexplained = await _post(c, assignment.id, {"intent": "submit", **ALL_OK,
                                                     "result_2": "problem"})
        no_photo_task = await issue(live, ["莲花苑"], title="无照片检查")
        other = await assignment_of(no_photo_task, "莲花苑")
        no_photo = await _post(c, other.id, {"intent": "submit", **ALL_OK})
    assert missing.status_code == 400 and "尚未填写：第2、3项" in missing.text
    # The refused form keeps what was typed.
    assert 'name="result_0" value="ok" checked' in missing.text
    assert unexplained.status_code == 400 and "尚未说明：第3项" in unexplained.text
    assert no_photo.status_code == 400 and "至少上传一张现场检查照片" in no_photo.text
    assert (await SafetyCheckAssignment.get(id=assignment.id)).status == AssignmentStatus.OPEN
    assert not await SafetyCheckPhoto.filter(assignment_id=assignment.id).exists()


async def test_end_overdue_safety_check_moves_to_ended_tab(live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园", "莲花苑"], days=1, title="到期检查")
    done = await assignment_of(task, "鹏城花园")
    late = await assignment_of(task, "莲花苑")
    async with h5_client(live, MANAGER) as c:
        r = await _post(c, done.id, {"intent": "submit", **ALL_OK},
                        photos=[("photo_0", jpeg(400, 300))])
        assert r.status_code == 303
    travel(timedelta(days=1, minutes=1).total_seconds())
    async with h5_client(live, MANAGER) as c:  # a new day, a new session
        ended = await c.get("/h5/safety?tab=ended")
        form = await c.get(f"/h5/safety/{late.id}")
        refused = await _post(c, late.id, {"intent": "save", "result_0": "ok"})
    # The page itself ended it: no schedule ran.
    assert "到期检查" in ended.text and "逾期未提交" in ended.text
    assert 'name="result_0"' not in form.text
    assert refused.status_code == 409
    fresh = await SafetyCheckAssignment.get(id=late.id)
    assert fresh.status == AssignmentStatus.ENDED and fresh.overdue
    assert (await SafetyCheckAssignment.get(id=done.id)).status == AssignmentStatus.SUBMITTED
    async with console_client(live) as officer:
        follow = await officer.get(f"/console/safety/{task.id}")
    assert "逾期未交 1" in follow.text and "已提交 1" in follow.text


async def test_upload_safety_photo_non_image_refused(live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    html = b"<!doctype html><html><script>alert(1)</script></html>"
    stored_before = set(live.settings.upload_dir.glob("*"))
    async with h5_client(live, MANAGER) as c:
        r = await _post(c, assignment.id, {"intent": "save", "result_0": "ok"},
                        photos=[("photo_0", jpeg(100, 100)), ("photo_1", html)])
    assert r.status_code == 400 and "只能上传" in r.text
    assert not await SafetyCheckPhoto.exists()
    # Neither the refused file nor the good one of the same form is left on disk.
    assert set(live.settings.upload_dir.glob("*")) == stored_before


async def test_upload_safety_photo_big_image_resized_and_turned_upright(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    big = jpeg(4000, 3000, orientation=6)  # taken sideways: EXIF says rotate 90°
    async with h5_client(live, MANAGER) as c:
        r = await _post(c, assignment.id, {"intent": "save"}, photos=[("photo_2", big)])
        assert r.status_code == 303, r.text
        photo = await SafetyCheckPhoto.get(assignment_id=assignment.id)
        served = await c.get(f"/h5/safety/photos/{photo.id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(served.content)) as image:
        assert image.size == (960, 1280)  # upright portrait, longest side 1280
        assert image.getexif().get(0x0112) is None
    assert photo.item_index == 2 and len(served.content) < len(big)
    assert upload_path(live.settings, photo.stored_name).exists()


async def test_safety_routes_of_another_enterprise_not_found(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    async with h5_client(live, MANAGER) as owner:
        r = await _post(owner, assignment.id, {"intent": "save"},
                        photos=[("photo_0", jpeg(200, 200))])
        assert r.status_code == 303
    photo = await SafetyCheckPhoto.get(assignment_id=assignment.id)
    async with h5_client(live, OTHER_MANAGER) as stranger:
        responses = [
            await stranger.get(f"/h5/safety/{assignment.id}"),
            await _post(stranger, assignment.id, {"intent": "submit", **ALL_OK}),
            await stranger.get(f"/h5/safety/photos/{photo.id}"),
        ]
        listing = await stranger.get("/h5/safety?tab=open")
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert "鹏城花园" not in listing.text
    assert (await SafetyCheckAssignment.get(id=assignment.id)).status == AssignmentStatus.OPEN
