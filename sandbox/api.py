"""The sandbox's JSON API, for tests, demos and the chat page (F19).

    GET    /sandbox/api/users             test identities and officer logins
    GET    /sandbox/api/sms?mobile=       the last SMS code sent to a mobile
    GET    /sandbox/api/messages?openid=  template, customer-service and reply messages received
                                          (`&conversation=1` adds what the user sent)
    POST   /sandbox/api/send              a user's text/click/view/subscribe/unsubscribe, signed
                                          and encrypted as WeChat would, posted to /wechat
    POST   /sandbox/api/faults            the next N calls of a WeChat endpoint fail or are slow
    DELETE /sandbox/api/faults            no more injected faults
    POST   /sandbox/api/expire-token      every access token issued so far expires

Errors are `{"error": code, "message": 中文}` with a 4xx (5xx when the callback itself failed).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from actions import clock
from core.ids import is_valid_mobile
from sandbox import identities
from sandbox.state import SandboxState
from sandbox.user_messages import USER_MESSAGE_TYPES, UserMessage, build_xml, read_reply
from sandbox.wechat_client import post_to_callback

bp = Blueprint("sandbox_api", url_prefix="/api")

OPENID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Fault endpoints by the names sandbox/wechat_api.py takes faults under; WeChat's paths too.
FAULT_ENDPOINTS = {
    "/cgi-bin/token": "token",
    "/cgi-bin/message/template/send": "template_send",
    "/cgi-bin/message/custom/send": "custom_send",
    "/cgi-bin/menu/create": "menu_create",
    "/sns/oauth2/access_token": "oauth_access_token",
    "/cgi-bin/user/info": "user_info",
}
CONTENT_MAX = 2000  # characters a user may type in one message
EVENT_KEY_MAX = 1024  # a VIEW key is the URL, which WeChat caps at 1024 bytes
# WeChat gives up on the callback after 5 seconds and shows the user this notice.
CALLBACK_WAIT = 5.0
NO_SERVICE = "该公众号暂时无法提供服务，请稍后再试"
# Inbox items only the chat page shows: they are not messages the account sent.
CHAT_ONLY = {"sent", "notice"}


class SandboxApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@bp.exception(SandboxApiError)
async def _answer_error(request: Request, error: SandboxApiError) -> HTTPResponse:
    return json_response({"error": error.code, "message": error.message}, status=error.status)


def _state(request: Request) -> SandboxState:
    return SandboxState(request.app.ctx.redis)


def _openid(value: Any) -> str:
    openid = value if isinstance(value, str) else ""
    if not OPENID_RE.fullmatch(openid):
        raise SandboxApiError("bad_openid",
                              "openid 不正确：应为 1 到 64 位字母、数字、下划线或连字符。")
    return openid


def _body(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise SandboxApiError("bad_json", "请求体不是合法的 JSON。") from None
    if not isinstance(data, dict):
        raise SandboxApiError("bad_json", "请求体应是一个 JSON 对象。")
    return data


def _int(data: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SandboxApiError(f"bad_{name}", f"{name} 应是 {low} 到 {high} 之间的整数。")
    return value


@bp.get("/users")
async def users(request: Request) -> HTTPResponse:
    base = request.app.ctx.settings.public_base_url
    return json_response({
        "users": [u.as_json() for u in await identities.followers()],
        "officers": identities.officer_logins(),
        "chat_url": f"{base}/sandbox/chat",
        "console_url": f"{base}/console/",
    })


@bp.get("/sms")
async def sms(request: Request) -> HTTPResponse:
    mobile = request.args.get("mobile", "")
    if not is_valid_mobile(mobile):
        raise SandboxApiError("bad_mobile", "手机号不正确：应为 11 位中国大陆手机号。")
    sent = await _state(request).last_sms(mobile.strip())
    if sent is None:
        raise SandboxApiError("no_sms", "还没有发往这个手机号的短信。", status=404)
    return json_response(sent)


@bp.get("/messages")
async def messages(request: Request) -> HTTPResponse:
    openid = _openid(request.args.get("openid", ""))
    items = await _state(request).messages(openid)
    if request.args.get("conversation") != "1":
        items = [m for m in items if m.get("type") not in CHAT_ONLY]
    return json_response({"openid": openid, "messages": items})


def _user_message(data: dict[str, Any], state_msgid: int) -> UserMessage:
    kind = data.get("type")
    if kind not in USER_MESSAGE_TYPES:
        raise SandboxApiError("bad_type", "type 应是 text、click、view、subscribe 或 unsubscribe。")
    openid = _openid(data.get("openid"))
    content = data.get("content", "")
    event_key = data.get("event_key", "")
    if not isinstance(content, str) or not isinstance(event_key, str):
        raise SandboxApiError("bad_content", "content 和 event_key 应是字符串。")
    if kind == "text" and not content.strip():
        raise SandboxApiError("empty_content", "文字消息不能为空。")
    if len(content) > CONTENT_MAX:
        raise SandboxApiError("content_too_long", f"文字消息最多 {CONTENT_MAX} 个字。")
    if kind in ("click", "view") and not event_key:
        raise SandboxApiError("empty_event_key",
                              "菜单事件需要 event_key（click 为菜单 key，view 为网址）。")
    if len(event_key.encode()) > EVENT_KEY_MAX:
        raise SandboxApiError("event_key_too_long", f"event_key 最多 {EVENT_KEY_MAX} 字节。")
    # A retry repeats the first delivery's MsgId (texts) or CreateTime (events).
    now = int(clock.now().timestamp())
    return UserMessage(
        openid=openid, type=kind, create_time=_int(data, "create_time", now, 1, 2**31 - 1),
        content=content if kind == "text" else "",
        event_key=event_key if kind in ("click", "view") else "",
        msg_id=_int(data, "msg_id", state_msgid, 1, 2**63 - 1) if kind == "text" else 0)


def _said(message: UserMessage) -> dict[str, Any]:
    if message.type == "text":
        return {"type": "sent", "msgtype": "text", "content": message.content}
    return {"type": "sent", "msgtype": "event", "event": message.type,
            "event_key": message.event_key}


async def _deliver(request: Request, xml: str) -> tuple[str, dict[str, Any]]:
    """Post to the callback as WeChat does: the raw reply and what the chat shows of it.
    Raises SandboxApiError where WeChat would give up and show the user NO_SERVICE."""
    settings = request.app.ctx.settings
    try:
        async with httpx.AsyncClient(base_url=settings.public_base_url,
                                     timeout=CALLBACK_WAIT) as http:
            raw = await post_to_callback(http, settings, xml)
        return raw, read_reply(raw)
    except httpx.TimeoutException:
        raise SandboxApiError("callback_timeout", f"公众号 {CALLBACK_WAIT:.0f} 秒内没有回复，"
                              f"用户看到“{NO_SERVICE}”。", status=504) from None
    except httpx.HTTPStatusError as exc:
        raise SandboxApiError("callback_refused", f"回调拒绝了这条消息（HTTP "
                              f"{exc.response.status_code}）。", status=502) from None
    except httpx.TransportError:
        raise SandboxApiError("callback_unreachable", "连不上公众号的回调地址 /wechat。",
                              status=502) from None
    except ValueError:
        raise SandboxApiError("callback_bad_reply", "回调的回复无法验证、解密或解析。",
                              status=502) from None


@bp.post("/send")
async def send(request: Request) -> HTTPResponse:
    state = _state(request)
    data = _body(request)
    fresh_msgid = await state.next_msgid() if data.get("type") == "text" else 0
    message = _user_message(data, fresh_msgid)
    # A retry (same MsgId, or same CreateTime and event) adds nothing to the conversation.
    first = await state.first_delivery(message.openid, message.delivery_key)
    if first:
        await state.record_chat(message.openid, _said(message))
    xml = build_xml(message)
    try:
        raw, reply = await _deliver(request, xml)
    except SandboxApiError:
        if first:
            await state.record_chat(message.openid, {"type": "notice", "content": NO_SERVICE})
        raise
    if first and reply["msgtype"] != "none":
        await state.record_chat(message.openid, {"type": "reply", **reply})
    return json_response({"reply": reply["content"], "msgtype": reply["msgtype"],
                          "articles": reply.get("articles", []), "raw": raw,
                          "msg_id": message.msg_id or None, "create_time": message.create_time,
                          "sent_xml": xml})


@bp.post("/faults")
async def add_fault(request: Request) -> HTTPResponse:
    data = _body(request)
    given = data.get("endpoint")
    endpoint = FAULT_ENDPOINTS.get(given, given) if isinstance(given, str) else ""
    if endpoint not in FAULT_ENDPOINTS.values():
        raise SandboxApiError("bad_endpoint", "endpoint 应是 " + "、".join(FAULT_ENDPOINTS.values())
                              + " 之一（或对应的微信接口路径，例如 /cgi-bin/token）。")
    errcode = _int(data, "errcode", 0, -1, 99999999)
    count = _int(data, "count", 1, 1, 1000)
    delay = data.get("delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 60:
        raise SandboxApiError("bad_delay", "delay 应是 0 到 60 之间的秒数。")
    errmsg = data.get("errmsg", "")
    if not isinstance(errmsg, str):
        raise SandboxApiError("bad_errmsg", "errmsg 应是字符串。")
    await _state(request).add_fault(endpoint, errcode, count=count, delay=float(delay),
                                    errmsg=errmsg)
    return json_response({"endpoint": endpoint, "errcode": errcode, "count": count,
                          "delay": float(delay)}, status=201)


@bp.delete("/faults")
async def clear_faults(request: Request) -> HTTPResponse:
    await _state(request).clear_faults()
    return json_response({"cleared": True})


@bp.post("/expire-token")
async def expire_token(request: Request) -> HTTPResponse:
    await _state(request).expire_all_tokens()
    return json_response({"expired": True})
