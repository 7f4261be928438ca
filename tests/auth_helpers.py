"""Signing in over real HTTP, the way WeChat's browser does, for every area's page tests.

    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)          # a bound demo follower: session opened
        page = await c.get("/h5/projects")
        r = await c.post("/h5/...", data={"csrf_token": await csrf_token(c), ...})

`bind(c, openid, ...)` runs the binding form (SMS code read from the sandbox) for an unbound one.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import httpx

DEMO_LEADER_OPENID = "oDemo0LeaderZhangWei00000001"  # 张伟, leader of 鹏城物业
DEMO_MANAGER_OPENID = "oDemo0ManagerWangQiang000003"  # 王强, manager of 鹏城花园 and 莲花苑
DEMO_SUBSIDIARY_LEADER_OPENID = "oDemo0LeaderHuangMin00000001"  # 黄敏, 鹏城南山分公司
DEMO_OTHER_MANAGER_OPENID = "oDemo0ManagerZhaoLei00000002"  # 赵磊, manager at 安居乐物业
UNBOUND_HANDLER_OPENID = "oDemo0NewFollowerLiNa00000002"  # 李娜, handler of 鹏城物业
UNBOUND_MANAGER_OPENID = "oDemo0NewFollowerLiuYang00004"  # 刘洋, manager of 福景大厦
UNBOUND_LEADER_OPENID = "oDemo0NewFollowerChenJing0001"  # 陈静, leader of 安居乐物业
GUEST_OPENID = "oDemo0NewFollowerGuest0000001"
NEW_MANAGER_OPENID = "oDemo0NewFollowerSunMing00009"  # 孙明, once 张伟 adds him (13800000009)

CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


async def start_oauth(client: httpx.AsyncClient, next_path: str = "/h5/account") -> str:
    """GET /auth/start; the WeChat authorize URL it redirects to (fragment dropped)."""
    r = await client.get("/auth/start?next=" + quote(next_path, safe=""))
    assert r.status_code == 302, r.text
    return r.headers["location"].split("#", 1)[0]


async def authorize(client: httpx.AsyncClient, authorize_url: str, openid: str,
                    snapshot: bool = False) -> str:
    """The sandbox's authorize page picks `openid` at once; the callback URL it sends to."""
    extra = "&snapshot=1" if snapshot else f"&openid={openid}"
    r = await client.get(authorize_url + extra)
    assert r.status_code == 302, r.text
    return r.headers["location"]


async def sign_in(client: httpx.AsyncClient, openid: str,
                  next_path: str = "/h5/account") -> httpx.Response:
    """The whole OAuth round trip; the callback's answer (302 to next_path when bound, to
    /auth/bind when not). The client's cookie jar then holds the session."""
    callback = await authorize(client, await start_oauth(client, next_path), openid)
    return await client.get(callback)


async def csrf_token(client: httpx.AsyncClient, page: str = "/h5/account") -> str:
    r = await client.get(page)
    assert r.status_code == 200, r.text
    match = CSRF_RE.search(r.text)
    assert match, "page carries no CSRF token"
    return match.group(1)


async def sandbox_sms_code(client: httpx.AsyncClient, mobile: str) -> str:
    r = await client.get("/sandbox/api/sms", params={"mobile": mobile})
    assert r.status_code == 200, r.text
    return str(r.json()["code"])


async def send_bind_code(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    token = await csrf_token(client, "/auth/bind")
    return await client.post("/auth/bind", data={**form, "op": "send_code",
                                                 "csrf_token": token})


async def bind(client: httpx.AsyncClient, openid: str, form: dict[str, str],
               next_path: str = "/h5/account") -> httpx.Response:
    """Sign in as an unbound follower and complete the binding form; the form's answer."""
    r = await sign_in(client, openid, next_path)
    assert r.headers.get("location") == "/auth/bind", r.text
    sent = await send_bind_code(client, form)
    assert sent.status_code == 200, sent.text
    code = await sandbox_sms_code(client, form["mobile"])
    token = await csrf_token(client, "/auth/bind")
    return await client.post("/auth/bind", data={**form, "sms_code": code, "op": "bind",
                                                 "csrf_token": token})


LEADER_CHENJING_FORM = {"kind": "enterprise", "credit_code": "91440300MA5FP0003J",
                        "name": "陈静", "mobile": "13900000001"}
HANDLER_LINA_FORM = {"kind": "enterprise", "credit_code": "91440300MA5FP0001C",
                     "name": "李娜", "mobile": "13800000002"}
MANAGER_LIUYANG_FORM = {"kind": "manager", "name": "刘洋", "mobile": "13800000004"}


@asynccontextmanager
async def h5_client(live: Any, openid: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in as the person bound to `openid` (a real session in Redis, as the
    OAuth callback opens it); `csrf_of(client)` is its session's CSRF token."""
    from auth_binding.access import session_owner
    from core.sessions import H5_SESSIONS, SessionStore
    from models.people import WeChatBinding

    binding = await WeChatBinding.get(openid=openid)
    store = SessionStore(live.redis, live.settings, H5_SESSIONS)
    session = await store.create(session_owner(binding.person_id),  # type: ignore[attr-defined]
                                 {"openid": openid})
    async with live.client(follow_redirects=False) as client:
        client.cookies.set(store.cookie_name, session.sid)
        client.headers["x-test-csrf"] = session.csrf_token
        yield client


@asynccontextmanager
async def console_client(live: Any, username: str = "city") -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in to the console through its login form; `csrf_of(client)` is its
    session's CSRF token."""
    from core.sessions import CONSOLE_SESSIONS, SessionStore
    from demo_data.load import DEMO_OFFICER_PASSWORD

    async with live.client(follow_redirects=False) as client:
        page = await client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        signed_in = await client.post("/console/login", data={
            "username": username, "password": DEMO_OFFICER_PASSWORD,
            "csrf_token": token.group(1)})
        assert signed_in.status_code == 303, signed_in.text
        store = SessionStore(live.redis, live.settings, CONSOLE_SESSIONS)
        session = await store.load(client.cookies.get(store.cookie_name))
        assert session is not None
        client.headers["x-test-csrf"] = session.csrf_token
        yield client


def csrf_of(client: httpx.AsyncClient) -> str:
    return client.headers["x-test-csrf"]
