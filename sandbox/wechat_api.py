"""WeChat's own API paths, answered as api.weixin.qq.com does, errors included.

Mounted under /sandbox, so `WECHAT_API_BASE={public}/sandbox` points the product's client here.
Every endpoint first takes an injected fault (`SandboxState.add_fault(<endpoint name>, ...)`):
an errcode answered instead of the real answer, and/or a delay. Endpoint names:

    token, template_send, custom_send, menu_create, oauth_access_token, user_info

Each call is counted (`call_count(redis, name)`) so tests can prove a message was sent once.

Who follows the account: a bound openid follows while its WeChatBinding says `following`; an
unbound openid follows when it is one of the demo followers (demo_data.load.FOLLOWERS). Any
other openid does not follow, and WeChat's 43004 is answered for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import httpx
from sanic import Blueprint, Request, Sanic
from sanic.exceptions import BadRequest
from sanic.response import HTTPResponse, json

from bot.menu import menu_problems
from bot.template_messages import LIMITS, TEMPLATES
from demo_data.load import FOLLOWERS
from models.people import WeChatBinding
from sandbox.state import PREFIX, TOKEN_TTL, SandboxState
from settings import Settings

log = logging.getLogger(__name__)

bp = Blueprint("sandbox_wechat_api")

# The sandbox account's original id (gh_...), the ToUserName of the events it posts.
ACCOUNT_ID = "gh_5a7d9e0c1b2f"
DELIVERY_REPORT_DELAY = 0.2  # seconds; WeChat reports delivery shortly after the send
REPORTS_IN_FLIGHT = 8  # delivery reports being posted to the product at once
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_FIELD_KIND = re.compile(r"^([a-z_]+?)(\d+)$")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")
_BREAKS = re.compile(r"[\r\n\u2028\u2029]")
_DEMO_FOLLOWERS = frozenset(f.openid for f in FOLLOWERS)


def _error(errcode: int, errmsg: str) -> HTTPResponse:
    """WeChat answers its errors with HTTP 200 and a JSON errcode."""
    return json({"errcode": errcode, "errmsg": errmsg})


async def call_count(redis: Any, endpoint: str) -> int:
    return int(await redis.get(f"{PREFIX}:calls:{endpoint}") or 0)


async def _begin(request: Request, endpoint: str) -> HTTPResponse | None:
    """Count the call, wait like WeChat, and answer an injected fault if one is queued."""
    settings: Settings = request.app.ctx.settings
    state = SandboxState(request.app.ctx.redis)
    await state.redis.incr(f"{PREFIX}:calls:{endpoint}")
    if settings.sandbox_latency_ms:
        await asyncio.sleep(settings.sandbox_latency_ms / 1000)
    fault = await state.take_fault(endpoint)
    if fault is None:
        return None
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.errcode:
        return _error(fault.errcode, fault.errmsg or f"sandbox fault {fault.errcode}")
    return None


async def _token_error(request: Request) -> HTTPResponse | None:
    token = request.args.get("access_token")
    if not token:
        return _error(41001, "access_token missing")
    if not await SandboxState(request.app.ctx.redis).token_valid(token):
        return _error(40001, "invalid credential, access_token is invalid or not latest")
    return None


async def _follows(openid: str) -> bool:
    binding = await WeChatBinding.get_or_none(openid=openid)
    if binding is not None:
        return binding.following
    return openid in _DEMO_FOLLOWERS


def _body(request: Request) -> dict[str, Any] | None:
    try:
        body = request.json
    except BadRequest:  # broken JSON: WeChat answers 47001
        return None
    return body if isinstance(body, dict) else None


def _app_credentials_error(request: Request) -> HTTPResponse | None:
    settings: Settings = request.app.ctx.settings
    if request.args.get("appid") != settings.wechat_appid:
        return _error(40013, "invalid appid")
    if request.args.get("secret") != settings.wechat_secret:
        return _error(40125, "invalid appsecret")
    return None


@bp.get("/cgi-bin/token")
async def token(request: Request) -> HTTPResponse:
    if (fault := await _begin(request, "token")) is not None:
        return fault
    if request.args.get("grant_type") != "client_credential":
        return _error(40002, "invalid grant_type")
    if (refused := _app_credentials_error(request)) is not None:
        return refused
    issued = await SandboxState(request.app.ctx.redis).issue_token()
    return json({"access_token": issued, "expires_in": TOKEN_TTL})


def _template_data_error(settings: Settings, template_id: str, data: Any) -> str | None:
    """Why WeChat would refuse these template values (47003), or None when it takes them."""
    keys = {tid: key for key, tid in settings.templates.items() if tid}
    spec = TEMPLATES.get(keys.get(template_id, ""))
    if spec is None:
        return "invalid template_id"
    if not isinstance(data, dict) or set(data) != set(spec.fields):
        return f"argument invalid! data fields must be {sorted(spec.fields)}"
    for name, item in data.items():
        value = item.get("value") if isinstance(item, dict) else None
        match = _FIELD_KIND.match(name)
        kind = match.group(1) if match else ""
        if not isinstance(value, str) or not value or kind not in LIMITS:
            return f"argument invalid! data.{name}.value invalid"
        if len(value) > LIMITS[kind] or _BREAKS.search(value):
            return f"argument invalid! data.{name}.value exceeds limit or has line breaks"
        if kind == "character_string" and _CHINESE.search(value):
            return f"argument invalid! data.{name}.value must not contain Chinese"
    return None


async def _begin_json(request: Request, endpoint: str) -> HTTPResponse | dict[str, Any]:
    """What every posting call checks first, as WeChat does: injected fault, access token,
    JSON body. The refusal, or the body."""
    if (fault := await _begin(request, endpoint)) is not None:
        return fault
    if (refused := await _token_error(request)) is not None:
        return refused
    body = _body(request)
    return _error(47001, "data format error") if body is None else body


async def _begin_message(request: Request, endpoint: str,
                         ) -> HTTPResponse | tuple[dict[str, Any], str]:
    """A message send's checks: those of every call, then the openid. The refusal, or
    (body, openid)."""
    body = await _begin_json(request, endpoint)
    if isinstance(body, HTTPResponse):
        return body
    openid = str(body.get("touser") or "")
    if not _OPENID.match(openid):
        return _error(40003, "invalid openid")
    return body, openid


@bp.post("/cgi-bin/message/template/send")
async def template_send(request: Request) -> HTTPResponse:
    message = await _begin_message(request, "template_send")
    if isinstance(message, HTTPResponse):
        return message
    body, openid = message
    template_id = str(body.get("template_id") or "")
    problem = _template_data_error(request.app.ctx.settings, template_id, body.get("data"))
    if problem == "invalid template_id":
        return _error(40037, problem)
    if problem:
        return _error(47003, problem)
    if not await _follows(openid):
        return _error(43004, "require subscribe")
    state = SandboxState(request.app.ctx.redis)
    client_msg_id = str(body.get("client_msg_id") or "")
    msgid_key = f"{PREFIX}:cmid_msgid:{openid}:{client_msg_id}"
    if await state.seen_client_msg_id(openid, client_msg_id):
        # A repeat within 10 minutes: accepted, not delivered again, same msgid as the first.
        msgid = int(await state.redis.get(msgid_key) or 0)
        return json({"errcode": 0, "errmsg": "ok", "msgid": msgid})
    msgid = await state.next_msgid()
    if client_msg_id:
        await state.redis.set(msgid_key, msgid, ex=600)
    await state.record_message(openid, {
        "type": "template", "msgid": msgid, "template_id": template_id,
        "data": body["data"], "url": str(body.get("url") or ""), "client_msg_id": client_msg_id})
    _report_delivery_later(request, openid, msgid)
    return json({"errcode": 0, "errmsg": "ok", "msgid": msgid})


def _report_delivery_later(request: Request, openid: str, msgid: int) -> None:
    """Post TEMPLATESENDJOBFINISH to the callback shortly after, as WeChat does."""
    app = request.app
    task = asyncio.create_task(_report_delivery(app.ctx.settings, app.ctx.sandbox_http,
                                                app.ctx.sandbox_reporting, openid, msgid))
    background: set[asyncio.Task[None]] = app.ctx.background
    background.add(task)
    task.add_done_callback(background.discard)


async def _report_delivery(settings: Settings, http: httpx.AsyncClient,
                           reporting: asyncio.Semaphore, openid: str, msgid: int) -> None:
    from sandbox.wechat_client import post_to_callback

    await asyncio.sleep(DELIVERY_REPORT_DELAY)
    xml = (f"<xml><ToUserName><![CDATA[{ACCOUNT_ID}]]></ToUserName>"
           f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
           f"<CreateTime>{int(time.time())}</CreateTime>"
           "<MsgType><![CDATA[event]]></MsgType>"
           "<Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>"
           f"<MsgID>{msgid}</MsgID><Status><![CDATA[success]]></Status></xml>")
    try:
        async with reporting:
            await post_to_callback(http, settings, xml)
    except (httpx.HTTPError, ValueError) as exc:  # the product's callback is down or broken
        log.warning("delivery report of %s not accepted: %s", msgid, exc)


@bp.before_server_start
async def open_callback_client(app: Sanic) -> None:
    # One client for every delivery report: a new client loads the CA bundle, a blocking call.
    # A few reports posted at a time, each connection kept open: with httpx's defaults a burst
    # of reports queued inside httpcore's pool, which walks its connections and its queue on
    # every request, and closed and reopened dozens of connections to the product; the fake
    # WeChat spent more CPU than the product in `make bench` (fan-out).
    limits = httpx.Limits(max_connections=REPORTS_IN_FLIGHT,
                          max_keepalive_connections=REPORTS_IN_FLIGHT)
    app.ctx.sandbox_http = httpx.AsyncClient(timeout=5.0, limits=limits)
    app.ctx.sandbox_reporting = asyncio.Semaphore(REPORTS_IN_FLIGHT)


@bp.after_server_stop
async def close_callback_client(app: Sanic) -> None:
    await app.ctx.sandbox_http.aclose()


@bp.post("/cgi-bin/message/custom/send")
async def custom_send(request: Request) -> HTTPResponse:
    message = await _begin_message(request, "custom_send")
    if isinstance(message, HTTPResponse):
        return message
    body, openid = message
    text = body.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if body.get("msgtype") != "text" or not isinstance(content, str) or not content:
        return _error(40008, "invalid message type")
    if not await _follows(openid):
        return _error(43004, "require subscribe")
    await SandboxState(request.app.ctx.redis).record_message(
        openid, {"type": "custom", "msgtype": "text", "content": content})
    return json({"errcode": 0, "errmsg": "ok"})


@bp.post("/cgi-bin/menu/create")
async def menu_create(request: Request) -> HTTPResponse:
    body = await _begin_json(request, "menu_create")
    if isinstance(body, HTTPResponse):
        return body
    problems = menu_problems(body)
    if problems:
        return _error(problems[0].errcode, problems[0].message)
    await SandboxState(request.app.ctx.redis).save_menu(body)
    return json({"errcode": 0, "errmsg": "ok"})


@bp.get("/sns/oauth2/access_token")
async def oauth_access_token(request: Request) -> HTTPResponse:
    if (fault := await _begin(request, "oauth_access_token")) is not None:
        return fault
    if (refused := _app_credentials_error(request)) is not None:
        return refused
    if request.args.get("grant_type") != "authorization_code":
        return _error(40002, "invalid grant_type")
    code = request.args.get("code") or ""
    if not code:
        return _error(41008, "missing code")
    state = SandboxState(request.app.ctx.redis)
    used_key = f"{PREFIX}:code_used:{code}"
    owner = await state.redeem_code(code)
    if owner is None:
        if await state.redis.exists(used_key):
            return _error(40163, "code been used")
        return _error(40029, "invalid code")
    await state.redis.set(used_key, "1", ex=600)
    answer: dict[str, Any] = {
        "access_token": "SBX_OAUTH_" + code[:16], "expires_in": TOKEN_TTL,
        "refresh_token": "SBX_REFRESH_" + code[:16], "openid": owner["openid"],
        "scope": "snsapi_base"}
    if owner.get("snapshot"):
        answer["is_snapshotuser"] = 1
    return json(answer)


@bp.get("/cgi-bin/user/info")
async def user_info(request: Request) -> HTTPResponse:
    if (fault := await _begin(request, "user_info")) is not None:
        return fault
    if (refused := await _token_error(request)) is not None:
        return refused
    openid = request.args.get("openid") or ""
    if not _OPENID.match(openid):
        return _error(40003, "invalid openid")
    if not await _follows(openid):
        return json({"subscribe": 0, "openid": openid})
    # Since 2021 WeChat no longer returns nickname or avatar here.
    return json({"subscribe": 1, "openid": openid, "language": "zh_CN",
                 "subscribe_time": 1_700_000_000, "remark": "", "groupid": 0,
                 "tagid_list": [], "subscribe_scene": "ADD_SCENE_QR_CODE"})
