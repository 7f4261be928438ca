"""The one application workflow: every transition per kind, refusals, effects, pushes, races."""

from __future__ import annotations

import asyncio

import pytest
from applications_support import (
    ADD_FIELDS,
    LEADER_OPENID,
    MANAGER_OPENID,
    application_in,
    officer,
    person,
    project,
    submit,
)

from actions.applications import (
    TRANSITIONS,
    Transition,
    do_review_application,
    do_submit_application,
    do_supplement_application,
    do_withdraw_application,
)
from actions.errors import ActionError
from models.applications import Application, ApplicationEvent, ApplicationStatus
from models.audit import AuditEntry
from models.outbox import OutboxMessage
from models.people import Person
from models.projects import Project, ProjectStatus
from settings import Settings

S = ApplicationStatus
KINDS = ("project_add", "project_attach", "project_remove", "project_edit")


async def _apply(settings: Settings, application: Application, transition: Transition) -> None:
    applicant = await Person.get(id=application.applicant_id)
    if transition == Transition.WITHDRAW:
        await do_withdraw_application(settings, applicant, application.id)
    elif transition == Transition.SUPPLEMENT:
        await do_supplement_application(settings, applicant, application.id, None,
                                        note="已补充合同")
    else:
        await do_review_application(settings, await officer(), application.id, transition,
                                    "审核意见")


ALLOWED = [(kind, status, transition) for kind in KINDS
           for transition, rule in TRANSITIONS.items() for status in rule.sources]


@pytest.mark.parametrize(("kind", "status", "transition"), ALLOWED)
async def test_move_application_allowed_transition(
        demo: None, base_settings: Settings, kind: str, status: ApplicationStatus,
        transition: Transition) -> None:
    application = await application_in(base_settings, kind, status)
    events = await ApplicationEvent.filter(application_id=application.id).count()
    messages = await OutboxMessage.filter(subject_id=application.id).count()
    await _apply(base_settings, application, transition)
    moved = await Application.get(id=application.id)
    assert moved.status == TRANSITIONS[transition].target
    assert await ApplicationEvent.filter(application_id=application.id).count() == events + 1
    assert await OutboxMessage.filter(subject_id=application.id).count() > messages


@pytest.mark.parametrize(("kind", "status"), [(k, s) for k in KINDS for s in S])
async def test_move_application_refused_transitions_change_nothing(
        demo: None, base_settings: Settings, kind: str, status: ApplicationStatus) -> None:
    application = await application_in(base_settings, kind, status)
    events = await ApplicationEvent.filter(application_id=application.id).count()
    messages = await OutboxMessage.all().count()
    audits = await AuditEntry.all().count()
    refused_ones = [t for t, rule in TRANSITIONS.items() if status not in rule.sources]
    assert refused_ones
    for transition in refused_ones:
        with pytest.raises(ActionError) as refused:
            await _apply(base_settings, application, transition)
        assert refused.value.code == "transition_not_allowed"
        assert f"当前状态为“{status.label}”" in refused.value.message
    unchanged = await Application.get(id=application.id)
    assert unchanged.status == status
    assert unchanged.updated_at == application.updated_at
    assert await ApplicationEvent.filter(application_id=application.id).count() == events
    assert await OutboxMessage.all().count() == messages
    assert await AuditEntry.all().count() == audits


async def test_approve_project_add_creates_project_under_enterprise(
        demo: None, base_settings: Settings) -> None:
    application = await application_in(base_settings, "project_add", S.APPROVED)
    created = await Project.get(name="鹏城新苑").select_related("enterprise")
    assert created.enterprise is not None
    assert created.enterprise.name == "深圳市鹏城物业服务有限公司"
    assert created.district == "福田区" and created.total_house_num == 300
    assert created.status == ProjectStatus.MANAGED
    assert application.project_id == created.id
    assert application.number.startswith("XZ")
    assert await AuditEntry.filter(event="project.created", subject_id=created.id).exists()


async def test_reject_project_add_creates_nothing(demo: None, base_settings: Settings) -> None:
    await application_in(base_settings, "project_add", S.REJECTED)
    assert not await Project.filter(name="鹏城新苑").exists()


async def test_approve_project_attach_joins_enterprise(demo: None,
                                                       base_settings: Settings) -> None:
    await application_in(base_settings, "project_attach", S.APPROVED)
    meilin = await project("梅林一村")
    assert meilin.enterprise_id == (await person("张伟")).enterprise_id  # type: ignore[attr-defined]
    assert meilin.status == ProjectStatus.MANAGED


