"""The officers' console: sign-in with lockout and CSRF, the review queue and its filters,
reviewing with an opinion, district scope, and every page closed to enterprise users."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from applications_support import LEADER_OPENID, application_in
from auth_helpers import csrf_token, sign_in

from actions import clock
from conftest import LiveServer
from core.sessions import CONSOLE_SESSIONS, SessionStore
from demo_data.load import DEMO_OFFICER_PASSWORD
from models.applications import Application, ApplicationStatus, Attachment
from models.officers import Officer
from models.outbox import OutboxMessage
from models.projects import Project

S = ApplicationStatus
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _login(c: httpx.AsyncClient, username: str, password: str,
                 next_path: str = "/console/reviews") -> httpx.Response:
    page = await c.get("/console/login")
    token = TOKEN_RE.search(page.text)
    assert token, page.text
    return await c.post("/console/login", data={"username": username, "password": password,
                                                "csrf_token": token.group(1),
                                                "next": next_path})


@asynccontextmanager
async def officer_client(live: LiveServer,
                         username: str = "city") -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with live.client() as c:
        signed_in = await _login(c, username, DEMO_OFFICER_PASSWORD)
        assert signed_in.status_code == 303, signed_in.text
        store = SessionStore(live.redis, live.settings, CONSOLE_SESSIONS)
        session = await store.load(c.cookies.get(store.cookie_name))
        assert session is not None
        yield c, session.csrf_token


async def test_sign_in_officer_wrong_password_then_lockout(live: LiveServer,
                                                          demo: None) -> None:
    async with live.client() as c:
        for _ in range(4):
            wrong = await _login(c, "city", "wrong-password")
            assert wrong.status_code == 401 and "用户名或密码错误" in wrong.text
        locked = await _login(c, "city", "wrong-password")
        assert locked.status_code == 423 and "锁定" in locked.text
        still = await _login(c, "city", DEMO_OFFICER_PASSWORD)
        assert still.status_code == 423
        clock.travel(15 * 60 + 1)
        ok = await _login(c, "city", DEMO_OFFICER_PASSWORD)
        assert ok.status_code == 303 and ok.headers["location"] == "/console/reviews"
    assert (await Officer.get(username="city")).failed_logins == 0


async def test_sign_in_officer_without_csrf_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await c.get("/console/login")
        r = await c.post("/console/login", data={"username": "city",
                                                 "password": DEMO_OFFICER_PASSWORD})
        assert r.status_code == 403 and "页面已过期" in r.text
        assert (await c.get("/console/reviews")).status_code == 302


async def test_sign_in_officer_next_only_console_path(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await _login(c, "city", DEMO_OFFICER_PASSWORD, next_path="//evil.example/x")
        assert r.headers["location"] == "/console/reviews"


async def test_sign_out_officer_ends_session(live: LiveServer, demo: None) -> None:
    async with officer_client(live) as (c, token):
        out = await c.post("/console/logout", data={"csrf_token": token})
        assert out.status_code == 303
        after = await c.get("/console/reviews")
        assert after.status_code == 302
        assert after.headers["location"].startswith("/console/login?next=")


CONSOLE_PAGES = ("/console/reviews", "/console/reviews/{id}",
                 "/console/reviews/{id}/attachments/{att}")


@pytest.mark.parametrize("path", CONSOLE_PAGES)
async def test_console_page_enterprise_user_refused(live: LiveServer, demo: None,
                                                    path: str) -> None:
    application = await application_in(live.settings, "project_add", S.SUBMITTED)
    attachment = await Attachment.create(
        application=application, stored_name="0" * 32 + ".pdf", display_name="a.pdf",
        kind="pdf", mime="application/pdf", size=1, sha256="0", created_at=clock.now())
    url = path.format(id=application.id, att=attachment.id)
    async with live.client() as c:
        await sign_in(c, LEADER_OPENID)  # an H5 session: worth nothing in the console
        page = await c.get(url)
        assert page.status_code == 302
        assert page.headers["location"].startswith("/console/login")
        token = await csrf_token(c)
        acted = await c.post(f"/console/reviews/{application.id}/accept",
                             data={"csrf_token": token, "opinion": "冒充"})
        assert acted.status_code == 403
    assert (await Application.get(id=application.id)).status == S.SUBMITTED


async def test_review_application_by_console_return_then_approve(live: LiveServer,
                                                                demo: None) -> None:
    application = await application_in(live.settings, "project_add", S.SUBMITTED)
    async with officer_client(live) as (c, token):
        queue = await c.get("/console/reviews?status=submitted")
        assert application.number in queue.text
        accepted = await c.post(f"/console/reviews/{application.id}/accept",
                                data={"csrf_token": token})
        assert accepted.status_code == 303
        no_opinion = await c.post(f"/console/reviews/{application.id}/return",
                                  data={"csrf_token": token, "opinion": ""})
        assert no_opinion.status_code == 400 and "请填写审核意见" in no_opinion.text
        returned = await c.post(f"/console/reviews/{application.id}/return",
                                data={"csrf_token": token, "opinion": "请补充物业服务合同"})
        assert returned.status_code == 303
        stale = await c.post(f"/console/reviews/{application.id}/approve",
                             data={"csrf_token": token, "opinion": "同意"})
        assert stale.status_code == 409 and "待补充资料" in stale.text
        no_csrf = await c.post(f"/console/reviews/{application.id}/approve",
                               data={"opinion": "同意"})
        assert no_csrf.status_code == 403
        detail = await c.get(f"/console/reviews/{application.id}")
        for shown in ("请补充物业服务合同", "待补充资料", "张伟", "待发送"):
            assert shown in detail.text
    assert (await Application.get(id=application.id)).status == S.RETURNED
    assert not await Project.filter(name="鹏城新苑").exists()
    assert await OutboxMessage.filter(subject_id=application.id).count() == 3


async def test_review_queue_filters(live: LiveServer, demo: None) -> None:
    add = await application_in(live.settings, "project_add", S.SUBMITTED)
    remove = await application_in(live.settings, "project_remove", S.ACCEPTED)
    async with officer_client(live) as (c, _):
        by_kind = await c.get("/console/reviews?kind=project_remove")
        assert remove.number in by_kind.text and add.number not in by_kind.text
        by_status = await c.get("/console/reviews?status=accepted")
        assert remove.number in by_status.text and add.number not in by_status.text
        by_enterprise = await c.get("/console/reviews?enterprise=安居乐")
        assert add.number not in by_enterprise.text
        by_district = await c.get("/console/reviews?district=罗湖区")
        assert add.number not in by_district.text


async def test_review_queue_district_staff_see_only_their_district(live: LiveServer,
                                                                   demo: None) -> None:
    futian = await application_in(live.settings, "project_add", S.SUBMITTED)
    async with officer_client(live, "luohu") as (c, token):
        queue = await c.get("/console/reviews?district=福田区")
        assert futian.number not in queue.text
        assert (await c.get(f"/console/reviews/{futian.id}")).status_code == 404
        acted = await c.post(f"/console/reviews/{futian.id}/accept", data={"csrf_token": token})
        assert acted.status_code == 404
    async with officer_client(live, "futian") as (c, token):
        queue = await c.get("/console/reviews")
        assert futian.number in queue.text
        detail = await c.get(f"/console/reviews/{futian.id}")
        assert detail.status_code == 200 and 'formaction="/console/reviews/' not in detail.text
    assert (await Application.get(id=futian.id)).status == S.SUBMITTED
