"""Demo safety checks, Shenzhen items (platform-data.md §5): a typhoon-season 三防 check open on
the 福田 projects of 鹏城, and the half-year routine check already over (one submitted with a
problem found, one overdue). Seeded directly, like the rest of the demo data: no messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from actions.clock import now
from models.officers import Officer
from models.projects import Project
from models.safety import (
    AssignmentStatus,
    ItemResult,
    SafetyCheckAssignment,
    SafetyCheckResult,
    SafetyCheckTask,
)

TYPHOON_ITEMS = [
    "启动三防应急预案，落实24小时值班",
    "地下车库、地下室防水浸措施到位（挡水板、沙袋）",
    "排水沟渠、雨水井清理疏通，无堵塞",
    "抽水泵试运行正常",
    "已通知住户挪移低洼处车辆",
    "清理阳台花盆，检查悬挂物和门窗，防止高空坠物",
    "危险围墙已设置围蔽和警示",
    "配电房防水措施到位，提醒住户远离供电设施",
]
ROUTINE_ITEMS = [
    "安全管理体系文件齐全",
    "每月召开安全生产会议并有记录",
    "应急预案已制定并报区局备案",
    "消防通道、疏散通道和安全出口畅通",
    "消防设备设施和标识完好有效",
    "电动自行车集中停放充电，未进楼入户",
    "电梯维保单位资质合格，维保记录完整",
    "隐患排查整改台账完整",
]


async def load(enterprises: dict[str, Any], people: dict[str, Any]) -> None:
    at = now()
    typhoon_title = f"{at.year}年台风季三防安全检查"
    if not await SafetyCheckTask.filter(title=typhoon_title).exists():
        futian = await Officer.get(username="futian")
        task = await SafetyCheckTask.create(
            title=typhoon_title, items=TYPHOON_ITEMS, deadline=at + timedelta(days=7),
            issued_by=futian, district=futian.district,
            description="台风季来临，请各项目对照检查项目逐项自查，存在问题的请说明整改安排并拍照上传。")
        for project in await Project.filter(district="福田区", enterprise_id__isnull=False):
            await SafetyCheckAssignment.create(task=task, project=project,
                                               enterprise_id=project.enterprise_id,  # type: ignore[attr-defined]
                                               deadline=task.deadline)

    routine_title = f"{at.year}年上半年在线常规检查"
    if await SafetyCheckTask.filter(title=routine_title).exists():
        return
    city = await Officer.get(username="city")
    task = await SafetyCheckTask.create(
        title=routine_title, items=ROUTINE_ITEMS, deadline=at - timedelta(days=20),
        issued_by=city, description="依据 SZDB/Z 307-2018 开展半年度安全自查。")
    submitter = people["wangqiang"]
    for code, submitted in (("EA440304001", True), ("EA440304002", False),
                            ("EA440303001", True)):
        project = await Project.get(code=code)
        assignment = await SafetyCheckAssignment.create(
            task=task, project=project, enterprise_id=project.enterprise_id,  # type: ignore[attr-defined]
            deadline=task.deadline,
            status=AssignmentStatus.SUBMITTED if submitted else AssignmentStatus.ENDED,
            overdue=not submitted, ended_at=None if submitted else task.deadline,
            submitted_at=task.deadline - timedelta(days=2) if submitted else None,
            submitted_by=(submitter if code.startswith("EA440304") else people["zhaolei"])
            if submitted else None,
            problem_count=1 if submitted else 0)
        if not submitted:
            continue
        for index, _ in enumerate(ROUTINE_ITEMS):
            problem = index == 5
            await SafetyCheckResult.create(
                assignment=assignment, item_index=index,
                result=ItemResult.PROBLEM if problem else ItemResult.OK,
                remark="2号楼大堂发现电动自行车停放，已劝离并张贴告示" if problem else "")
