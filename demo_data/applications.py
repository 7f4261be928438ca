"""Demo rows of projects and applications: every tab of 鹏城花园 has data, 莲花苑 some, and
鹏城 has applications in several states (seeded directly, like the rest of the demo data: no
actor to audit and no message to send). Idempotent: rows are found by natural keys first."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from models.applications import Application, ApplicationEvent, ApplicationStatus
from models.project_details import (
    CommitteeMember,
    CommitteeRole,
    Facility,
    OwnersCommittee,
    PartyBranch,
    ProjectEmployee,
    ProjectOwner,
    ServiceContract,
    Vote,
    VoteState,
)
from models.projects import Project

CHINA = timezone(timedelta(hours=8))
S = ApplicationStatus


async def load(enterprises: dict[str, Any], people: dict[str, Any]) -> None:
    garden = await Project.get_or_none(code="EA440304001")
    lotus = await Project.get_or_none(code="EA440304002")
    if garden is not None:
        await _garden_details(garden)
    if lotus is not None and not await ProjectEmployee.filter(project_id=lotus.id).exists():
        await ProjectEmployee.create(project_id=lotus.id, name="周洁", post="客服主管",
                                     mobile="13800001101", certificate="物业管理员证")
    await _applications(enterprises, people)


async def _garden_details(garden: Project) -> None:
    if await ProjectEmployee.filter(project_id=garden.id).exists():
        return
    for name, post, certificate in (("王强", "项目经理", "物业管理师"),
                                    ("林海", "工程主管", "电工证"),
                                    ("何敏", "客服主管", "物业管理员证"),
                                    ("钟伟", "安全主管", "消防设施操作员")):
        await ProjectEmployee.create(project_id=garden.id, name=name, post=post,
                                     certificate=certificate, started_on=date(2019, 4, 1))
    await ServiceContract.create(
        project_id=garden.id, service_type="包干制", contract_start=date(2024, 1, 1),
        contract_end=date(2026, 12, 31), service_price="3.20元/㎡·月",
        collection_rate=Decimal("93.50"), service_phone="0755-83001001")
    committee = await OwnersCommittee.create(
        project_id=garden.id, name="鹏城花园业主委员会", phone="0755-83001002",
        filing_number="福田业备〔2023〕012号", term_start=date(2023, 6, 1),
        term_end=date(2028, 5, 31))
    for name, role, house in (("陈国华", CommitteeRole.DIRECTOR, "3栋1201"),
                              ("刘芳", CommitteeRole.DEPUTY, "5栋802"),
                              ("赵强", CommitteeRole.MEMBER, "1栋301"),
                              ("孙丽娟", CommitteeRole.SECRETARY, "2栋1502"),
                              ("黄志明", CommitteeRole.SUPERVISOR, "6栋601")):
        await CommitteeMember.create(committee_id=committee.id, name=name, role=role,
                                     house=house, political_status="群众")
    await PartyBranch.create(project_id=garden.id, name="鹏城花园小区党支部", secretary="陈国华",
                             member_count=23, phone="0755-83001003",
                             established_on=date(2021, 7, 1))
    for i, (name, house, area) in enumerate((("李建国", "1栋101", "89.50"),
                                             ("张秀英", "1栋102", "112.30"),
                                             ("王磊", "2栋1501", "136.80"),
                                             ("吴婷", "3栋1201", "98.00"))):
        await ProjectOwner.create(project_id=garden.id, name=name, house=house,
                                  area=Decimal(area), moved_in=i != 3)
    start = datetime(2026, 11, 1, 9, tzinfo=CHINA)
    await Vote.create(project_id=garden.id, title="关于使用公共收益维修小区围墙的表决",
                      intro="围墙维修预算 18 万元，由公共收益列支。", range_intro="全体业主",
                      begin_at=start, end_at=start + timedelta(days=30),
                      state=VoteState.VOTING, voted_houses=412)
    await Vote.create(project_id=garden.id, title="续聘物业服务企业的表决", range_intro="全体业主",
                      begin_at=start - timedelta(days=400), end_at=start - timedelta(days=370),
                      state=VoteState.DONE, voted_houses=690)
    for name, kind, position, number in (("1号客梯", "电梯", "1栋", "T4403040001"),
                                         ("2号客梯", "电梯", "2栋", "T4403040002"),
                                         ("消防水泵", "消防", "地下一层泵房", ""),
                                         ("二次供水设备", "供水", "地下一层", "")):
        await Facility.create(project_id=garden.id, name=name, facility_type=kind,
                              position=position, register_number=number,
                              maintainer="深圳市安达机电维保有限公司",
                              next_inspection=date(2027, 3, 31))


DEMO_APPLICATIONS = (
    # number, kind, title, status, payload, opinion
    ("XZ20261101000901", "project_add", "新增：鹏城雅苑", S.SUBMITTED,
     {"name": "鹏城雅苑", "address": "福田区景田路18号", "district": "福田区",
      "street": "景田街道", "community": "", "project_type": 1, "build_area": "45000.00",
      "total_house_num": 480, "remark": ""}, ""),
    ("XZ20261015000902", "project_add", "新增：鹏城商务中心", S.REJECTED,
     {"name": "鹏城商务中心", "address": "福田区深南大道6008号", "district": "福田区",
      "street": "", "community": "", "project_type": 4, "build_area": "0.00",
      "total_house_num": 0, "remark": ""}, "未上传物业服务合同，建筑面积填写有误。"),
    ("YC20261020000903", "project_remove", "移除在管：福景大厦", S.RETURNED,
     {"project_code": "EA440304003", "project_name": "福景大厦",
      "reason": "合同到期不再续约"}, "请补充与业委会的合同终止协议。"),
)


async def _applications(enterprises: dict[str, Any], people: dict[str, Any]) -> None:
    pengcheng = enterprises["pengcheng"]
    zhangwei = people["zhangwei"]
    at = datetime(2026, 11, 1, 10, tzinfo=CHINA)
    for number, kind, title, status, payload, opinion in DEMO_APPLICATIONS:
        if await Application.filter(number=number).exists():
            continue
        project = (await Project.get_or_none(code=payload["project_code"])
                   if "project_code" in payload else None)
        application = await Application.create(
            kind=kind, number=number, status=status, enterprise=pengcheng, applicant=zhangwei,
            project=project, title=title, district="福田区", payload=payload,
            last_opinion=opinion, submitted_at=at, updated_at=at,
            decided_at=at if status == S.REJECTED else None)
        await ApplicationEvent.create(application=application, transition="submit",
                                      to_status=S.SUBMITTED, actor_type="person",
                                      actor_id=zhangwei.id, actor_name=zhangwei.name,
                                      created_at=at)
        if status != S.SUBMITTED:
            await ApplicationEvent.create(application=application, transition="accept",
                                          from_status=S.SUBMITTED, to_status=S.ACCEPTED,
                                          actor_type="officer", actor_name="周敏",
                                          created_at=at + timedelta(hours=2))
            step = "reject" if status == S.REJECTED else "return"
            await ApplicationEvent.create(application=application, transition=step,
                                          from_status=S.ACCEPTED, to_status=status,
                                          opinion=opinion, actor_type="officer",
                                          actor_name="周敏", created_at=at + timedelta(days=1))
