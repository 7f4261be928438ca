"""menu.json agrees with the code: every click is handled, every handled click is in the menu,
every view opens a page of this app, WeChat's limits are kept, and push-menu uploads it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from bot.menu import MENU_PATH, expand_base, push_menu, validate_menu
from conftest import LiveServer
from handlers import DEFAULT_ROUTE, HANDLERS, TEXT_COMMANDS
from sandbox.state import SandboxState


def _buttons(menu: dict[str, Any]) -> list[dict[str, Any]]:
    leaves: list[dict[str, Any]] = []
    for top in menu["button"]:
        leaves.extend(top.get("sub_button") or [top])
    return leaves


def _raw_menu() -> dict[str, Any]:
    return json.loads(MENU_PATH.read_text(encoding="utf-8"))


def test_menu_json_keeps_wechat_limits() -> None:
    menu = expand_base(_raw_menu(), "https://wuye.example.gov.cn")
    assert validate_menu(menu) == []
    assert [top["name"] for top in menu["button"]] == ["我的小区", "物业服务", "互动交流"]


def test_menu_clicks_and_handlers_agree() -> None:
    clicks = {b["key"] for b in _buttons(_raw_menu()) if b["type"] == "click"}
    assert {f"click:{key}" for key in clicks} <= set(HANDLERS)
    routed_text = set(TEXT_COMMANDS.values()) | {"text:unknown", DEFAULT_ROUTE}
    for route in HANDLERS:
        kind, _, name = route.partition(":")
        if kind == "click":
            assert name in clicks, f"handler {route} has no button in menu.json"
        elif kind == "text":
            assert route in routed_text, f"handler {route} has no command word"


async def test_menu_views_open_pages_of_the_app(live: LiveServer) -> None:
    menu = expand_base(_raw_menu(), live.settings.public_base_url)
    views = [b["url"] for b in _buttons(menu) if b["type"] == "view"]
    assert views
    async with live.client(follow_redirects=False) as client:
        for url in views:
            assert url.startswith(live.settings.public_base_url)
            response = await client.get(urlsplit(url).path)
            # Without a session a page sends the user through OAuth; a missing route is 404.
            assert response.status_code in (200, 302, 303), (url, response.status_code)
            if response.status_code != 200:
                assert response.headers["location"].startswith("/auth/start")


async def test_push_menu_uploads_to_sandbox(live: LiveServer) -> None:
    sent = await push_menu(live.settings)
    saved = await SandboxState(live.redis).menu()
    assert saved is not None
    assert saved["button"] == sent["button"]
    notices = next(b for b in _buttons(saved) if b["name"] == "通知消息")
    assert notices["url"] == f"{live.settings.public_base_url}/h5/notices"
