"""The binding form (F1): an openid from OAuth becomes a signed-in person.

Leader or handler: credit code + name + mobile + SMS code. Project manager: name + the mobile
the leader registered + SMS code. The openid is the one the OAuth exchange put in the
pre-binding session; nothing in the request can name it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sanic import Request
from sanic.response import HTTPResponse, redirect

from actions.binding import BindingKind, check_person_to_bind, do_bind_wechat
from actions.errors import ActionError
from auth_binding.access import form_text as field
from auth_binding.access import h5_sessions, local_path, refuse, session_owner
from auth_binding.limits import FailureLimiter, retry_message
from auth_binding.sms import SmsCodes, make_gateway, sandbox_sms_text
from core.ids import is_valid_mobile
from core.pages import render
from core.sessions import Session, csrf_ok
from models.people import Person

SMS_PURPOSE = "bind"


@dataclass
class BindForm:
    kind: BindingKind
    credit_code: str = ""
    name: str = ""
    mobile: str = ""
    sms_code: str = ""

    @classmethod
    def from_request(cls, request: Request) -> BindForm:
        kind = BindingKind.MANAGER if field(request, "kind") == "manager" \
            else BindingKind.ENTERPRISE
        return cls(kind, field(request, "credit_code").upper(), field(request, "name"),
                   field(request, "mobile"), field(request, "sms_code"))

    def missing(self, with_code: bool) -> str | None:
        if self.kind == BindingKind.ENTERPRISE and not self.credit_code:
            return "请填写统一社会信用代码。"
        if not self.name:
            return "请填写姓名。"
        if not is_valid_mobile(self.mobile):
            return "请填写正确的11位手机号码。"
        if with_code and not (self.sms_code.isdigit() and len(self.sms_code) == 6):
            return "请填写6位短信验证码。"
        return None


async def _pre_binding(request: Request) -> Session | None:
    store = h5_sessions(request.app)
    session = await store.load(store.sid_from(request))
    if session is None or session.owner or not session.data.get("openid"):
        return None
    return session


async def _page(request: Request, session: Session, form: BindForm, *, error: str = "",
                notice: str = "", status: int = 200) -> HTTPResponse:
    request.ctx.csrf_token = session.csrf_token
    return render(request, "auth/bind.html", status=status, form=form, error=error,
                  notice=notice, sandbox_sms=await sandbox_sms_text(request, form.mobile))


async def bind_form(request: Request) -> HTTPResponse:
    session = await _pre_binding(request)
    if session is None:
        return await _not_pre_binding(request)
    kind = BindingKind.MANAGER if request.args.get("kind") == "manager" \
        else BindingKind.ENTERPRISE
    return await _page(request, session, BindForm(kind))


async def _not_pre_binding(request: Request) -> HTTPResponse:
    """No openid to bind: start OAuth (or go on, for someone already signed in)."""
    store = h5_sessions(request.app)
    session = await store.load(store.sid_from(request))
    if session is not None and session.owner:
        return redirect("/h5/projects")
    return redirect("/auth/start?next=/h5/projects")


async def bind_submit(request: Request) -> HTTPResponse:
    session = await _pre_binding(request)
    if session is None:
        return await _not_pre_binding(request)
    if not csrf_ok(request, session):
        return refuse(request, 403, "csrf", "页面已过期，请返回刷新后再提交。")
    form = BindForm.from_request(request)
    openid = str(session.data["openid"])
    limiter = FailureLimiter(request.app.ctx.redis, "bind")
    subjects = (f"openid:{openid}", f"mobile:{form.mobile}")
    op = field(request, "op")
    missing = form.missing(with_code=op != "send_code")
    if missing:
        return await _page(request, session, form, error=missing, status=400)
    until = await limiter.blocked_until(*subjects)
    if until is not None:
        return await _page(request, session, form, error=retry_message(until), status=429)
    try:
        person = await check_person_to_bind(form.kind, credit_code=form.credit_code,
                                            name=form.name, mobile=form.mobile)
    except ActionError as exc:
        await limiter.fail(*subjects)
        return await _page(request, session, form, error=exc.message, status=exc.status)
    if op == "send_code":
        return await _send_code(request, session, form, openid)
    codes = SmsCodes(request.app.ctx.redis, make_gateway(request.app.ctx.settings,
                                                         request.app.ctx.redis))
    if not await codes.consume(mobile=form.mobile, purpose=SMS_PURPOSE, requester=openid,
                               code=form.sms_code):
        await limiter.fail(*subjects)
        return await _page(request, session, form, error="短信验证码错误或已过期，请重新获取。",
                     status=400)
    return await _bind(request, session, form, openid, person)


async def _send_code(request: Request, session: Session, form: BindForm,
                     openid: str) -> HTTPResponse:
    redis = request.app.ctx.redis
    codes = SmsCodes(redis, make_gateway(request.app.ctx.settings, redis))
    result = await codes.send(mobile=form.mobile, purpose=SMS_PURPOSE, requester=openid)
    if not result.sent:
        return await _page(request, session, form, status=429,
                     error=f"验证码发送过于频繁，请{result.wait_seconds}秒后再试。")
    masked = f"{form.mobile[:3]}****{form.mobile[-4:]}"
    return await _page(request, session, form, notice=f"验证码已发送至{masked}，5分钟内有效。")


async def _bind(request: Request, session: Session, form: BindForm, openid: str,
                person: Person) -> HTTPResponse:
    try:
        await do_bind_wechat(openid, person)
    except ActionError as exc:
        return await _page(request, session, form, error=exc.message, status=exc.status)
    store = h5_sessions(request.app)
    await store.destroy(session.sid)
    # A new session id on bind: the pre-binding id never carries a signed-in person.
    signed_in = await store.create(session_owner(person.id), {"openid": openid})
    response = redirect(local_path(str(session.data.get("next") or "")))
    store.set_cookie(response, signed_in)
    return response
