"""The sandbox's pages: WeChat's OAuth authorize page and the chat page (F19).

`/sandbox/connect/oauth2/authorize` plays open.weixin.qq.com: it checks the request as WeChat
does, then lets you pick a test user (or, given `&openid=` or the chat page's `sandbox_openid`
cookie, redirects at once, like snsapi_base) with a single-use 5-minute code.
`/sandbox/chat` plays the WeChat app: talk to the bot as a follower, press the custom menu, and
see the replies, template and customer-service messages that user received.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from core.pages import render
from sandbox import identities
from sandbox.api import OPENID_RE
from sandbox.state import SandboxState
from settings import ROOT, Settings

bp = Blueprint("sandbox_pages")
bp.static("/static", str(Path(__file__).resolve().parent / "static"), name="sandbox_static")

COOKIE = "sandbox_openid"
MENU_FILE = ROOT / "menu.json"
# WeChat's rule for `state`: only letters and digits, at most 128 bytes.
STATE_RE = re.compile(r"[A-Za-z0-9]{0,128}")
# The virtual openid WeChat gives a visitor of a Moments "snapshot page" (is_snapshotuser=1).
SNAPSHOT_OPENID = "oSnapshotVirtualUser000000001"

# Titles and field labels of the product's templates, for the chat page's cards.
TEMPLATE_CARDS: dict[str, tuple[str, dict[str, str]]] = {
    "APPLICATION_STATUS": ("申请状态变更通知", {
        "thing1": "申请事项", "character_string2": "业务编号", "phrase3": "办理状态",
        "time4": "办理时间", "thing5": "审核意见"}),
    "NOTICE_NEW": ("新通知提醒", {
        "thing1": "通知标题", "thing2": "发布单位", "phrase3": "回复要求", "time4": "截止时间"}),
    "NOTICE_REMINDER": ("通知回复提醒", {
        "thing1": "通知标题", "time2": "截止时间", "thing3": "温馨提示"}),
    "SAFETY_TASK_NEW": ("安全检查任务", {
        "thing1": "任务名称", "thing2": "检查项目", "time3": "截止时间"}),
    "SAFETY_TASK_REMINDER": ("安全检查任务提醒", {
        "thing1": "任务名称", "thing2": "检查项目", "time3": "截止时间"}),
}


def _authorize_problem(settings: Settings, request: Request) -> tuple[str, str] | None:
    """(errcode, message) WeChat would show for a bad authorize request, or None."""
    args = request.args
    appid = args.get("appid", "")
    redirect_uri = args.get("redirect_uri", "")
    scope = args.get("scope", "")
    if not appid:
        return "10012", "appid 不能为空"
    if appid != settings.wechat_appid:
        return "40013", "appid 参数错误：不是本公众号的 AppID"
    if not redirect_uri:
        return "10011", "redirect_uri 不能为空"
    if not _on_our_domain(settings.public_base_url, redirect_uri):
        return "10003", "redirect_uri 域名与后台配置不一致"
    if args.get("response_type", "") != "code":
        return "10003", "response_type 参数错误：只能是 code"
    if not scope:
        return "10010", "scope 不能为空"
    if scope not in ("snsapi_base", "snsapi_userinfo"):
        return "10005", "此公众号并没有这些 scope 的权限"
    if not STATE_RE.fullmatch(args.get("state", "")):
        return "10003", "state 参数错误：只能是字母和数字，最多 128 字节"
    return None


def _on_our_domain(public_base_url: str, uri: str) -> bool:
    base, target = urlsplit(public_base_url), urlsplit(uri)
    base_path = base.path.rstrip("/")
    return (target.scheme == base.scheme and target.netloc.lower() == base.netloc.lower()
            and (target.path == base_path or target.path.startswith(base_path + "/")))


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _authorize_link(request: Request, **extra: str) -> str:
    args = request.args
    params = {name: args.get(name, "") for name in
              ("appid", "redirect_uri", "response_type", "scope", "state")}
    return request.path + "?" + urlencode({**params, **extra})


@bp.get("/connect/oauth2/authorize")
async def authorize(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    problem = _authorize_problem(settings, request)
    if problem is not None:
        errcode, message = problem
        return render(request, "sandbox/oauth_error.html", status=400, errcode=errcode,
                      message=message)
    snapshot = request.args.get("snapshot") == "1"
    cookie = request.cookies.get(COOKIE) or ""
    # A snapshot page's visitor is anonymous: WeChat gives a virtual openid, not the chat user's.
    openid = request.args.get("openid") or (SNAPSHOT_OPENID if snapshot else "") or (
        cookie if OPENID_RE.fullmatch(cookie) else "")
    if openid and not OPENID_RE.fullmatch(openid):
        return render(request, "sandbox/oauth_error.html", status=400, errcode="40003",
                      message="openid 不正确")
    if openid:
        code = await SandboxState(request.app.ctx.redis).issue_code(openid, snapshot=snapshot)
        target = _with_query(request.args.get("redirect_uri", ""), code=code,
                             state=request.args.get("state", ""))
        return redirect(target, status=302)
    users = await identities.followers()
    return render(request, "sandbox/authorize.html",
                  choices=[(u, _authorize_link(request, openid=u.openid)) for u in users],
                  snapshot_link=_authorize_link(request, snapshot="1"),
                  target=urlsplit(request.args.get("redirect_uri", "")).path)


def _read_menu(public_base_url: str) -> list[dict[str, Any]]:
    """The custom menu of menu.json, `{base}` filled in; none if the file is missing."""
    if not MENU_FILE.exists():
        return []
    menu = json.loads(MENU_FILE.read_text(encoding="utf-8").replace("{base}", public_base_url))
    buttons = menu.get("button") or (menu.get("menu") or {}).get("button") or []
    return [b for b in buttons if isinstance(b, dict)]


def _template_cards(settings: Settings) -> dict[str, dict[str, Any]]:
    """Template ID -> card title and field labels, as the chat page's script reads them."""
    return {settings.template_id(key): {"title": title, "fields": fields}
            for key, (title, fields) in TEMPLATE_CARDS.items() if settings.template_id(key)}


@bp.get("/chat")
async def chat(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    users = await identities.followers()
    wanted = request.args.get("openid") or request.cookies.get(COOKIE, "")
    current = wanted if any(u.openid == wanted for u in users) else ""
    menu = await asyncio.to_thread(_read_menu, settings.public_base_url)
    page_data = {"current": current, "cookie": COOKIE, "templates": _template_cards(settings),
                 "users": [u.as_json() for u in users]}
    return render(request, "sandbox/chat.html", users=users, current=current, menu=menu,
                  page_data=page_data)
