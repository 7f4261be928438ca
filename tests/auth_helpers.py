"""Signing in over real HTTP, the way WeChat's browser does, for every area's page tests.

    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)          # a bound demo follower: session opened
        page = await c.get("/h5/projects")
        r = await c.post("/h5/...", data={"csrf_token": await csrf_token(c), ...})

`bind(c, openid, ...)` runs the binding form (SMS code read from the sandbox) for an unbound one.
"""

from __future__ import annotations

import re
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
