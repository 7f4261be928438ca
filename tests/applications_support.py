"""Named demo people and ready-made applications of each project kind, for the workflow,
page and console tests."""

from __future__ import annotations

from typing import Any

from actions.applications import Transition, do_review_application, do_submit_application
from models.applications import Application, ApplicationStatus
from models.officers import Officer
from models.people import Person
from models.projects import Project
from settings import Settings

S = ApplicationStatus
LEADER_OPENID = "oDemo0LeaderZhangWei00000001"  # 张伟, leader of 鹏城 (福田区)
MANAGER_OPENID = "oDemo0ManagerWangQiang000003"  # 王强, manager of 鹏城花园 and 莲花苑
NANSHAN_LEADER_OPENID = "oDemo0LeaderHuangMin00000001"  # 黄敏, leader of the subsidiary
ANJULE_MANAGER_OPENID = "oDemo0ManagerZhaoLei00000002"  # 赵磊, manager at 安居乐


async def person(name: str) -> Person:
    return await Person.get(name=name)


async def officer(username: str = "city") -> Officer:
    return await Officer.get(username=username)


async def project(name: str) -> Project:
    return await Project.get(name=name)


ADD_FIELDS = {"name": "鹏城新苑", "address": "福田区新洲路88号", "district": "福田区",
              "street": "沙头街道", "project_type": "1", "build_area": "30000.5",
              "total_house_num": "300"}


async def submission(kind: str) -> tuple[Person, dict[str, Any], int | None]:
    """Who submits a valid application of `kind`, with what fields, about which project."""
    zhangwei = await person("张伟")
    if kind == "project_add":
        return zhangwei, dict(ADD_FIELDS), None
    if kind == "project_attach":
        return zhangwei, {"remark": "已签订物业服务合同"}, (await project("梅林一村")).id
    if kind == "project_remove":
        return zhangwei, {"reason": "合同到期不再续约"}, (await project("香蜜湖公寓")).id
    garden = await project("鹏城花园")
    fields = {"name": garden.name, "address": "福田区莲花路1001号（北门）",
              "street": garden.street, "community": "", "project_type": "1",
              "build_area": str(garden.build_area), "total_house_num": "830"}
    return await person("王强"), fields, garden.id


async def submit(settings: Settings, kind: str) -> Application:
    applicant, fields, project_id = await submission(kind)
    return await do_submit_application(settings, applicant, kind, fields, project_id=project_id)


PATHS: dict[ApplicationStatus, tuple[Transition, ...]] = {
    S.SUBMITTED: (),
    S.ACCEPTED: (Transition.ACCEPT,),
    S.APPROVED: (Transition.ACCEPT, Transition.APPROVE),
    S.REJECTED: (Transition.ACCEPT, Transition.REJECT),
    S.RETURNED: (Transition.ACCEPT, Transition.RETURN),
}


async def application_in(settings: Settings, kind: str, status: ApplicationStatus) -> Application:
    """A fresh application of `kind` brought to `status` through the engine."""
    from actions.applications import do_withdraw_application

    application = await submit(settings, kind)
    city = await officer()
    if status == S.WITHDRAWN:
        await do_withdraw_application(settings, await Person.get(id=application.applicant_id),
                                      application.id)
    for step in PATHS.get(status, ()):
        await do_review_application(settings, city, application.id, step, "意见：" + step.label)
    return await Application.get(id=application.id)
