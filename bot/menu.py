"""The official account's custom menu: `menu.json`, checked against WeChat's limits, uploaded.

WeChat allows 1–3 top buttons, each either an action or a group of up to 5 sub-buttons; a top
name is at most 16 bytes, a sub name 60 bytes, a key 128 bytes and a URL 1024 bytes (UTF-8).
The product uses `click` (handled by the bot) and `view` (opens an H5 page) buttons. View URLs
in menu.json say `{base}` for the public base URL, so one file serves every deployment.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.wechat_api import WeChatAPI
from core.redis import make_redis
from settings import ROOT, Settings

MENU_PATH = ROOT / "menu.json"
BASE_PLACEHOLDER = "{base}"

MAX_TOP_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
BUTTON_TYPES = ("click", "view")


class MenuError(ValueError):
    """menu.json breaks WeChat's rules; the message lists every problem."""


@dataclass(frozen=True)
class MenuProblem:
    errcode: int  # what WeChat's menu/create answers for it (the sandbox answers the same)
    message: str


def _size(text: str) -> int:
    return len(text.encode())


def _check_action(button: dict[str, Any], where: str, sub: bool) -> list[MenuProblem]:
    """A click or view button: its type and the key or URL that type needs."""
    kind = button.get("type")
    if kind not in BUTTON_TYPES:
        return [MenuProblem(40024 if sub else 40017,
                            f"{where}的类型必须是 click 或 view（现在是 {kind!r}）。")]
    if kind == "click":
        key = button.get("key")
        if not isinstance(key, str) or not key:
            return [MenuProblem(40026 if sub else 40019, f"{where}是 click 类型，缺少 key。")]
        if _size(key) > MAX_KEY_BYTES:
            return [MenuProblem(40026 if sub else 40019,
                                f"{where}的 key 超过 {MAX_KEY_BYTES} 字节（{_size(key)} 字节）。")]
        return []
    url = button.get("url")
    if not isinstance(url, str) or not url:
        return [MenuProblem(40027 if sub else 40020, f"{where}是 view 类型，缺少 url。")]
    if _size(url) > MAX_URL_BYTES:
        return [MenuProblem(40027 if sub else 40020,
                            f"{where}的 url 超过 {MAX_URL_BYTES} 字节（{_size(url)} 字节）。")]
    if not url.startswith(("http://", "https://")):
        return [MenuProblem(40055 if sub else 40054,
                            f"{where}的 url 必须以 http:// 或 https:// 开头。")]
    return []


def _check_name(button: dict[str, Any], where: str, limit: int, errcode: int) -> list[MenuProblem]:
    name = button.get("name")
    if not isinstance(name, str) or not name.strip():
        return [MenuProblem(errcode, f"{where}缺少名称。")]
    if _size(name) > limit:
        return [MenuProblem(errcode, f"{where}的名称「{name}」超过 {limit} 字节"
                                     f"（{_size(name)} 字节）。")]
    return []


def _check_top(button: Any, number: int) -> list[MenuProblem]:
    where = f"第{number}个一级菜单"
    if not isinstance(button, dict):
        return [MenuProblem(40016, f"{where}不是一个按钮对象。")]
    problems = _check_name(button, where, MAX_TOP_NAME_BYTES, 40018)
    subs = button.get("sub_button")
    if subs is None:
        return problems + _check_action(button, where, sub=False)
    if not isinstance(subs, list) or not 1 <= len(subs) <= MAX_SUB_BUTTONS:
        count = len(subs) if isinstance(subs, list) else 0
        return [*problems, MenuProblem(40023, f"{where}须有 1 到 {MAX_SUB_BUTTONS} 个子菜单"
                                              f"（现在 {count} 个）。")]
    for index, sub in enumerate(subs, start=1):
        sub_where = f"{where}的第{index}个子菜单"
        if not isinstance(sub, dict):
            problems.append(MenuProblem(40023, f"{sub_where}不是一个按钮对象。"))
            continue
        problems += _check_name(sub, sub_where, MAX_SUB_NAME_BYTES, 40025)
        problems += _check_action(sub, sub_where, sub=True)
    return problems


def menu_problems(menu: Any) -> list[MenuProblem]:
    """Every way `menu` breaks WeChat's rules, each with the errcode WeChat would answer."""
    buttons = menu.get("button") if isinstance(menu, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_TOP_BUTTONS:
        count = len(buttons) if isinstance(buttons, list) else 0
        return [MenuProblem(40016, f"菜单须有 1 到 {MAX_TOP_BUTTONS} 个一级菜单"
                                   f"（现在 {count} 个）。")]
    problems: list[MenuProblem] = []
    for number, button in enumerate(buttons, start=1):
        problems += _check_top(button, number)
    return problems


def validate_menu(menu: dict[str, Any]) -> list[str]:
    """Every problem of `menu` as a plain Chinese sentence; an empty list means WeChat takes it."""
    return [problem.message for problem in menu_problems(menu)]


def expand_base(menu: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The menu with `{base}` in every view URL replaced by the public base URL."""
    def expand(button: Any) -> Any:
        if not isinstance(button, dict):
            return button
        out = dict(button)
        if isinstance(out.get("url"), str):
            out["url"] = out["url"].replace(BASE_PLACEHOLDER, base_url)
        if isinstance(out.get("sub_button"), list):
            out["sub_button"] = [expand(sub) for sub in out["sub_button"]]
        return out

    buttons = menu.get("button")
    return {**menu, "button": [expand(b) for b in buttons]} if isinstance(buttons, list) else menu


def load_menu(settings: Settings, path: Path = MENU_PATH) -> dict[str, Any]:
    """menu.json with `{base}` expanded; MenuError listing every problem if WeChat would refuse."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MenuError(f"无法读取菜单文件 {path}：{exc}") from exc
    if not isinstance(raw, dict):
        raise MenuError(f"菜单文件 {path} 须是一个 JSON 对象。")
    menu = expand_base(raw, settings.public_base_url)
    problems = validate_menu(menu)
    if problems:
        raise MenuError("菜单不符合微信的限制：\n" + "\n".join(f"- {p}" for p in problems))
    return menu


async def push_menu(settings: Settings, path: Path = MENU_PATH) -> dict[str, Any]:
    """Check menu.json and upload it (`python server.py push-menu`); the menu sent."""
    menu = await asyncio.to_thread(load_menu, settings, path)
    redis = make_redis(settings)
    wechat = WeChatAPI(settings, redis)
    try:
        await wechat.create_menu(menu)
    finally:
        await wechat.aclose()
        await redis.aclose()
    print(f"menu uploaded: {len(menu['button'])} top buttons")
    return menu
