"""My account (F2): who I am; change my mobile (SMS-verified), unbind my WeChat, deregister."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, redirect

from actions.binding import do_unbind_wechat, person_actor
from actions.errors import ActionError
from actions.people import do_change_mobile, do_deregister_self
from auth_binding.access import Viewer, h5_page, h5_sessions
from auth_binding.access import form_text as field
from auth_binding.limits import FailureLimiter, retry_message
from auth_binding.sms import SmsCodes, make_gateway, sandbox_sms_text
from core.ids import is_valid_mobile
from core.pages import render
from models.people import MODULE_LABELS, Module

bp = Blueprint("h5_account", url_prefix="/h5")

SMS_PURPOSE = "mobile"


@bp.get("/account", name="account")
@h5_page()
async def account(request: Request, viewer: Viewer) -> HTTPResponse:
    projects = await viewer.projects().order_by("name")
    return render(request, "account/account.html", viewer=viewer, projects=projects,
                  modules=[MODULE_LABELS[m] for m in Module if viewer.can(m)],
                  toast="手机号已更新" if request.args.get("done") == "mobile" else "")


async def _mobile_page(request: Request, viewer: Viewer, *, mobile: str = "", error: str = "",
                       notice: str = "", status: int = 200) -> HTTPResponse:
    return render(request, "account/mobile.html", status=status, viewer=viewer, mobile=mobile,
                  error=error, notice=notice,
                  sandbox_sms=await sandbox_sms_text(request, mobile))


@bp.get("/account/mobile", name="mobile_form")
@h5_page()
async def mobile_form(request: Request, viewer: Viewer) -> HTTPResponse:
    return await _mobile_page(request, viewer)


@bp.post("/account/mobile", name="mobile_change")
@h5_page()
async def mobile_change(request: Request, viewer: Viewer) -> HTTPResponse:
    mobile = field(request, "mobile")
    if not is_valid_mobile(mobile):
        return await _mobile_page(request, viewer, mobile=mobile, status=400,
                            error="请填写正确的11位手机号码。")
    if mobile == viewer.person.mobile:
        return await _mobile_page(request, viewer, mobile=mobile, status=400,
                            error="新手机号与当前手机号相同。")
    redis = request.app.ctx.redis
    codes = SmsCodes(redis, make_gateway(request.app.ctx.settings, redis))
    requester = viewer.owner
    if field(request, "op") == "send_code":
        result = await codes.send(mobile=mobile, purpose=SMS_PURPOSE, requester=requester)
        if not result.sent:
            return await _mobile_page(request, viewer, mobile=mobile, status=429,
                                error=f"验证码发送过于频繁，请{result.wait_seconds}秒后再试。")
        return await _mobile_page(
            request, viewer, mobile=mobile,
            notice=f"验证码已发送至{mobile[:3]}****{mobile[-4:]}，5分钟内有效。")
    limiter = FailureLimiter(redis, "mobile")
    subjects = (requester, f"mobile:{mobile}")
    until = await limiter.blocked_until(*subjects)
    if until is not None:
        return await _mobile_page(request, viewer, mobile=mobile, status=429,
                            error=retry_message(until))
    if not await codes.consume(mobile=mobile, purpose=SMS_PURPOSE, requester=requester,
                               code=field(request, "sms_code")):
        await limiter.fail(*subjects)
        return await _mobile_page(request, viewer, mobile=mobile, status=400,
                            error="短信验证码错误或已过期，请重新获取。")
    try:
        await do_change_mobile(person_actor(viewer.person), viewer.person, mobile)
    except ActionError as exc:
        return await _mobile_page(request, viewer, mobile=mobile, error=exc.message,
                            status=exc.status)
    return redirect("/h5/account?done=mobile")


def _farewell(request: Request, title: str, text: str) -> HTTPResponse:
    response = render(request, "account/farewell.html", title=title, text=text)
    h5_sessions(request.app).clear_cookie(response)
    return response


@bp.post("/account/unbind", name="unbind")
@h5_page()
async def unbind(request: Request, viewer: Viewer) -> HTTPResponse:
    await do_unbind_wechat(person_actor(viewer.person), viewer.person, h5_sessions(request.app))
    return _farewell(request, "已解除绑定",
                     "此微信已与您的账号解除绑定。如需继续使用，请重新进行身份认证。")


@bp.post("/account/deregister", name="deregister")
@h5_page()
async def deregister(request: Request, viewer: Viewer) -> HTTPResponse:
    await do_deregister_self(person_actor(viewer.person), viewer.person,
                             h5_sessions(request.app))
    return _farewell(request, "账号已注销",
                     "您的账号已注销，所管项目和权限已解除，微信绑定同时解除。")
