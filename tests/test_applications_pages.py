"""The enterprise's application pages over real HTTP: submit with attachments, records,
detail, withdraw, 重新新增, 补充资料, downloads scoped to the enterprise, and the status push
reaching the sandbox with its delivery report recorded."""

from __future__ import annotations

import asyncio
import re

from applications_support import (
    ANJULE_MANAGER_OPENID,
    LEADER_OPENID,
    MANAGER_OPENID,
    application_in,
    officer,
)
from auth_helpers import csrf_token, sign_in

from actions.applications import Transition, do_review_application
from bot.outbox_worker import OutboxWorker
from conftest import LiveServer
from models.applications import Application, ApplicationStatus, Attachment
from models.outbox import OutboxMessage, OutboxStatus
from sandbox.state import SandboxState

S = ApplicationStatus
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<!doctype html><html><body>not a pdf</body></html>"
ADD_FORM = {"kind": "project_add", "name": "鹏城新苑", "address": "福田区新洲路88号",
            "district": "福田区", "project_type": "1", "build_area": "30000",
            "total_house_num": "300"}


async def test_submit_application_project_add_with_attachments(live: LiveServer,
                                                              demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        form = await c.get("/h5/applications/new?kind=project_add")
        assert form.status_code == 200 and "新增物业项目" in form.text
        token = await csrf_token(c, "/h5/applications/new?kind=project_add")
        sent = await c.post("/h5/applications/new", data={**ADD_FORM, "csrf_token": token},
                            files=[("materials", ("../../立项批复.pdf", PDF, "application/pdf")),
                                   ("contract", ("物业服务合同.pdf", PDF, "application/pdf"))])
        assert sent.status_code == 303, sent.text
        detail = await c.get(sent.headers["location"])
        assert detail.status_code == 200
        for shown in ("鹏城新苑", "待受理", "立项批复.pdf", "物业服务合同.pdf", "张伟", "撤回申请"):
            assert shown in detail.text
        application = await Application.get(title="新增：鹏城新苑")
        attachment = await Attachment.get(application_id=application.id, purpose="contract")
        download = await c.get(f"/h5/applications/{application.id}/attachments/{attachment.id}")
        assert download.status_code == 200 and download.content == PDF
        assert download.headers["content-disposition"].startswith("attachment")
        listing = await c.get("/h5/applications?status=submitted")
        assert application.number in listing.text
        approved_only = await c.get("/h5/applications?status=approved")
        assert application.number not in approved_only.text


async def test_submit_application_renamed_html_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        token = await csrf_token(c, "/h5/applications/new?kind=project_add")
        sent = await c.post("/h5/applications/new", data={**ADD_FORM, "csrf_token": token},
                            files=[("materials", ("合同.pdf", HTML, "application/pdf"))])
        assert sent.status_code == 400
        assert "只能上传" in sent.text
        assert 'value="鹏城新苑"' in sent.text  # the form comes back filled in
    assert await Application.all().count() == 3  # the demo's only


async def test_download_attachment_other_enterprise_refused(live: LiveServer,
                                                            demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        token = await csrf_token(c, "/h5/applications/new?kind=project_add")
        sent = await c.post("/h5/applications/new", data={**ADD_FORM, "csrf_token": token},
                            files=[("materials", ("立项批复.pdf", PDF, "application/pdf"))])
        assert sent.status_code == 303
    application = await Application.get(title="新增：鹏城新苑")
    attachment = await Attachment.get(application_id=application.id)
    async with live.client() as other:
        await sign_in(other, ANJULE_MANAGER_OPENID)
        assert (await other.get(f"/h5/applications/{application.id}")).status_code == 404
        download = await other.get(
            f"/h5/applications/{application.id}/attachments/{attachment.id}")
        assert download.status_code == 404 and PDF not in download.content
    async with live.client() as manager:
        # Same enterprise, but a manager sees only their own applications.
        await sign_in(manager, MANAGER_OPENID)
        download = await manager.get(
            f"/h5/applications/{application.id}/attachments/{attachment.id}")
        assert download.status_code == 404


async def test_withdraw_application_by_page(live: LiveServer, demo: None) -> None:
    application = await application_in(live.settings, "project_add", S.SUBMITTED)
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        token = await csrf_token(c, f"/h5/applications/{application.id}")
        done = await c.post(f"/h5/applications/{application.id}/withdraw",
                            data={"csrf_token": token})
        assert done.status_code == 303
        again = await c.post(f"/h5/applications/{application.id}/withdraw",
                             data={"csrf_token": token})
        assert again.status_code == 409 and "已撤回" in again.text
    assert (await Application.get(id=application.id)).status == S.WITHDRAWN


async def test_resubmit_rejected_add_prefilled_and_linked(live: LiveServer,
                                                          demo: None) -> None:
    rejected = await application_in(live.settings, "project_add", S.REJECTED)
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        detail = await c.get(f"/h5/applications/{rejected.id}")
        assert "重新新增" in detail.text and "意见：审核不通过" in detail.text
        form = await c.get(f"/h5/applications/new?kind=project_add&from={rejected.id}")
        assert 'value="鹏城新苑"' in form.text and 'value="福田区新洲路88号"' in form.text
        token = await csrf_token(c, f"/h5/applications/new?kind=project_add&from={rejected.id}")
        sent = await c.post("/h5/applications/new", data={
            **ADD_FORM, "total_house_num": "320", "resubmitted_from": str(rejected.id),
            "csrf_token": token})
        assert sent.status_code == 303
    again = await Application.get(resubmitted_from_id=rejected.id)
    assert again.payload["total_house_num"] == 320 and again.status == S.SUBMITTED


async def test_supplement_returned_application_by_page(live: LiveServer, demo: None) -> None:
    returned = await application_in(live.settings, "project_add", S.RETURNED)
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        form = await c.get(f"/h5/applications/{returned.id}/supplement")
        assert form.status_code == 200 and 'value="鹏城新苑"' in form.text
        token = await csrf_token(c, f"/h5/applications/{returned.id}/supplement")
        sent = await c.post(f"/h5/applications/{returned.id}/supplement", data={
            **ADD_FORM, "note": "已补充合同", "csrf_token": token},
            files=[("contract", ("合同.pdf", PDF, "application/pdf"))])
        assert sent.status_code == 303, sent.text
    moved = await Application.get(id=returned.id)
    assert moved.status == S.ACCEPTED
    assert await Attachment.filter(application_id=returned.id, purpose="contract").exists()


async def _wait_for_delivery_reports(count: int) -> list[OutboxMessage]:
    """The sandbox reports delivery shortly after sending, as WeChat does; wait for it."""
    for _ in range(200):
        rows = await OutboxMessage.filter(subject_type="application").exclude(
            delivery_status="")
        if len(rows) >= count:
            return list(rows)
        await asyncio.sleep(0.05)
    raise AssertionError("no delivery report recorded")


async def test_push_application_status_reaches_applicant_and_leader(live: LiveServer,
                                                                    demo: None) -> None:
    application = await application_in(live.settings, "project_edit", S.SUBMITTED)
    await do_review_application(live.settings, await officer(), application.id,
                                Transition.ACCEPT)
    worker = OutboxWorker(live.settings, live.redis, live.app.ctx.wechat)
    while await worker.run_once():
        pass
    sandbox = SandboxState(live.redis)
    for openid in (LEADER_OPENID, MANAGER_OPENID):  # leader, and 王强 who applied
        got = [m for m in await sandbox.messages(openid) if m["type"] == "template"]
        # The worker sends in parallel: the two may arrive in either order.
        assert sorted(m["data"]["phrase3"]["value"] for m in got) == sorted(["待受理", "受理中"])
        for message in got:
            assert message["url"] == (f"{live.settings.public_base_url}"
                                      f"/h5/applications/{application.id}")
            assert message["data"]["character_string2"]["value"] == application.number
    rows = await OutboxMessage.filter(subject_id=application.id)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    reported = await _wait_for_delivery_reports(4)
    assert {r.delivery_status for r in reported} == {"success"}
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)
        detail = await c.get(f"/h5/applications/{application.id}")
        assert "送达：success" in detail.text
        assert len(re.findall("已发送", detail.text)) == 4