async def test_approve_project_remove_ends_management(demo: None,
                                                      base_settings: Settings) -> None:
    xiangmi = await project("香蜜湖公寓")
    await Project.filter(id=xiangmi.id).update(manager_id=(await person("刘洋")).id)
    await application_in(base_settings, "project_remove", S.APPROVED)
    removed = await project("香蜜湖公寓")
    assert removed.enterprise_id is None  # type: ignore[attr-defined]
    assert removed.manager_id is None  # type: ignore[attr-defined]
    assert removed.status == ProjectStatus.UNMANAGED


async def test_approve_project_edit_applies_basic_info(demo: None,
                                                       base_settings: Settings) -> None:
    await application_in(base_settings, "project_edit", S.APPROVED)
    garden = await project("鹏城花园")
    assert garden.address == "福田区莲花路1001号（北门）"
    assert garden.total_house_num == 830
    entry = await AuditEntry.get(event="project.edited", subject_id=garden.id)
    assert entry.old == {"address": "福田区莲花路1001号", "total_house_num": 820}


async def test_reject_project_edit_leaves_project(demo: None, base_settings: Settings) -> None:
    await application_in(base_settings, "project_edit", S.REJECTED)
    assert (await project("鹏城花园")).total_house_num == 820


async def test_submit_application_refused_cases_say_why(demo: None,
                                                        base_settings: Settings) -> None:
    zhangwei = await person("张伟")
    before = await Application.all().count()
    cases = [
        ("project_add", {**ADD_FIELDS, "name": ""}, None, "请填写项目名称"),
        ("project_add", {**ADD_FIELDS, "district": "火星区"}, None, "请选择项目所在区"),
        ("project_add", {**ADD_FIELDS, "name": "鹏城花园"}, None, "请用“添加在管”申请"),
        ("project_attach", {}, (await project("鹏城花园")).id, "已有在管企业"),
        ("project_remove", {"reason": "到期"}, (await project("安居乐家园")).id,
         "请选择贵企业在管的项目"),
        ("project_remove", {"reason": ""}, (await project("香蜜湖公寓")).id, "请填写移除原因"),
    ]
    for kind, fields, project_id, said in cases:
        with pytest.raises(ActionError) as refused:
            await do_submit_application(base_settings, zhangwei, kind, fields,
                                        project_id=project_id)
        assert said in refused.value.message
    assert await Application.all().count() == before


async def test_submit_application_open_duplicate_refused(demo: None,
                                                         base_settings: Settings) -> None:
    await submit(base_settings, "project_remove")
    with pytest.raises(ActionError) as refused:
        await submit(base_settings, "project_remove")
    assert refused.value.code == "duplicate_application"


async def test_submit_application_manager_only_for_own_project_edit(
        demo: None, base_settings: Settings) -> None:
    wangqiang = await person("王强")
    with pytest.raises(ActionError) as refused:
        await do_submit_application(base_settings, wangqiang, "project_add", dict(ADD_FIELDS))
    assert refused.value.status == 403
    with pytest.raises(ActionError):
        await do_submit_application(base_settings, wangqiang, "project_edit",
                                    {"name": "福景大厦", "address": "改"},
                                    project_id=(await project("福景大厦")).id)


async def test_resubmit_rejected_add_linked_once(demo: None, base_settings: Settings) -> None:
    rejected = await application_in(base_settings, "project_add", S.REJECTED)
    zhangwei = await person("张伟")
    again = await do_submit_application(base_settings, zhangwei, "project_add",
                                        {**ADD_FIELDS, "total_house_num": "310"},
                                        resubmitted_from_id=rejected.id)
    assert again.resubmitted_from_id == rejected.id
    assert again.status == S.SUBMITTED
    with pytest.raises(ActionError) as twice:
        await do_submit_application(base_settings, zhangwei, "project_add", dict(ADD_FIELDS),
                                    resubmitted_from_id=rejected.id)
    assert twice.value.code == "already_resubmitted"


async def test_resubmit_application_not_rejected_refused(demo: None,
                                                         base_settings: Settings) -> None:
    pending = await submit(base_settings, "project_add")
    with pytest.raises(ActionError) as refused:
        await do_submit_application(base_settings, await person("张伟"), "project_add",
                                    dict(ADD_FIELDS), resubmitted_from_id=pending.id)
    assert "只有审核不通过的申请才能重新新增" in refused.value.message


