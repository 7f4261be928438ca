"""The page base: error pages in Chinese for people, JSON for scripts, plain text for WeChat;
static files; the base template; the 物业服务 hub."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from auth_helpers import DEMO_LEADER_OPENID, DEMO_MANAGER_OPENID, sign_in
from playwright.async_api import Browser
from sanic import Request
from sanic.exceptions import Forbidden, ServiceUnavailable
from sanic.response import HTTPResponse, html, text

from actions.errors import ActionError
from conftest import LiveServer, live_settings, start_live, stop_live
from server import create_app
from settings import Settings


async def _crash(request: Request) -> HTTPResponse:
    raise RuntimeError("secret-internal-detail")


async def _maintenance(request: Request) -> HTTPResponse:
    raise ServiceUnavailable("maintenance")


async def _refused_change(request: Request) -> HTTPResponse:
    raise ActionError("project_has_manager", "该项目已有项目经理，请先注销现任项目经理。", 409)


async def _forbidden_english(request: Request) -> HTTPResponse:
    raise Forbidden("internal reason in English")


async def _upload(request: Request) -> HTTPResponse:
    return text(f"received {len(request.body)} bytes")


@pytest.fixture
async def faulty(base_settings: Settings) -> AsyncIterator[LiveServer]:
    """The app with test-only routes that fail in each way a real handler might."""
    # A small upload limit makes the body limit its floor of 1 MiB.
    settings = live_settings(base_settings, upload_max_bytes=1024)
    app = create_app(settings)
    app.add_route(_crash, "/h5/test-crash", name="test_crash")
    app.add_route(_maintenance, "/h5/test-maintenance", name="test_maintenance")
    app.add_route(_refused_change, "/h5/test-refused", name="test_refused")
    app.add_route(_forbidden_english, "/h5/test-forbidden", name="test_forbidden")
    app.add_route(_upload, "/h5/test-upload", methods=["POST"], name="test_upload")
    server_info, server = await start_live(settings, app)
    yield server_info
    await stop_live(server)


def _is_chinese_page(r: httpx.Response) -> bool:
    return (r.headers["content-type"].startswith("text/html")
            and '<html lang="zh-CN">' in r.text
            and "/static/vendor/weui.min.css" in r.text)


async def test_show_error_page_unknown_h5_path(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get("/h5/no-such-page")
    assert r.status_code == 404
    assert _is_chinese_page(r)
    assert "页面不存在" in r.text
    assert "返回首页" in r.text and 'href="/h5/"' in r.text


async def test_show_error_page_wrong_method(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.delete("/healthz")
    assert r.status_code == 405
    assert _is_chinese_page(r)
    assert "此页面不支持这种操作" in r.text
    assert "GET" in r.headers["allow"]


async def test_show_error_page_oversize_body(faulty: LiveServer) -> None:
    async with faulty.client() as c:
        small = await c.post("/h5/test-upload", content=b"x" * 1000)
        r = await c.post("/h5/test-upload", content=b"x" * (2 * 1024 * 1024))
    assert small.status_code == 200
    assert r.status_code == 413
    assert _is_chinese_page(r)
    assert "内容过大" in r.text


async def test_show_error_page_server_error_without_traceback(
        faulty: LiveServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="wuye.errors"):
        async with faulty.client() as c:
            r = await c.get("/h5/test-crash")
    assert r.status_code == 500
    assert _is_chinese_page(r)
    assert "系统出错了" in r.text
    assert "secret-internal-detail" not in r.text and "Traceback" not in r.text
    request_id = r.headers["x-request-id"]
    assert f"错误编号 {request_id}" in r.text
    logged = [rec for rec in caplog.records if request_id in rec.getMessage()]
    assert logged and logged[0].exc_info is not None


async def test_show_error_page_service_unavailable(faulty: LiveServer) -> None:
    async with faulty.client() as c:
        r = await c.get("/h5/test-maintenance")
    assert r.status_code == 503
    assert _is_chinese_page(r)
    assert "服务暂不可用" in r.text and "maintenance" not in r.text


async def test_show_error_page_forbidden_in_chinese(faulty: LiveServer) -> None:
    async with faulty.client() as c:
        r = await c.get("/h5/test-forbidden")
    assert r.status_code == 403
    assert _is_chinese_page(r)
    assert "无权访问" in r.text and "English" not in r.text


async def test_show_action_error_with_its_message(faulty: LiveServer) -> None:
    async with faulty.client() as c:
        page = await c.get("/h5/test-refused")
        api = await c.get("/h5/test-refused", headers={"accept": "application/json"})
    assert page.status_code == 409 and _is_chinese_page(page)
    assert "该项目已有项目经理，请先注销现任项目经理。" in page.text
    assert api.status_code == 409
    assert api.json() == {"error": "project_has_manager",
                          "message": "该项目已有项目经理，请先注销现任项目经理。"}


@pytest.mark.parametrize("path,headers", [
    ("/sandbox/api/no-such-endpoint", {}),
    ("/console/api/no-such-endpoint", {}),
    ("/h5/no-such-page", {"accept": "application/json"}),
])
async def test_answer_json_error_api_paths(live: LiveServer, path: str,
                                           headers: dict[str, str]) -> None:
    async with live.client() as c:
        r = await c.get(path, headers=headers)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"error": "not_found",
                        "message": "您要找的页面不存在，可能已被删除或链接有误。"}


async def test_answer_json_error_server_error(faulty: LiveServer) -> None:
    async with faulty.client() as c:
        r = await c.get("/h5/test-crash", headers={"x-requested-with": "XMLHttpRequest"})
    assert r.status_code == 500
    assert r.json()["error"] == "server_error"
    assert "secret-internal-detail" not in r.text


async def test_answer_callback_errors_without_html(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get("/wechat/no-such-path")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/plain")
    assert "<html" not in r.text and "success" not in r.text


@pytest.mark.parametrize("path,content_type,max_age", [
    ("/static/vendor/weui.min.css", "text/css", 7 * 24 * 3600),
    ("/static/app.css", "text/css", 3600),
    ("/static/app.js", "javascript", 3600),
])
async def test_serve_static_files_with_cache_header(live: LiveServer, path: str,
                                                    content_type: str, max_age: int) -> None:
    async with live.client() as c:
        r = await c.get(path)
    assert r.status_code == 200
    assert content_type in r.headers["content-type"]
    assert r.headers["cache-control"] == f"public, max-age={max_age}"
    assert len(r.content) > 1000


async def test_serve_static_files_refuse_path_outside(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get("/static/..%2f..%2fsettings.py")
    assert r.status_code == 404
    assert "SANDBOX_SECRET" not in r.text


async def test_render_base_page_for_phones(live: LiveServer) -> None:
    page = live.app.ctx.jinja.from_string(
        '{% extends "base.html" %}{% block title %}测试页{% endblock %}'
        '{% block content %}{% call m.form("/h5/x") %}{{ m.input("name", "姓名", required=True) }}'
        '{% endcall %}{{ m.pagination(2, 3, "/h5/notices?tab=unread") }}{% endblock %}'
    ).render(csrf_token="tok<&>123")
    assert '<html lang="zh-CN">' in page
    assert '<meta name="csrf-token" content="tok&lt;&amp;&gt;123">' in page
    assert 'name="viewport" content="width=device-width' in page
    assert "<noscript>" in page and "<title>测试页</title>" in page
    assert '<input type="hidden" name="csrf_token" value="tok&lt;&amp;&gt;123">' in page
    assert 'href="/h5/notices?tab=unread&amp;page=1"' in page
    assert 'href="/h5/notices?tab=unread&amp;page=3"' in page


async def test_show_home_hub_leader_sees_every_entry(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_LEADER_OPENID)
        r = await c.get("/h5/")
    assert r.status_code == 200 and _is_chinese_page(r)
    assert "深圳市鹏城物业服务有限公司" in r.text and "张伟" in r.text
    for label, href in [("我的小区", "/h5/projects"), ("通知消息", "/h5/notices"),
                        ("安全检查", "/h5/safety"), ("共有资金", "/h5/funds"),
                        ("申请记录", "/h5/applications"), ("权限管理", "/h5/permissions"),
                        ("我的账户", "/h5/account")]:
        assert label in r.text and f'href="{href}"' in r.text


async def test_show_home_hub_manager_without_leader_entries(live: LiveServer,
                                                             demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, DEMO_MANAGER_OPENID)
        r = await c.get("/h5/")
    assert r.status_code == 200
    assert "通知消息" in r.text and "共有资金" in r.text and "我的小区" in r.text
    assert "权限管理" not in r.text and "申请记录" not in r.text


async def test_show_home_hub_signed_out_goes_to_sign_in(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get("/h5/")
    assert r.status_code in (302, 303)
    assert r.headers["location"].startswith("/auth/start")


_INTERACTIVE_PAGE = """{% extends "base.html" %}{% block content %}
{{ m.tabs([("todo", "待提交", "#todo"), ("done", "已提交", "#done")], "todo") }}
{% call m.tab_panel("todo", "todo") %}<p>待提交的任务</p>{% endcall %}
{% call m.tab_panel("done", "todo") %}<p>已提交的任务</p>{% endcall %}
{% call m.form("/h5/test-form") %}{{ m.button("提交", confirm="确定要提交吗？") }}{% endcall %}
<iframe name="answer" title="answer"></iframe>
{% endblock %}"""


@pytest.fixture
async def interactive(base_settings: Settings) -> AsyncIterator[LiveServer]:
    """A page with tabs and a confirmed form whose handler answers only when the test says
    so, as on a bad network."""
    settings = live_settings(base_settings)
    app = create_app(settings)
    app.ctx.form_posts = 0
    app.ctx.first_post = asyncio.Event()
    app.ctx.release = asyncio.Event()

    async def show(request: Request) -> HTTPResponse:
        body = request.app.ctx.jinja.from_string(_INTERACTIVE_PAGE).render(csrf_token="t")
        return html(body)

    async def receive(request: Request) -> HTTPResponse:
        request.app.ctx.form_posts += 1
        request.app.ctx.first_post.set()
        await request.app.ctx.release.wait()
        return html('<p id="done">已收到</p>')

    app.add_route(show, "/h5/test-form", name="test_form_show")
    app.add_route(receive, "/h5/test-form", methods=["POST"], name="test_form_receive")
    server_info, server = await start_live(settings, app)
    yield server_info
    app.ctx.release.set()
    await stop_live(server)


@pytest.mark.browser
async def test_submit_form_confirmed_once_and_switch_tabs(interactive: LiveServer,
                                                         browser: Browser) -> None:
    ctx = interactive.app.ctx
    page = await browser.new_page()
    await page.goto(interactive.base_url + "/h5/test-form")
    assert await page.is_hidden("text=已提交的任务")
    await page.click("a[data-tab=done]")
    assert await page.is_visible("text=已提交的任务")
    assert await page.is_hidden("text=待提交的任务")

    await page.click("button[data-confirm]")
    await page.wait_for_selector("text=确定要提交吗？")
    await page.click("[data-dialog-cancel]")
    assert await page.locator(".app-dialog").count() == 0

    # The answer opens in a frame, so this page stays while the send is on its way.
    await page.evaluate("document.querySelector('form').target = 'answer'")
    await page.click("button[data-confirm]")
    await page.click("[data-dialog-ok]")
    await asyncio.wait_for(ctx.first_post.wait(), 10)
    # The button is locked and a second tap (a double tap) sends nothing.
    assert await page.is_disabled("button[data-confirm]")
    await page.evaluate("document.querySelector('form').requestSubmit()")
    ctx.release.set()
    await page.frame_locator("iframe[name=answer]").locator("#done").wait_for()
    assert ctx.form_posts == 1
