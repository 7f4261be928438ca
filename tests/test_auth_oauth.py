"""The OAuth entry (issue 3, part 1): every /h5 page without a session goes through WeChat's
authorize page; the callback opens a session for a bound openid or shows the binding form, and
refuses a bad state, a bad code or a snapshot user with a page that offers to re-enter."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
from auth_helpers import (
    DEMO_LEADER_OPENID,
    GUEST_OPENID,
    authorize,
    sign_in,
    start_oauth,
)

from conftest import LiveServer
from models.people import WeChatBinding
from sandbox.state import SandboxState


async def test_open_h5_page_without_session_redirects_to_oauth(live: LiveServer,
                                                               demo: None) -> None:
    async with live.client() as c:
        r = await c.get("/h5/account?tab=1")
        assert r.status_code == 302
        assert r.headers["location"] == "/auth/start?next=%2Fh5%2Faccount%3Ftab%3D1"
        target = urlsplit(await start_oauth(c, "/h5/account"))
    assert target.path == "/sandbox/connect/oauth2/authorize"
    query = parse_qs(target.query)
    assert query["scope"] == ["snsapi_base"]
    assert query["redirect_uri"] == [f"{live.settings.public_base_url}/auth/callback"]
    assert query["appid"] == [live.settings.wechat_appid]
    assert re.fullmatch(r"[A-Za-z0-9]{16,128}", query["state"][0])


async def test_sign_in_bound_openid_returns_to_page_first_asked(live: LiveServer,
                                                                demo: None) -> None:
    async with live.client() as c:
        r = await sign_in(c, DEMO_LEADER_OPENID, "/h5/permissions/by-module")
        assert r.status_code == 302
        assert r.headers["location"] == "/h5/permissions/by-module"
        page = await c.get("/h5/permissions/by-module")
    assert page.status_code == 200
    assert "按权限" in page.text


async def test_sign_in_next_outside_site_lands_on_home(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            r = await sign_in(c, DEMO_LEADER_OPENID, bad)
            assert r.headers["location"] == "/h5/projects"


async def test_sign_in_unbound_openid_shows_binding_form(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await sign_in(c, GUEST_OPENID)
        assert r.headers["location"] == "/auth/bind"
        form = await c.get("/auth/bind")
        assert form.status_code == 200
        assert "身份认证" in form.text and "统一社会信用代码" in form.text
        # The pre-binding session opens no page.
        page = await c.get("/h5/account")
    assert page.status_code == 302
    assert page.headers["location"].startswith("/auth/start")


async def _refused(c: httpx.AsyncClient, url: str) -> str:
    r = await c.get(url)
    assert r.status_code in (400, 503), r.text
    assert "重新进入" in r.text
    assert "/auth/start?next=" in r.text
    return r.text


async def _no_session(c: httpx.AsyncClient) -> None:
    r = await c.get("/h5/account")
    assert r.status_code == 302 and r.headers["location"].startswith("/auth/start")


async def test_callback_missing_or_forged_state_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        callback = await authorize(c, await start_oauth(c), DEMO_LEADER_OPENID)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        await _refused(c, f"/auth/callback?code={code}")
        await _refused(c, f"/auth/callback?code={code}&state=abc%3Cscript%3E")
        text = await _refused(c, f"/auth/callback?code={code}&state={'A' * 32}")
        assert "已失效" in text
        await _no_session(c)


async def test_callback_reused_state_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        callback = await authorize(c, await start_oauth(c), DEMO_LEADER_OPENID)
        assert (await c.get(callback)).status_code == 302
        c.cookies.delete("wuye_sid")  # a fresh browser session replaying the same URL
        text = await _refused(c, callback)
        assert "已使用" in text
        await _no_session(c)


async def test_callback_state_from_other_browser_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as victim, live.client() as attacker:
        callback = await authorize(attacker, await start_oauth(attacker), DEMO_LEADER_OPENID)
        text = await _refused(victim, callback)
        assert "同一个浏览器" in text
        await _no_session(victim)


async def test_callback_reused_code_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        callback = await authorize(c, await start_oauth(c), DEMO_LEADER_OPENID)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        assert (await c.get(callback)).status_code == 302
        c.cookies.delete("wuye_sid")
        fresh_state = parse_qs(urlsplit(await start_oauth(c)).query)["state"][0]
        text = await _refused(c, f"/auth/callback?code={code}&state={fresh_state}")
        assert "授权码无效或已使用" in text
        await _no_session(c)


async def test_callback_invalid_code_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        state = parse_qs(urlsplit(await start_oauth(c)).query)["state"][0]
        text = await _refused(c, f"/auth/callback?code=not-a-real-code&state={state}")
        assert "授权码无效或已使用" in text
        await _no_session(c)


async def test_callback_snapshot_user_refused_without_binding(live: LiveServer,
                                                             demo: None) -> None:
    bindings = await WeChatBinding.all().count()
    async with live.client() as c:
        callback = await authorize(c, await start_oauth(c), "", snapshot=True)
        text = await _refused(c, callback)
        assert "快照" in text
        await _no_session(c)
        assert (await c.get("/auth/bind")).status_code == 302
    assert await WeChatBinding.all().count() == bindings


async def test_callback_wechat_unavailable_refused(live: LiveServer, demo: None) -> None:
    await SandboxState(live.redis).add_fault("oauth_access_token", -1)
    async with live.client() as c:
        callback = await authorize(c, await start_oauth(c), DEMO_LEADER_OPENID)
        r = await c.get(callback)
        assert r.status_code == 503
        assert "暂时不可用" in r.text and "重新进入" in r.text
        await _no_session(c)