async def test_supplement_application_revalidates_changes(demo: None,
                                                          base_settings: Settings) -> None:
    returned = await application_in(base_settings, "project_add", S.RETURNED)
    zhangwei = await person("张伟")
    with pytest.raises(ActionError):
        await do_supplement_application(base_settings, zhangwei, returned.id,
                                        {**ADD_FIELDS, "address": ""})
    assert (await Application.get(id=returned.id)).status == S.RETURNED
    await do_supplement_application(base_settings, zhangwei, returned.id,
                                    {**ADD_FIELDS, "total_house_num": "299"}, note="已更正户数")
    moved = await Application.get(id=returned.id)
    assert moved.status == S.ACCEPTED and moved.payload["total_house_num"] == 299


async def test_review_application_needs_opinion_to_reject_or_return(
        demo: None, base_settings: Settings) -> None:
    accepted = await application_in(base_settings, "project_add", S.ACCEPTED)
    for transition in (Transition.REJECT, Transition.RETURN):
        with pytest.raises(ActionError) as refused:
            await do_review_application(base_settings, await officer(), accepted.id,
                                        transition, "  ")
        assert refused.value.code == "opinion_required"
    assert (await Application.get(id=accepted.id)).status == S.ACCEPTED


async def test_review_application_district_staff_refused(demo: None,
                                                         base_settings: Settings) -> None:
    submitted = await submit(base_settings, "project_add")
    with pytest.raises(ActionError) as other_district:
        await do_review_application(base_settings, await officer("luohu"), submitted.id,
                                    Transition.ACCEPT)
    assert other_district.value.status == 404
    with pytest.raises(ActionError) as district_staff:
        await do_review_application(base_settings, await officer("futian"), submitted.id,
                                    Transition.ACCEPT)
    assert "由市经办人审核" in district_staff.value.message
    assert (await Application.get(id=submitted.id)).status == S.SUBMITTED


async def test_withdraw_application_other_enterprise_refused(demo: None,
                                                             base_settings: Settings) -> None:
    submitted = await submit(base_settings, "project_add")
    with pytest.raises(ActionError) as refused:
        await do_withdraw_application(base_settings, await person("赵磊"), submitted.id)
    assert refused.value.status == 404
    assert (await Application.get(id=submitted.id)).status == S.SUBMITTED


async def test_push_application_status_to_applicant_and_leader_once_each(
        demo: None, base_settings: Settings) -> None:
    by_leader = await application_in(base_settings, "project_add", S.APPROVED)
    leader_rows = await OutboxMessage.filter(subject_type="application",
                                             subject_id=by_leader.id)
    # 张伟 is both applicant and leader: one message per transition (submit, accept, approve).
    assert [r.openid for r in leader_rows] == [LEADER_OPENID] * 3
    assert [r.data["phrase3"]["value"] for r in leader_rows] == ["待受理", "受理中", "通过"]
    assert leader_rows[0].url.endswith(f"/h5/applications/{by_leader.id}")
    assert leader_rows[2].data["character_string2"]["value"] == by_leader.number
    by_manager = await submit(base_settings, "project_edit")
    manager_rows = await OutboxMessage.filter(subject_type="application",
                                              subject_id=by_manager.id)
    assert sorted(r.openid for r in manager_rows) == sorted([LEADER_OPENID, MANAGER_OPENID])
    for row in manager_rows:
        assert all(len(v["value"]) <= 20 for k, v in row.data.items()
                   if not k.startswith("character_string"))


@pytest.mark.parametrize("second", [Transition.APPROVE, Transition.REJECT])
async def test_review_application_concurrently_one_wins(
        demo: None, base_settings: Settings, second: Transition) -> None:
    accepted = await application_in(base_settings, "project_add", S.ACCEPTED)
    before = await OutboxMessage.filter(subject_id=accepted.id).count()
    city = await officer()
    results = await asyncio.gather(
        do_review_application(base_settings, city, accepted.id, Transition.APPROVE, "同意"),
        do_review_application(base_settings, city, accepted.id, second, "不同意"),
        return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1 and isinstance(errors[0], ActionError)
    assert errors[0].code == "transition_not_allowed"
    final = await Application.get(id=accepted.id)
    assert final.status in (S.APPROVED, S.REJECTED)
    assert await ApplicationEvent.filter(application_id=accepted.id).count() == 3
    assert await OutboxMessage.filter(subject_id=accepted.id).count() == before + 1
    assert await Project.filter(name="鹏城新苑").count() == (
        1 if final.status == S.APPROVED else 0)
