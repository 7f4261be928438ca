"""The sandbox's pages: WeChat's OAuth authorize page and the chat page (F19)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from conftest import LiveServer
from demo_data.load import FOLLOWERS
from sandbox import pages

ZHANG_WEI = "oDemo0LeaderZhangWei00000001"
LI_NA = "oDemo0NewFollowerLiNa00000002"
AUTHORIZE = "/sandbox/connect/oauth2/authorize"


def authorize_params(live: LiveServer, **changes: str) -> dict[str, str]:
    params = {"appid": live.settings.wechat_appid,
              "redirect_uri": f"{live.base_url}/auth/oauth/callback?next=%2Fh5%2Fprojects",
              "response_type": "code", "scope": "snsapi_base", "state": "abc123XYZ"}
    params.update(changes)
    return params


async def exchange(live: LiveServer, code: str) -> dict[str, object]:
    """Redeem a code as the product does, at the sandbox's /sns/oauth2/access_token."""
    async with live.client() as c:
        r = await c.get("/sandbox/sns/oauth2/access_token", params={
            "appid": live.settings.wechat_appid, "secret": live.settings.wechat_secret,
            "code": code, "grant_type": "authorization_code"})
    answer: dict[str, object] = r.json()
    return answer


def code_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["code"][0]


async def test_authorize_page_refuses_foreign_appid(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get(AUTHORIZE, params=authorize_params(live, appid="wx0000000000000000"))
    assert r.status_code == 400
    assert "appid 参数错误" in r.text
    assert "code=" not in r.headers.get("location", "")


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/steal",
    "{base}.evil.example/auth/oauth/callback",
    "http://127.0.0.1:1/auth/oauth/callback",
    "http://attacker@{host}/auth/oauth/callback",
    "javascript:alert(1)",
])
async def test_authorize_page_refuses_foreign_redirect_uri(live: LiveServer,
                                                           redirect_uri: str) -> None:
    host = urlsplit(live.base_url).netloc
    uri = redirect_uri.format(base=live.base_url, host=host)
    async with live.client() as c:
        r = await c.get(AUTHORIZE, params=authorize_params(live, redirect_uri=uri,
                                                            openid=ZHANG_WEI))
    assert r.status_code == 400
    assert "redirect_uri 域名与后台配置不一致" in r.text
    assert "location" not in r.headers


@pytest.mark.parametrize(("change", "message"), [
    ({"response_type": "token"}, "response_type 参数错误"),
    ({"scope": "snsapi_login"}, "scope 的权限"),
    ({"state": "not/allowed"}, "state 参数错误"),
    ({"state": "a" * 129}, "state 参数错误"),
])
async def test_authorize_page_refuses_bad_parameters(live: LiveServer, change: dict[str, str],
                                                     message: str) -> None:
    async with live.client() as c:
        r = await c.get(AUTHORIZE, params=authorize_params(live, openid=ZHANG_WEI, **change))
    assert r.status_code == 400
    assert message in r.text


async def test_authorize_page_lists_followers_with_binding(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await c.get(AUTHORIZE, params=authorize_params(live))
    assert r.status_code == 200
    for follower in FOLLOWERS:
        assert follower.nickname in r.text
    zhang = re.search(rf'data-openid="{ZHANG_WEI}".*?</a>', r.text, re.S)
    li_na = re.search(rf'data-openid="{LI_NA}".*?</a>', r.text, re.S)
    assert zhang is not None and "已绑定" in zhang.group(0)
    assert li_na is not None and "未绑定" in li_na.group(0)


async def test_pick_user_gives_single_use_code(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        page = await c.get(AUTHORIZE, params=authorize_params(live))
        link = re.search(rf'href="([^"]+)" data-openid="{ZHANG_WEI}"', page.text)
        assert link is not None
        r = await c.get(link.group(1).replace("&amp;", "&"))
    assert r.status_code == 302
    target = urlsplit(r.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        f"{live.base_url}/auth/oauth/callback")
    query = parse_qs(target.query)
    assert query["state"] == ["abc123XYZ"]
    assert query["next"] == ["/h5/projects"]
    first = await exchange(live, query["code"][0])
    assert first["openid"] == ZHANG_WEI
    assert "is_snapshotuser" not in first
    again = await exchange(live, query["code"][0])
    assert again["errcode"] == 40163


async def test_authorize_with_openid_redirects_at_once(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get(AUTHORIZE, params=authorize_params(live, openid=LI_NA))
    assert r.status_code == 302
    assert (await exchange(live, code_of(r.headers["location"])))["openid"] == LI_NA


async def test_authorize_with_chat_cookie_is_silent(live: LiveServer) -> None:
    async with live.client(cookies={"sandbox_openid": LI_NA}) as c:
        silent = await c.get(AUTHORIZE, params=authorize_params(live))
        chosen = await c.get(AUTHORIZE, params=authorize_params(live, openid=ZHANG_WEI))
    assert silent.status_code == 302
    assert (await exchange(live, code_of(silent.headers["location"])))["openid"] == LI_NA
    # An explicit openid wins over the cookie.
    assert (await exchange(live, code_of(chosen.headers["location"])))["openid"] == ZHANG_WEI


async def test_authorize_snapshot_user_is_marked(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get(AUTHORIZE, params=authorize_params(live, snapshot="1"))
    assert r.status_code == 302
    answer = await exchange(live, code_of(r.headers["location"]))
    assert answer["is_snapshotuser"] == 1
    assert answer["openid"] == pages.SNAPSHOT_OPENID


async def test_chat_page_shows_followers_and_menu(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await c.get("/sandbox/chat")
        script = await c.get("/sandbox/static/chat.js")
        style = await c.get("/sandbox/static/sandbox.css")
    assert r.status_code == 200
    for follower in FOLLOWERS:
        assert follower.nickname in r.text
    assert "使用帮助" in r.text and 'data-key="HELP"' in r.text
    assert f'data-url="{live.base_url}/h5/projects"' in r.text
    assert "{base}" not in r.text
    assert 'href="/console/"' in r.text
    assert script.status_code == 200 and "/sandbox/api/send" in script.text
    assert style.status_code == 200


async def test_chat_page_opens_as_the_cookie_user(live: LiveServer, demo: None) -> None:
    async with live.client(cookies={"sandbox_openid": ZHANG_WEI}) as c:
        r = await c.get("/sandbox/chat")
    assert '<section id="picker" class="sbx-picker" hidden>' in r.text
    assert f'"current": "{ZHANG_WEI}"' in r.text


async def test_chat_page_without_menu_file_shows_no_menu(live: LiveServer,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         tmp_path: Path) -> None:
    monkeypatch.setattr(pages, "MENU_FILE", tmp_path / "menu.json")
    async with live.client() as c:
        r = await c.get("/sandbox/chat")
    assert r.status_code == 200
    assert "还没有自定义菜单" in r.text
    assert "sbx-menu__button" not in r.text
