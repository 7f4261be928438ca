"""Named demo people, signed-in clients and small builders for the safety and funds tests."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

from PIL import Image

from actions.clock import now
from actions.safety import do_issue_safety_task
from bot.outbox_worker import OutboxWorker
from core.localtime import local
from models.officers import Officer
from models.projects import Project
from models.safety import SafetyCheckAssignment, SafetyCheckTask
from sandbox.state import SandboxState

LEADER = "oDemo0LeaderZhangWei00000001"  # 张伟, leader of 鹏城 (福田区)
MANAGER = "oDemo0ManagerWangQiang000003"  # 王强, manager of 鹏城花园 and 莲花苑
NANSHAN_LEADER = "oDemo0LeaderHuangMin00000001"  # 黄敏, leader of 鹏城's 南山 subsidiary
OTHER_MANAGER = "oDemo0ManagerZhaoLei00000002"  # 赵磊, manager of 安居乐家园 (another enterprise)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
ITEMS = ["消防通道畅通", "排水沟渠疏通", "抽水泵试运行正常"]




async def project_id(name: str) -> int:
    return (await Project.get(name=name)).id


async def issue(live: Any, names: list[str], *, by: str = "city", days: float = 3,
                title: str = "台风季三防检查") -> SafetyCheckTask:
    """A task issued through the action to the named projects."""
    return await do_issue_safety_task(
        live.settings, await Officer.get(username=by), title=title, description="逐项自查",
        items=list(ITEMS), deadline=now() + timedelta(days=days),
        project_ids=[await project_id(n) for n in names])


async def assignment_of(task: SafetyCheckTask, project_name: str) -> SafetyCheckAssignment:
    return await SafetyCheckAssignment.get(task_id=task.id, project__name=project_name)


def deadline_field(days: float) -> str:
    return local(now() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


async def deliver(live: Any) -> None:
    """Run the outbox worker until the outbox is empty."""
    worker = OutboxWorker(live.settings, live.redis, live.app.ctx.wechat)
    while await worker.run_once():
        pass


async def inbox(live: Any, openid: str) -> list[dict[str, Any]]:
    return await SandboxState(live.redis).messages(openid)


def jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    image = Image.new("RGB", (width, height), (200, 60, 30))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()
