"""Identity binding in headless Chromium on a phone-size screen, as a person does it: open a
page, pick oneself on the sandbox's authorize page, fill the binding form, read the SMS code
the sandbox shows, bind, and land on the page first asked for (F1); a leader adds a manager
and deregisters them through the permission pages (F2)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from conftest import PHONE, LiveServer
from models.people import WeChatBinding

pytestmark = pytest.mark.browser



async def _phone(browser: Browser) -> tuple[Page, list[Any]]:
    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    errors: list[Any] = []
    page.on("pageerror", lambda error: errors.append(error))
    return page, errors


async def _read_sms_code(page: Page) -> str:
    box = page.locator("[data-sandbox-sms]")
    await expect(box).to_contain_text("验证码")
    match = re.search(r"验证码(\d{6})", await box.inner_text())
    assert match, "the sandbox shows no code"
    return match.group(1)


async def test_bind_leader_in_browser_lands_on_account(live: LiveServer, demo: None,
                                                       browser: Browser) -> None:
    page, errors = await _phone(browser)
    await page.goto(f"{live.base_url}/h5/account")

    # WeChat's authorize page (the sandbox's): who is opening the page?
    await expect(page).to_have_title(re.compile("选择微信用户"))
    await page.get_by_text("陈静(未绑定·安居乐负责人)").click()

    await expect(page).to_have_url(re.compile(r"/auth/bind$"))
    await page.get_by_label("信用代码").fill("91440300MA5FP0003J")
    await page.get_by_label("姓名").fill("陈静")
    await page.get_by_label("手机号").fill("13900000001")
    await page.get_by_role("button", name="获取验证码").click()
    await expect(page.get_by_text("验证码已发送至139****0001")).to_be_visible()
    await page.get_by_label("验证码").fill(await _read_sms_code(page))
    await page.get_by_role("button", name="绑定").click()

    await expect(page).to_have_url(re.compile(r"/h5/account$"))
    await expect(page.get_by_text("深圳市安居乐物业管理有限公司")).to_be_visible()
    await expect(page.get_by_text("安居乐家园")).to_be_visible()
    assert errors == []
    assert await WeChatBinding.filter(openid="oDemo0NewFollowerChenJing0001").exists()


async def test_bind_manager_in_browser_sees_only_own_project(live: LiveServer, demo: None,
                                                             browser: Browser) -> None:
    page, errors = await _phone(browser)
    await page.goto(f"{live.base_url}/h5/account")
    await page.get_by_text("刘洋(未绑定·项目经理)").click()

    await page.get_by_role("tab", name="项目经理").click()
    await expect(page.get_by_label("信用代码")).to_have_count(0)
    await page.get_by_label("姓名").fill("刘洋")
    await page.get_by_label("手机号").fill("13800000004")
    await page.get_by_role("button", name="获取验证码").click()
    await page.get_by_label("验证码").fill("000000")
    await page.get_by_role("button", name="绑定").click()
    await expect(page.get_by_text("短信验证码错误或已过期")).to_be_visible()
    await page.get_by_label("验证码").fill(await _read_sms_code(page))
    await page.get_by_role("button", name="绑定").click()

    await expect(page).to_have_url(re.compile(r"/h5/account$"))
    await expect(page.get_by_text("福景大厦")).to_be_visible()
    await expect(page.get_by_text("鹏城花园")).to_have_count(0)
    assert errors == []


async def test_leader_adds_then_deregisters_manager_in_browser(live: LiveServer, demo: None,
                                                               browser: Browser) -> None:
    """The issue's demo on a phone: 张伟 adds 孙明 to 香蜜湖公寓 in 权限管理, 孙明 binds
    and sees only that project, 张伟 deregisters him and 孙明's open page stops working."""
    leader, leader_errors = await _phone(browser)
    await leader.goto(f"{live.base_url}/h5/permissions")
    await leader.get_by_text("张伟(鹏城负责人)").click()
    await expect(leader.get_by_role("tab", name="按项目")).to_be_visible()
    await leader.get_by_text("香蜜湖公寓").click()

    await leader.get_by_label("姓名").fill("孙明")
    await leader.get_by_label("手机号").fill("13800000009")
    await leader.get_by_label("身份证号").fill("440304199001011233")
    await leader.get_by_text("共有资金").click()  # untick one of the pre-ticked modules
    await leader.get_by_role("button", name="提交").click()
    await expect(leader.get_by_text("添加成功")).to_be_visible()
    await expect(leader.locator("main")).to_contain_text("香蜜湖公寓")

    manager_context = await browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    manager = await manager_context.new_page()
    await manager.goto(f"{live.base_url}/h5/account")
    await manager.get_by_text("孙明(待登记·新项目经理 13800000009)").click()
    await manager.get_by_role("tab", name="项目经理").click()
    await manager.get_by_label("姓名").fill("孙明")
    await manager.get_by_label("手机号").fill("13800000009")
    await manager.get_by_role("button", name="获取验证码").click()
    await manager.get_by_label("验证码").fill(await _read_sms_code(manager))
    await manager.get_by_role("button", name="绑定").click()
    await expect(manager.locator("main")).to_contain_text("香蜜湖公寓")
    await expect(manager.get_by_text("鹏城花园")).to_have_count(0)
    await expect(manager.get_by_text("共有资金")).to_have_count(0)

    await leader.get_by_role("button", name="注销该项目经理").click()
    await leader.get_by_role("dialog").get_by_role("link", name="确定", exact=True).click()
    await expect(leader.get_by_text("已注销")).to_be_visible()

    await manager.reload()
    await expect(manager).to_have_title(re.compile("选择微信用户"))  # sent back to sign in
    assert leader_errors == []
