"""The OAuth entry (snsapi_base): /auth/start sends the browser to WeChat's authorize page,
/auth/callback checks the state, exchanges the code for the openid and opens a session.

The state is a one-time nonce kept in Redis and bound to a short-lived cookie of the browser
that started the flow, so a state replayed, forged or carried to another browser is refused.
The openid comes only from the code exchange and is then kept server-side in the session.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from urllib.parse import quote, urlencode

from sanic import Request
from sanic.response import HTTPResponse, redirect

from auth_binding.access import h5_sessions, local_path, session_owner
from bot.wechat_api import OAuthCodeError, WeChatAPIError, WeChatNetworkError
from core.pages import render
from models.people import PersonStatus, WeChatBinding
from settings import Settings

OAUTH_COOKIE = "wuye_oauth"
STATE_TTL_SECONDS = 600
STATE_RE = re.compile(r"[A-Za-z0-9]{16,128}")
BROWSER_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")
BIND_PATH = "/auth/bind"


def _state_key(state: str) -> str:
    return f"oauth:state:{state}"


def _cookie_name(settings: Settings) -> str:
    return ("__Host-" if settings.https else "") + OAUTH_COOKIE


def authorize_url(settings: Settings, state: str) -> str:
    query = urlencode({"appid": settings.wechat_appid,
                       "redirect_uri": f"{settings.public_base_url}/auth/callback",
                       "response_type": "code", "scope": "snsapi_base", "state": state},
                      quote_via=quote)
    return f"{settings.wechat_oauth_base}/connect/oauth2/authorize?{query}#wechat_redirect"


async def start(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    next_path = local_path(request.args.get("next"))
    # One browser token per browser, reused, so two tabs signing in at once both succeed.
    browser = request.cookies.get(_cookie_name(settings)) or ""
    if not BROWSER_RE.fullmatch(browser):
        browser = secrets.token_urlsafe(32)
    state = secrets.token_hex(16)
    await request.app.ctx.redis.set(
        _state_key(state), json.dumps({"browser": browser, "next": next_path}),
        ex=STATE_TTL_SECONDS)
    response = redirect(authorize_url(settings, state))
    response.add_cookie(OAUTH_COOKIE, browser, path="/", httponly=True, samesite="Lax",
                        secure=settings.https, host_prefix=settings.https,
                        max_age=STATE_TTL_SECONDS)
    return response


def _failure(request: Request, message: str, next_path: str = "/h5/projects",
             status: int = 400) -> HTTPResponse:
    return render(request, "auth/oauth_failed.html", status=status, message=message,
                  retry_url="/auth/start?next=" + quote(next_path, safe=""))


async def callback(request: Request) -> HTTPResponse:
    settings: Settings = request.app.ctx.settings
    state = request.args.get("state", "")
    if not STATE_RE.fullmatch(state):
        return _failure(request, "登录请求无效（缺少或伪造的参数）。请重新进入。")
    # GETDEL: a state works once, whoever presents it.
    raw = await request.app.ctx.redis.getdel(_state_key(state))
    if raw is None:
        return _failure(request, "登录链接已失效或已使用过。请重新进入。")
    record = json.loads(raw)
    next_path = local_path(record.get("next"))
    browser = request.cookies.get(_cookie_name(settings)) or ""
    if not browser or not hmac.compare_digest(browser, str(record["browser"])):
        return _failure(request, "请在发起登录的同一个浏览器中完成登录。请重新进入。", next_path)
    code = request.args.get("code", "")
    if not code or len(code) > 128:
        return _failure(request, "未获得微信授权。请重新进入。", next_path)
    try:
        answer = await request.app.ctx.wechat.oauth_exchange_code(code)
    except OAuthCodeError:
        return _failure(request, "微信授权码无效或已使用过。请重新进入。", next_path)
    except (WeChatAPIError, WeChatNetworkError):
        return _failure(request, "微信服务暂时不可用，请稍后重新进入。", next_path, status=503)
    if int(answer.get("is_snapshotuser") or 0) == 1:
        return _failure(request, "您正在浏览页面快照，无法识别身份。请点击页面下方「使用完整服务」"
                                 "后重新进入。", next_path)
    openid = str(answer.get("openid") or "")
    if not openid:
        return _failure(request, "未获得微信身份。请重新进入。", next_path, status=502)
    return await _open_session(request, openid, next_path)


async def _open_session(request: Request, openid: str, next_path: str) -> HTTPResponse:
    store = h5_sessions(request.app)
    previous = store.sid_from(request)
    if previous:
        await store.destroy(previous)
    binding = await WeChatBinding.filter(
        openid=openid, person__status=PersonStatus.ACTIVE).first()
    if binding is not None:
        session = await store.create(session_owner(binding.person_id),  # type: ignore[attr-defined]
                                     {"openid": openid})
        response = redirect(next_path)
    else:
        # A pre-binding session: it holds the openid for the binding form, and nothing else.
        session = await store.create("", {"openid": openid, "next": next_path})
        response = redirect(BIND_PATH)
    store.set_cookie(response, session)
    response.delete_cookie(OAUTH_COOKIE, path="/", host_prefix=request.app.ctx.settings.https)
    return response
