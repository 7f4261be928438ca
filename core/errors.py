"""Error responses of the whole app, in the form each kind of client can use.

- `/wechat`: a short plain-text status; never HTML and never `success` (the callback answers
  WeChat itself, this is only the last resort).
- JSON APIs (`/sandbox/api/`, `/console/api/`) and any request whose Accept names JSON:
  `{"error": code, "message": 中文}`.
- Everything else: a friendly page in Chinese, in the look of every other page.

An `ActionError` keeps its own status, code and message. A Sanic exception raised with a
Chinese message shows that message; Sanic's own English messages are replaced by the status's
Chinese sentence. Unexpected exceptions become 500, logged with the request id, which the page
shows so that a user can quote it; the traceback never leaves the server.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sanic import Request, Sanic
from sanic.exceptions import SanicException
from sanic.response import HTTPResponse, json, text

from actions.errors import ActionError
from core.pages import render

log = logging.getLogger("wuye.errors")

JSON_PREFIXES = ("/sandbox/api/", "/console/api/")
CALLBACK_PATH = "/wechat"
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class ErrorKind:
    code: str
    title: str
    message: str


ERROR_KINDS: dict[int, ErrorKind] = {
    400: ErrorKind("bad_request", "请求有误",
                   "提交的内容不完整或格式不对，请返回检查后重试。"),
    401: ErrorKind("unauthorized", "请先登录", "您还没有登录，或登录已过期，请重新进入。"),
    403: ErrorKind("forbidden", "无权访问",
                   "您没有查看此页面的权限。如需开通，请联系本企业负责人。"),
    404: ErrorKind("not_found", "页面不存在", "您要找的页面不存在，可能已被删除或链接有误。"),
    405: ErrorKind("method_not_allowed", "操作方式不正确",
                   "此页面不支持这种操作，请从菜单重新进入。"),
    408: ErrorKind("request_timeout", "请求超时", "网络较慢，请求超时了，请稍后重试。"),
    409: ErrorKind("conflict", "操作冲突", "数据已被他人修改，请刷新页面后重试。"),
    413: ErrorKind("payload_too_large", "内容过大", "上传的文件或提交的内容太大，请压缩后重试。"),
    429: ErrorKind("too_many_requests", "操作太频繁", "您的操作太频繁了，请稍后再试。"),
    500: ErrorKind("server_error", "系统出错了",
                   "系统暂时出了点问题，我们会尽快处理，请稍后重试。"),
    503: ErrorKind("service_unavailable", "服务暂不可用", "系统正在维护或繁忙，请稍后再试。"),
}


def _kind(status: int) -> ErrorKind:
    if status in ERROR_KINDS:
        return ERROR_KINDS[status]
    return ERROR_KINDS[500] if status >= 500 else ERROR_KINDS[400]


def wants_json(request: Request) -> bool:
    """API paths, scripts (fetch with Accept: application/json, XMLHttpRequest); a browser
    asking for a page also accepts text/html and gets the page."""
    if request.path.startswith(JSON_PREFIXES):
        return True
    accept = request.headers.get("accept", "")
    return (request.headers.get("x-requested-with", "").lower() == "xmlhttprequest"
            or ("application/json" in accept and "text/html" not in accept))


def _describe(request: Request, exc: BaseException) -> tuple[int, str, str]:
    """(status, code, message) of an exception, logging what the user must not see."""
    if isinstance(exc, ActionError):
        return exc.status, exc.code, exc.message
    if isinstance(exc, SanicException):
        status = int(exc.status_code)
        kind = _kind(status)
        if status >= 500:
            log.error("%s on %s %s (request %s): %s", status, request.method, request.path,
                      request.id, exc)
        shown = str(exc) if _CJK.search(str(exc)) else kind.message
        return status, kind.code, shown
    log.error("500 on %s %s (request %s)", request.method, request.path, request.id,
              exc_info=exc)
    return 500, ERROR_KINDS[500].code, ERROR_KINDS[500].message


def error_response(request: Request, exc: BaseException) -> HTTPResponse:
    status, code, message = _describe(request, exc)
    headers = {"X-Request-ID": str(request.id)}
    if isinstance(exc, SanicException) and exc.headers:
        headers.update({str(k): str(v) for k, v in exc.headers.items()})  # e.g. 405's Allow
    if request.path == CALLBACK_PATH or request.path.startswith(CALLBACK_PATH + "/"):
        return text(code, status=status, headers=headers)
    if wants_json(request):
        return json({"error": code, "message": message}, status=status, headers=headers)
    home = "/console/" if request.path.startswith("/console") else "/h5/"
    response = render(request, "error.html", status=status, status_code=status,
                      title=_kind(status).title, message=message,
                      request_id=str(request.id) if status >= 500 else "", home_url=home)
    response.headers.update(headers)
    return response


def register_error_pages(app: Sanic) -> None:
    app.error_handler.add(Exception, error_response)
