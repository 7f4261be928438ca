"""The sandbox chat page in headless Chromium on a phone-size screen: pick a test user, send
帮助, see the bot's help text (F19)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Browser, expect

from conftest import PHONE, LiveServer

pytestmark = pytest.mark.browser

ZHANG_WEI = "oDemo0LeaderZhangWei00000001"


async def test_chat_send_help_shows_help_text(live: LiveServer, demo: None,
                                              browser: Browser) -> None:
    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    await page.goto(f"{live.base_url}/sandbox/chat")

    await page.get_by_role("button", name="张伟(鹏城负责人)").click()
    await expect(page.locator("#chat-user")).to_have_text("张伟(鹏城负责人)")
    await page.get_by_label("消息").fill("帮助")
    await page.get_by_role("button", name="发送").click()

    await expect(page.locator(".sbx-msg_sent")).to_have_text("帮助")
    await expect(page.locator(".sbx-msg_reply")).to_contain_text("您可以发送以下指令")
    # The page remembers the user for silent OAuth, as WeChat knows who is using it.
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    assert cookies["sandbox_openid"] == ZHANG_WEI
    assert errors == []


async def test_chat_shows_template_card_with_details_link(live: LiveServer, demo: None,
                                                          browser: Browser) -> None:
    settings = live.settings
    details = f"{live.base_url}/h5/applications"
    async with live.client() as c:
        token = (await c.get("/sandbox/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": settings.wechat_appid,
            "secret": settings.wechat_secret})).json()["access_token"]
        sent = await c.post("/sandbox/cgi-bin/message/template/send",
                            params={"access_token": token}, json={
            "touser": ZHANG_WEI, "template_id": settings.template_id("APPLICATION_STATUS"),
            "url": details, "data": {
                "thing1": {"value": "项目新增申请"}, "character_string2": {"value": "SQ2026001"},
                "phrase3": {"value": "通过"}, "time4": {"value": "2026-11-26 10:00"},
                "thing5": {"value": "材料齐全"}}})
    assert sent.json()["errcode"] == 0

    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    await page.context.add_cookies([{"name": "sandbox_openid", "value": ZHANG_WEI,
                                     "url": live.base_url}])
    await page.goto(f"{live.base_url}/sandbox/chat")

    card = page.locator(".sbx-msg_template")
    await expect(card.locator(".sbx-card__title")).to_have_text("申请状态变更通知")
    await expect(card.locator(".sbx-card__row").nth(1)).to_have_text("业务编号SQ2026001")
    await expect(card.get_by_role("link", name="详情")).to_have_attribute("href", details)
