"""Officers' sign-in to the console, and the one access decorator of every console page.

Officers have their own session cookie (`CONSOLE_SESSIONS`): an enterprise user's H5 session
never opens a console page. Every form carries the session's CSRF token, the login form too
(through a pre-login session), and every unsafe request is checked against it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, Concatenate, ParamSpec
from urllib.parse import quote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from actions.errors import ActionError
from actions.officers import do_sign_in_officer
from core.pages import render
from core.sessions import CONSOLE_SESSIONS, Session, SessionStore, csrf_ok
from models.officers import Officer, OfficerRole

bp = Blueprint("console_auth", url_prefix="/console")

P = ParamSpec("P")
ConsoleHandler = Callable[Concatenate[Request, Officer, P], Awaitable[HTTPResponse]]
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
HOME = "/console/reviews"


def console_sessions(request: Request) -> SessionStore:
    return SessionStore(request.app.ctx.redis, request.app.ctx.settings, CONSOLE_SESSIONS)


def safe_next(target: str | None) -> str:
    """Only a console path of this site: never an open redirect to another host."""
    if (not target or not target.startswith("/console") or target.startswith("//")
            or "\\" in target or target.startswith("/console/login")):
        return HOME
    return target


def _to_login(request: Request) -> HTTPResponse:
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    return redirect(f"/console/login?next={quote(target, safe='')}")


def forbidden(request: Request, message: str, officer: Officer | None = None) -> HTTPResponse:
    return render(request, "console/message.html", status=403, title="无权访问",
                  message=message, officer=officer)


async def _officer_session(request: Request) -> tuple[Session, Officer] | None:
    store = console_sessions(request)
    session = await store.load(store.sid_from(request))
    if session is None or not session.owner.startswith("officer:"):
        return None
    officer = await Officer.get_or_none(id=int(session.owner.split(":", 1)[1]), active=True)
    if officer is None:
        await store.destroy(session.sid)
        return None
    return session, officer


def console_page(
    roles: tuple[OfficerRole, ...] | None = None,
) -> Callable[[ConsoleHandler[P]], Callable[Concatenate[Request, P], Awaitable[HTTPResponse]]]:
    """Wrap `async def page(request, officer, **route_args)`: a signed-in officer (of one of
    `roles`, when given) with a valid CSRF token on unsafe methods, or a redirect/403."""

    def decorate(
        handler: ConsoleHandler[P],
    ) -> Callable[Concatenate[Request, P], Awaitable[HTTPResponse]]:
        @wraps(handler)
        async def page(request: Request, *args: P.args, **kwargs: P.kwargs) -> HTTPResponse:
            found = await _officer_session(request)
            if found is None:
                if request.method in UNSAFE_METHODS:
                    return forbidden(request, "请先登录审核后台。")
                return _to_login(request)
            session, officer = found
            request.ctx.officer = officer
            request.ctx.csrf_token = session.csrf_token
            request.ctx.console_session = session
            if roles is not None and officer.role not in roles:
                return forbidden(request, "您的账号无权使用此功能。", officer)
            if request.method in UNSAFE_METHODS and not csrf_ok(request, session):
                return forbidden(request, "页面已过期，请刷新后重试。", officer)
            return await handler(request, officer, *args, **kwargs)

        return page

    return decorate


def district_scope(officer: Officer) -> str | None:
    """None for city officers (everything); the district name for district staff."""
    return officer.district if officer.role == OfficerRole.DISTRICT else None


@bp.get("/")
async def console_home(request: Request) -> HTTPResponse:
    return redirect(HOME)


async def _login_session(request: Request) -> tuple[SessionStore, Session, bool]:
    """The pre-login session whose CSRF token the login form carries (created on first view)."""
    store = console_sessions(request)
    session = await store.load(store.sid_from(request))
    if session is not None:
        return store, session, False
    return store, await store.create(""), True


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    if await _officer_session(request) is not None:
        return redirect(safe_next(request.args.get("next")))
    store, session, fresh = await _login_session(request)
    request.ctx.csrf_token = session.csrf_token
    response = render(request, "console/login.html", next=safe_next(request.args.get("next")),
                      username="", error="", officer=None)
    if fresh:
        store.set_cookie(response, session)
    return response


@bp.post("/login")
async def login_submit(request: Request) -> HTTPResponse:
    store, session, fresh = await _login_session(request)
    request.ctx.csrf_token = session.csrf_token
    form: Any = request.form or {}
    username = str(form.get("username", "")).strip()
    target = safe_next(form.get("next"))
    error = ""
    status = 400
    if fresh or not csrf_ok(request, session):
        error = "页面已过期，请重新登录。"
        status = 403
    else:
        try:
            officer = await do_sign_in_officer(username, str(form.get("password", "")))
        except ActionError as exc:
            error, status = exc.message, exc.status
        else:
            # A new session id on sign-in, so a planted pre-login id is worth nothing.
            await store.destroy(session.sid)
            signed_in = await store.create(f"officer:{officer.id}")
            response = redirect(target, status=303)
            store.set_cookie(response, signed_in)
            return response
    response = render(request, "console/login.html", status=status, next=target,
                      username=username, error=error, officer=None)
    if fresh:
        store.set_cookie(response, session)
    return response


@bp.post("/logout")
@console_page()
async def logout(request: Request, officer: Officer) -> HTTPResponse:
    store = console_sessions(request)
    await store.destroy(request.ctx.console_session.sid)
    response = redirect("/console/login", status=303)
    store.clear_cookie(response)
    return response
