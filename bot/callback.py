"""The WeChat callback, `GET/POST /wechat`: the thin HTTP adapter around the bot.

GET is WeChat's handshake: `echostr` comes back as text/plain only with a valid signature.
POST: verify the signature and freshness, read at most 64 KiB, decrypt and parse
(`bot.protocol`), refuse a replayed request and de-duplicate retries (`bot.dedupe`), dispatch
(`bot.dispatch`), and answer within WeChat's 5 seconds. A handler that has not finished by
`settings.callback_deadline` is left running: WeChat gets `success` now, and the user the reply
as a customer-service message when it is ready. Nothing a request carries can make this
answer 500: refusals are 400/403/413, anything unexpected is logged and answered `success`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, HTTPResponse, Request, Sanic
from sanic.response import text
from wechatpy.replies import TextReply

from actions.wechat_users import do_send_late_reply
from bot.bot_request import BotRequest
from bot.dedupe import Deduplicator, message_key
from bot.dispatch import dispatch, request_from_fields
from bot.protocol import MAX_BODY_BYTES, CallbackProtocol, Inbound, Refused, SignedQuery
from core.metrics import observe_callback
from settings import Settings

log = logging.getLogger("wuye.callback")

bp = Blueprint("wechat_callback")

SORRY = "系统繁忙，请稍后再试。"
_SIGNED_PARAMS = ("signature", "timestamp", "nonce", "msg_signature", "encrypt_type")


@dataclass(frozen=True)
class CallbackState:
    settings: Settings
    redis: Any
    protocol: CallbackProtocol
    dedupe: Deduplicator
    background: set[asyncio.Task[None]]


def _state(app: Sanic) -> CallbackState:
    """Built once per app, on first use (the app's Redis exists only once it has started)."""
    state: CallbackState | None = getattr(app.ctx, "wechat_callback", None)
    if state is None:
        settings: Settings = app.ctx.settings
        tolerance = settings.wechat_timestamp_tolerance
        state = CallbackState(settings, app.ctx.redis, CallbackProtocol(settings),
                              Deduplicator(app.ctx.redis, replay_ttl=2 * tolerance),
                              app.ctx.background)
        app.ctx.wechat_callback = state
    return state


def _signed_query(request: Request) -> SignedQuery:
    for name in _SIGNED_PARAMS:
        if len(request.args.getlist(name, [])) > 1:
            raise Refused(400, f"duplicated parameter {name}")
    return SignedQuery.from_args({name: request.args.get(name, "") for name in _SIGNED_PARAMS})


@bp.get("/wechat")
async def handshake(request: Request) -> HTTPResponse:
    started = time.perf_counter()
    try:
        query = _signed_query(request)
        _state(request.app).protocol.verify(query)
    except Refused as exc:
        observe_callback(time.perf_counter() - started, "rejected")
        return text(exc.reason, status=exc.status)
    observe_callback(time.perf_counter() - started, "handshake")
    return text(request.args.get("echostr", ""), content_type="text/plain; charset=utf-8")


@bp.post("/wechat", stream=True)
async def receive(request: Request) -> HTTPResponse:
    started = time.perf_counter()
    try:
        outcome, response = await _receive(request, _state(request.app))
    except Refused as exc:
        log.info("callback refused (%s): %s", exc.status, exc.reason)
        outcome, response = "rejected", text(exc.reason, status=exc.status)
    except Exception:  # the HTTP boundary: WeChat must get an answer, never a 500
        log.exception("callback failed")
        outcome, response = "error", text("success")
    observe_callback(time.perf_counter() - started, outcome)
    return response


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    chunks: list[bytes] = []
    size = 0
    while (chunk := await request.stream.read()) is not None:  # type: ignore[union-attr]
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Refused(413, "body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _receive(request: Request, state: CallbackState) -> tuple[str, HTTPResponse]:
    query = _signed_query(request)
    state.protocol.verify(query)
    inbound = state.protocol.open(query, await _read_body(request))
    claim = await state.dedupe.admit(query.replay_key, message_key(inbound.fields))
    if claim is None:
        log.info("replayed request %s answered success", query.replay_key)
        return "replay", text("success")
    if not claim.first:
        # A retry: the first delivery's reply if it has one, else `success` (it is still
        # running, or went past the deadline and its reply follows as a message).
        return "duplicate", _answer(state, inbound, claim.reply if claim.finished else None)

    bot_request = request_from_fields(inbound.fields, state.settings, state.redis)
    handling = asyncio.create_task(_handle(bot_request))
    done, _ = await asyncio.wait({handling}, timeout=state.settings.callback_deadline)
    if handling in done:
        reply = handling.result()
        await state.dedupe.remember(claim, reply)
        return ("reply" if reply else "success"), _answer(state, inbound, reply)
    await state.dedupe.remember(claim, None)
    late = asyncio.create_task(_reply_late(handling, bot_request))
    state.background.add(late)
    late.add_done_callback(state.background.discard)
    return "deadline", text("success")


async def _handle(bot_request: BotRequest) -> str | None:
    try:
        return await dispatch(bot_request)
    except Exception:  # the boundary of one message: log who and what, tell the user
        log.exception("handler %s failed (openid %s, MsgId %s)", bot_request.route,
                      bot_request.openid, bot_request.message.id)
        return SORRY


async def _reply_late(handling: asyncio.Task[str | None], bot_request: BotRequest) -> None:
    reply = await handling
    if not reply:
        return
    try:
        await do_send_late_reply(bot_request.openid, reply, route=bot_request.route)
    except Exception:  # a background task's boundary: nobody else would see the error
        log.exception("late reply to %s not queued (route %s)", bot_request.openid,
                      bot_request.route)


def _answer(state: CallbackState, inbound: Inbound, reply: str | None) -> HTTPResponse:
    if reply is None:
        return text("success")
    xml = TextReply(source=inbound.fields["ToUserName"], target=inbound.fields["FromUserName"],
                    content=reply).render()
    return text(state.protocol.seal(xml, inbound), content_type="application/xml; charset=utf-8")
