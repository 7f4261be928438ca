"""Sessions and access (issue 3, parts 3 and 4): cookie flags, idle and absolute expiry,
revocation on unbind, deregistration and unsubscribe, CSRF, roles and modules."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from auth_helpers import (
    DEMO_LEADER_OPENID,
    DEMO_MANAGER_OPENID,
    LEADER_CHENJING_FORM,
    MANAGER_LIUYANG_FORM,
    UNBOUND_LEADER_OPENID,
    UNBOUND_MANAGER_OPENID,
    authorize,
    bind,
    csrf_token,
    sign_in,
)

from actions import clock
from auth_binding.access import revoke_person_sessions
from conftest import LiveServer, live_settings, start_live, stop_live
from core.sessions import H5_SESSIONS, SessionKind, SessionStore
from models.people import Person, WeChatBinding
from settings import Settings


def _set_cookies(r: httpx.Response) -> list[str]:
    return r.headers.get_list("set-cookie")


async def _signed_out(c: httpx.AsyncClient, path: str = "/h5/account") -> bool:
    r = await c.get(path)
    return r.status_code == 302 and r.headers["location"].startswith("/auth/start")


async def test_session_cookie_flags_over_http(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        oauth_cookie = _set_cookies(await c.get("/auth/start?next=/h5/account"))
        r = await sign_in(c, DEMO_LEADER_OPENID)
    assert any(h.startswith("wuye_oauth=") and "HttpOnly" in h for h in oauth_cookie)
    session = next(h for h in _set_cookies(r) if h.startswith("wuye_sid="))
    assert "HttpOnly" in session and "SameSite=Lax" in session and "Path=/" in session
    assert "Secure" not in session
    assert len(session.split(";")[0].removeprefix("wuye_sid=")) >= 43  # ≥ 256 bits


async def test_session_cookie_flags_over_https(base_settings: Settings, demo: None) -> None:
    settings = live_settings(base_settings)
    # Served on http here, but the public address (behind TLS) is https.
    settings = settings.with_overrides(public_base_url="https://wuye.example.cn")
    _, server = await start_live(settings)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as c:
            start = await c.get("/auth/start?next=/h5/account")
            oauth_cookie = next(h for h in _set_cookies(start) if "wuye_oauth" in h)
            assert oauth_cookie.startswith("__Host-wuye_oauth=") and "Secure" in oauth_cookie
            callback = await authorize(c, start.headers["location"].split("#")[0],
                                       DEMO_LEADER_OPENID)
            query = urlsplit(callback).query
            assert urlsplit(callback).netloc == "wuye.example.cn"
            cookie = oauth_cookie.split(";")[0]
            r = await c.get(f"/auth/callback?{query}", headers={"cookie": cookie})
            assert r.status_code == 302, r.text
            session = next(h for h in _set_cookies(r) if "wuye_sid" in h)
            page = await c.get("/h5/account", headers={"cookie": session.split(";")[0]})
            assert page.status_code == 200 and "张伟" in page.text
    finally:
        await stop_live(server)
    assert session.startswith("__Host-wuye_sid=")
    for flag in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert flag in session
    assert "Domain" not in session


async def test_session_idle_expiry_signs_out(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)
        clock.travel(H5_SESSIONS.idle_seconds - 120)
        assert (await c.get("/h5/account")).status_code == 200
        clock.travel(H5_SESSIONS.idle_seconds - 120)  # active in between: still signed in
        assert (await c.get("/h5/account")).status_code == 200
        clock.travel(H5_SESSIONS.idle_seconds + 1)
        assert await _signed_out(c)


async def test_session_absolute_expiry_signs_out(live: LiveServer, demo: None) -> None:
    store = SessionStore(live.redis, live.settings,
                         SessionKind("sess:h5", "wuye_sid", idle_seconds=3600,
                                     absolute_seconds=3 * 3000 + 100))
    session = await store.create("person:1", {"openid": DEMO_LEADER_OPENID})
    for _ in range(3):
        clock.travel(3000)
        assert await store.load(session.sid) is not None
    clock.travel(200)
    assert await store.load(session.sid) is None


async def test_unbind_revokes_every_session(live: LiveServer, demo: None) -> None:
    async with live.client() as phone, live.client() as other_tab:
        await sign_in(phone, DEMO_LEADER_OPENID)
        await sign_in(other_tab, DEMO_LEADER_OPENID)
        r = await phone.post("/h5/account/unbind", data={"csrf_token": await csrf_token(phone)})
        assert r.status_code == 200 and "已解除绑定" in r.text
        assert await _signed_out(phone)
        assert await _signed_out(other_tab)
        # Signing in again now leads to the binding form: the openid is free.
        r = await sign_in(other_tab, DEMO_LEADER_OPENID)
        assert r.headers["location"] == "/auth/bind"
    assert not await WeChatBinding.filter(openid=DEMO_LEADER_OPENID).exists()


async def test_unsubscribe_revokes_sessions(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_MANAGER_OPENID)
        person = await Person.get(name="王强")
        assert await revoke_person_sessions(live.app, person.id) == 1
        assert await _signed_out(c)


async def test_session_of_deregistered_person_refused(live: LiveServer, demo: None) -> None:
    """Even a session Redis still holds dies when the database says the person left."""
    async with live.client() as c:
        await sign_in(c, DEMO_MANAGER_OPENID)
        await WeChatBinding.filter(openid=DEMO_MANAGER_OPENID).delete()
        assert await _signed_out(c)
        r = await c.get("/h5/account", headers={"X-Requested-With": "XMLHttpRequest"})
    assert r.status_code == 401 and r.json()["error"] == "signed_out"


async def test_post_without_csrf_token_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)
        for data in ({}, {"csrf_token": "forged"}):
            r = await c.post("/h5/account/unbind", data=data)
            assert r.status_code == 403 and "页面已过期" in r.text
        r = await c.post("/h5/account/deregister", data={"csrf_token": ""},
                         headers={"Accept": "application/json"})
        assert r.status_code == 403 and r.json()["error"] == "csrf"
        # The token works from the header too (scripts).
        token = await csrf_token(c)
        r = await c.post("/h5/account/unbind", headers={"X-CSRF-Token": token})
        assert r.status_code == 200
    assert not await WeChatBinding.filter(openid=DEMO_LEADER_OPENID).exists()


async def test_csrf_token_of_other_session_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as victim, live.client() as attacker:
        await sign_in(victim, DEMO_LEADER_OPENID)
        await sign_in(attacker, DEMO_MANAGER_OPENID)
        r = await victim.post("/h5/account/unbind",
                              data={"csrf_token": await csrf_token(attacker)})
        assert r.status_code == 403
    assert await WeChatBinding.filter(openid=DEMO_LEADER_OPENID).exists()


async def test_manager_without_module_gets_403(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        assert (await bind(c, UNBOUND_MANAGER_OPENID, MANAGER_LIUYANG_FORM)).status_code == 302
        r = await c.get("/h5/funds")  # 刘洋 holds notices and safety, not funds
        assert r.status_code == 403 and "共有资金" in r.text
        r = await c.get("/h5/permissions")
        assert r.status_code == 403


async def test_new_session_id_on_every_sign_in(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)
        first = c.cookies.get("wuye_sid")
        await sign_in(c, DEMO_LEADER_OPENID)
        second = c.cookies.get("wuye_sid")
        assert first != second
        # The old id is dead: a fixated or stolen id does not outlive the next sign-in.
    async with live.client() as thief:
        r = await thief.get("/h5/account", headers={"cookie": f"wuye_sid={first}"})
        assert r.status_code == 302 and r.headers["location"].startswith("/auth/start")
        r = await thief.get("/h5/account", headers={"cookie": f"wuye_sid={second}"})
        assert r.status_code == 200


async def test_change_mobile_with_sms_code(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        assert (await bind(c, UNBOUND_LEADER_OPENID, LEADER_CHENJING_FORM)).status_code == 302
        token = await csrf_token(c, "/h5/account/mobile")
        new = "13900000077"
        r = await c.post("/h5/account/mobile", data={"mobile": new, "op": "send_code",
                                                    "csrf_token": token})
        assert r.status_code == 200 and "验证码已发送" in r.text
        r = await c.post("/h5/account/mobile", data={"mobile": new, "sms_code": "000000",
                                                    "op": "change", "csrf_token": token})
        sms = await c.get("/sandbox/api/sms", params={"mobile": new})
        code = sms.json()["code"]
        if code != "000000":
            assert r.status_code == 400 and "验证码错误" in r.text
        r = await c.post("/h5/account/mobile", data={"mobile": new, "sms_code": code,
                                                    "op": "change", "csrf_token": token})
        assert r.status_code == 302
        page = await c.get(r.headers["location"])
    assert new in page.text
    assert (await Person.get(name="陈静")).mobile == new


async def test_change_mobile_taken_by_colleague_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)
        token = await csrf_token(c, "/h5/account/mobile")
        taken = "13800000003"  # 王强's
        await c.post("/h5/account/mobile", data={"mobile": taken, "op": "send_code",
                                                "csrf_token": token})
        code = (await c.get("/sandbox/api/sms", params={"mobile": taken})).json()["code"]
        r = await c.post("/h5/account/mobile", data={"mobile": taken, "sms_code": code,
                                                    "op": "change", "csrf_token": token})
        assert r.status_code == 400 and "已被本企业其他在职人员使用" in r.text
    assert (await Person.get(name="张伟")).mobile == "13800000001"


async def test_deregister_self_ends_access(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_MANAGER_OPENID)
        r = await c.post("/h5/account/deregister", data={"csrf_token": await csrf_token(c)})
        assert r.status_code == 200 and "账号已注销" in r.text
        assert await _signed_out(c)
    person = await Person.get(name="王强")
    assert person.status == "deregistered"
    assert not await WeChatBinding.filter(person_id=person.id).exists()
