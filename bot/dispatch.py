"""The dispatcher: a WeChat message or event → an internal route name → its handler.

    route_name(message)        text → the command's route ("text:help") or "text:unknown";
                               events → "event:<event>" ("event:subscribe", ...), menu clicks →
                               "click:<EventKey>", menu views → "view:<url>"; other messages →
                               "msg:<type>" ("msg:image")
    handlers.TEXT_COMMANDS     command word → route name
    handlers.HANDLERS          route name → handler
    handlers.IGNORED           route names answered with `success` and nothing else
                               ("<kind>:*" ignores every name of that kind)

A name with no handler that is not ignored is logged and answered with the help text. This
module knows nothing of HTTP (no Sanic): feed it XML and it answers.
"""

from __future__ import annotations

import logging
from typing import Any

from wechatpy.events import EVENT_TYPES
from wechatpy.messages import MESSAGE_TYPES, BaseMessage, UnknownMessage

from actions.errors import ActionError
from bot.bot_request import BotRequest
from bot.protocol import parse_fields
from handlers import DEFAULT_ROUTE, HANDLERS, IGNORED, TEXT_COMMANDS
from settings import Settings

log = logging.getLogger("wuye.bot")


def route_name(message: BaseMessage) -> str:
    raw: dict[str, Any] = message._data  # wechatpy keeps the parsed fields here, nowhere public
    msg_type = str(raw.get("MsgType", "")).lower()
    if msg_type == "text":
        words = str(raw.get("Content") or "").split(maxsplit=1)
        return TEXT_COMMANDS.get(words[0].lower(), "text:unknown") if words else "text:unknown"
    if msg_type != "event":
        return f"msg:{msg_type}"
    event = str(raw.get("Event", "")).lower()
    key = str(raw.get("EventKey") or "")
    if event == "click":
        return f"click:{key}"
    if event == "view":
        return f"view:{key}"
    return f"event:{event}"


def is_ignored(route: str) -> bool:
    kind = route.split(":", 1)[0]
    return route in IGNORED or f"{kind}:*" in IGNORED


def message_from_fields(fields: dict[str, Any]) -> BaseMessage:
    """wechatpy's message or event for fields already parsed (`parse_message` would parse the
    XML a second time); the same class choice, following by QR code included."""
    msg_type = str(fields.get("MsgType", "")).lower()
    if msg_type != "event":
        return MESSAGE_TYPES.get(msg_type, UnknownMessage)(fields)
    event = str(fields.get("Event", "")).lower()
    key = str(fields.get("EventKey") or "")
    if event == "subscribe" and key.startswith("qrscene_"):
        event = "subscribe_scan"
        fields = {**fields, "Event": event, "EventKey": key.removeprefix("qrscene_")}
    return EVENT_TYPES.get(event, UnknownMessage)(fields)


def request_from_fields(fields: dict[str, Any], settings: Settings, redis: Any) -> BotRequest:
    """A handler's request from the fields of a verified callback."""
    message = message_from_fields(fields)
    request = BotRequest(message=message, openid=str(message.source),
                         route=route_name(message), settings=settings, redis=redis)
    if message.type == "text":
        # split() also breaks on the full-width space Chinese keyboards type.
        words = str(message.content or "").split(maxsplit=1)
        request.text_rest = words[1].strip() if len(words) > 1 else ""
        request.text_args = request.text_rest.split()
    return request


def make_request(xml: str, settings: Settings, redis: Any) -> BotRequest:
    """A handler's request from plaintext WeChat XML (tests and tools feed it directly)."""
    return request_from_fields(parse_fields(xml), settings, redis)


async def dispatch(request: BotRequest) -> str | None:
    """The reply text of the route's handler (None: answer `success`)."""
    handler = HANDLERS.get(request.route)
    if handler is None:
        if is_ignored(request.route):
            return None
        log.info("no handler for %s (openid %s)", request.route, request.openid)
        handler = HANDLERS[DEFAULT_ROUTE]
    try:
        return await handler(request)
    except ActionError as exc:
        # A refused change is an answer for the user, in their words.
        return exc.message
