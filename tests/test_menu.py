"""menu.json against WeChat's menu limits, and push-menu uploading it to the sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.menu import MenuError, load_menu, push_menu, validate_menu
from bot.wechat_api import WeChatAPI, WeChatAPIError
from conftest import LiveServer
from sandbox.state import SandboxState
from sandbox.wechat_api import call_count
from settings import Settings


def view(name: str = "通知消息", url: str = "https://wuye.example.cn/h5/notices") -> dict[str, Any]:
    return {"type": "view", "name": name, "url": url}


def click(name: str = "使用帮助", key: str = "HELP") -> dict[str, Any]:
    return {"type": "click", "name": name, "key": key}


def menu_of(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"button": list(buttons)}


def group(name: str, *subs: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "sub_button": list(subs)}


def test_validate_menu_repo_menu_json_accepted(base_settings: Settings) -> None:
    menu = load_menu(base_settings)
    assert [b["name"] for b in menu["button"]] == ["我的小区", "物业服务", "互动交流"]
    urls = [s["url"] for b in menu["button"] for s in b["sub_button"] if s["type"] == "view"]
    assert urls and all(u.startswith(base_settings.public_base_url + "/h5/") for u in urls)
    keys = {s["key"] for b in menu["button"] for s in b["sub_button"] if s["type"] == "click"}
    assert keys == {"TODO", "HELP", "BIND", "NOTICES"}


@pytest.mark.parametrize(("menu", "complaint"), [
    (menu_of(), "1 到 3 个一级菜单"),
    (menu_of(click(), click(), click(), click()), "1 到 3 个一级菜单"),
    (menu_of(group("物业服务", *[click(key=f"K{i}") for i in range(6)])), "1 到 5 个子菜单"),
    (menu_of(group("物业服务")), "1 到 5 个子菜单"),
    (menu_of(click(name="物业服务中心导航")), "超过 16 字节"),  # 8 characters, 24 bytes
    (menu_of(group("服务", click(name="通" * 21))), "超过 60 字节"),
    (menu_of(click(key="K" * 129)), "key 超过 128 字节"),
    (menu_of(view(url="https://wuye.example.cn/" + "a" * 1002)), "url 超过 1024 字节"),
    (menu_of(view(url="wuye.example.cn/h5")), "http:// 或 https://"),
    (menu_of({"type": "miniprogram", "name": "小程序"}), "click 或 view"),
    (menu_of({"type": "click", "name": "帮助"}), "缺少 key"),
    (menu_of(group("服务", {"type": "view", "name": "通知"})), "缺少 url"),
    (menu_of({"type": "click", "key": "HELP"}), "缺少名称"),
])
def test_validate_menu_limit_refused(menu: dict[str, Any], complaint: str) -> None:
    problems = validate_menu(menu)
    assert any(complaint in p for p in problems), problems


def test_validate_menu_limits_at_the_edge_accepted() -> None:
    menu = menu_of(click(name="物业服务中", key="K" * 128),  # 5 characters: 15 bytes
                   group("我的小区", *[view(name="通" * 20) for _ in range(5)]),  # 60 bytes
                   view(name="公示", url="https://wuye.example.cn/" + "a" * 1000))
    assert validate_menu(menu) == []


def test_validate_menu_every_problem_listed() -> None:
    menu = menu_of(click(name="物业服务中心导航"),
                   group("服务", click(key="K" * 200), view(url="")))
    problems = validate_menu(menu)
    assert len(problems) == 3
    assert problems[0].startswith("第1个一级菜单")
    assert problems[1].startswith("第2个一级菜单的第1个子菜单")
    assert problems[2].startswith("第2个一级菜单的第2个子菜单")


async def test_push_menu_uploaded_to_sandbox(live: LiveServer) -> None:
    sent = await push_menu(live.settings)
    saved = await SandboxState(live.redis).menu()
    assert saved == sent
    assert saved is not None
    assert saved["button"][1]["sub_button"][0]["url"] == f"{live.base_url}/h5/notices"


async def test_push_menu_bad_menu_refused_before_upload(live: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(menu_of(click(name="物业服务中心导航"), click(key="")),
                               ensure_ascii=False), encoding="utf-8")
    with pytest.raises(MenuError) as refused:
        await push_menu(live.settings, path)
    assert "超过 16 字节" in str(refused.value)
    assert "缺少 key" in str(refused.value)
    assert await call_count(live.redis, "menu_create") == 0
    assert await SandboxState(live.redis).menu() is None


async def test_create_menu_sandbox_refuses_like_wechat(live: LiveServer) -> None:
    api = WeChatAPI(live.settings, live.redis)
    try:
        with pytest.raises(WeChatAPIError) as refused:
            await api.create_menu(menu_of(click(name="物业服务中心导航")))
    finally:
        await api.aclose()
    assert refused.value.errcode == 40018
    assert await SandboxState(live.redis).menu() is None
