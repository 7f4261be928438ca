"""Officers issue safety-check tasks to many projects; the people concerned are told, and
reminded once a day before the deadline."""

from __future__ import annotations

from datetime import timedelta

from auth_helpers import console_client, csrf_of
from safety_support import (
    LEADER,
    MANAGER,
    NANSHAN_LEADER,
    OTHER_MANAGER,
    deadline_field,
    deliver,
    inbox,
    issue,
    project_id,
)

from actions.clock import travel
from actions.safety import do_remind_safety_deadlines
from bot.schedules import run_due_jobs, scheduled_jobs
from conftest import LiveServer
from models.audit import AuditEntry
from models.outbox import OutboxMessage
from models.safety import AssignmentStatus, SafetyCheckAssignment, SafetyCheckTask


async def test_issue_safety_task_to_chosen_projects_creates_one_check_each(
        live: LiveServer, demo: None) -> None:
    chosen = [await project_id("鹏城花园"), await project_id("安居乐家园")]
    async with console_client(live) as c:
        r = await c.post("/console/safety/new", data={
            "csrf_token": csrf_of(c), "title": "台风季三防检查", "description": "逐项自查",
            "items": "消防通道畅通\n\n排水沟渠疏通\n", "deadline": deadline_field(3),
            "target": "projects", "project": [str(i) for i in chosen]})
        assert r.status_code == 303, r.text
        followed = await c.get(r.headers["location"])
    task = await SafetyCheckTask.get(title="台风季三防检查")
    assert task.items == ["消防通道畅通", "排水沟渠疏通"]
    assignments = await SafetyCheckAssignment.filter(task_id=task.id)
    assert sorted(a.project_id for a in assignments) == sorted(chosen)  # type: ignore[attr-defined]
    assert {a.status for a in assignments} == {AssignmentStatus.OPEN}
    assert "鹏城花园" in followed.text and "安居乐家园" in followed.text
    assert await AuditEntry.filter(event="safety.task_issued", subject_id=task.id).count() == 1


async def test_issue_safety_task_to_district_reaches_every_managed_project_there(
        live: LiveServer, demo: None) -> None:
    async with console_client(live, "futian") as c:
        r = await c.post("/console/safety/new", data={
            "csrf_token": csrf_of(c), "title": "福田区汛期检查", "items": "排水沟渠疏通",
            "deadline": deadline_field(2), "target": "district"})
    assert r.status_code == 303, r.text
    task = await SafetyCheckTask.get(title="福田区汛期检查")
    names = await SafetyCheckAssignment.filter(task_id=task.id).values_list(
        "project__name", flat=True)
    # 梅林一村 has no managing enterprise; 南山 and 罗湖 projects are outside 福田.
    assert sorted(names) == sorted(["鹏城花园", "莲花苑", "福景大厦", "香蜜湖公寓"])


async def test_issue_safety_task_outside_own_district_refused(
        live: LiveServer, demo: None) -> None:
    async with console_client(live, "futian") as c:
        r = await c.post("/console/safety/new", data={
            "csrf_token": csrf_of(c), "title": "越区检查", "items": "消防通道畅通",
            "deadline": deadline_field(2), "target": "projects",
            "project": [str(await project_id("安居乐家园"))]})
    assert r.status_code == 400
    assert "不在您辖区" in r.text
    assert not await SafetyCheckTask.filter(title="越区检查").exists()


async def test_issue_safety_task_past_deadline_or_without_items_refused(
        live: LiveServer, demo: None) -> None:
    async with console_client(live) as c:
        past = await c.post("/console/safety/new", data={
            "csrf_token": csrf_of(c), "title": "检查", "items": "消防通道畅通",
            "deadline": deadline_field(-1), "target": "district", "district": "福田区"})
        empty = await c.post("/console/safety/new", data={
            "csrf_token": csrf_of(c), "title": "检查", "items": "  \n",
            "deadline": deadline_field(1), "target": "district", "district": "福田区"})
    assert past.status_code == 400 and "截止时间必须晚于现在" in past.text
    assert empty.status_code == 400 and "请至少填写一个检查项目" in empty.text
    assert not await SafetyCheckTask.filter(title="检查").exists()


async def test_issue_safety_task_pushes_to_manager_and_leader_only(
        live: LiveServer, demo: None) -> None:
    await issue(live, ["鹏城花园", "莲花苑", "福景大厦"])
    await deliver(live)
    manager = [m for m in await inbox(live, MANAGER) if m["type"] == "template"]
    leader = [m for m in await inbox(live, LEADER) if m["type"] == "template"]
    # One message each, however many of their projects the task reaches.
    assert len(manager) == 1 and len(leader) == 1
    assert manager[0]["template_id"] == live.settings.template_id("SAFETY_TASK_NEW")
    assert manager[0]["data"]["thing1"]["value"] == "台风季三防检查"
    assert manager[0]["data"]["thing2"]["value"] == "鹏城花园等2个项目"
    assert leader[0]["data"]["thing2"]["value"] == "鹏城花园等3个项目"
    assert manager[0]["url"].endswith("/h5/safety")
    assert await inbox(live, OTHER_MANAGER) == []
    assert await inbox(live, NANSHAN_LEADER) == []


async def test_issue_safety_task_to_one_project_links_its_check(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["安居乐家园"])
    await deliver(live)
    [message] = await inbox(live, OTHER_MANAGER)
    assignment = await SafetyCheckAssignment.get(task_id=task.id)
    assert message["data"]["thing2"]["value"] == "安居乐家园"
    assert message["url"] == f"{live.settings.public_base_url}/h5/safety/{assignment.id}"


async def test_remind_safety_deadline_once_a_day_before(live: LiveServer, demo: None) -> None:
    await issue(live, ["鹏城花园", "安居乐家园"], days=3)
    await deliver(live)
    assert await do_remind_safety_deadlines() == 0  # three days ahead: not yet
    travel(timedelta(days=2, hours=1).total_seconds())
    assert await do_remind_safety_deadlines() == 2
    assert await do_remind_safety_deadlines() == 0  # a second run reminds nobody again
    jobs = [job for job in scheduled_jobs() if job.name == "safety_reminders"]
    await run_due_jobs(live.redis, jobs)
    await deliver(live)
    reminders = [m for m in await inbox(live, MANAGER)
                 if m["template_id"] == live.settings.template_id("SAFETY_TASK_REMINDER")]
    assert len(reminders) == 1
    assert reminders[0]["data"]["thing2"]["value"] == "鹏城花园"
    assert await OutboxMessage.filter(template_key="SAFETY_TASK_REMINDER").count() == 3


async def test_remind_safety_deadline_skips_submitted_checks(
        live: LiveServer, demo: None) -> None:
    task = await issue(live, ["安居乐家园"], days=1.5)
    await SafetyCheckAssignment.filter(task_id=task.id).update(
        status=AssignmentStatus.SUBMITTED)
    travel(timedelta(hours=13).total_seconds())
    assert await do_remind_safety_deadlines() == 0
    assert not await OutboxMessage.filter(template_key="SAFETY_TASK_REMINDER").exists()
