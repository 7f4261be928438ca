"""A project manager answers a safety check on a phone-size screen in headless Chromium: opens
the check the template message links to, picks 正常 / 存在问题, writes a remark, adds a photo
and submits; the page then shows it read-only (F11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from safety_support import assignment_of, issue, jpeg

from conftest import PHONE, LiveServer
from models.safety import AssignmentStatus, SafetyCheckAssignment

pytestmark = pytest.mark.browser



async def test_submit_safety_check_on_phone_with_photo(live: LiveServer, demo: None,
                                                      browser: Browser, tmp_path: Path) -> None:
    task = await issue(live, ["鹏城花园"])
    assignment = await assignment_of(task, "鹏城花园")
    photo = tmp_path / "site.jpg"
    photo.write_bytes(jpeg(2000, 1500))
    page = await browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    errors: list[object] = []
    page.on("pageerror", lambda error: errors.append(error))

    await page.goto(f"{live.base_url}/h5/safety/{assignment.id}")
    await page.get_by_text("王强(鹏城项目经理)").click()  # the sandbox's authorize page
    await expect(page).to_have_url(re.compile(rf"/h5/safety/{assignment.id}$"))

    items = page.locator("section.safety-item")
    await expect(items).to_have_count(3)
    for index in range(3):
        await items.nth(index).get_by_label("正常").check()
    await items.nth(1).get_by_label("存在问题").check()
    await items.nth(1).get_by_label("备注").fill("雨水井堵塞，已安排清理")
    await items.nth(1).locator('input[type="file"]').set_input_files(str(photo))
    await page.get_by_role("button", name="提交").click()
    await page.get_by_text("确定").click()  # 提交后不能再修改，确认提交吗？

    await expect(page.get_by_text("雨水井堵塞，已安排清理")).to_be_visible()
    await expect(page.locator('input[type="radio"]')).to_have_count(0)
    await expect(page.locator("section.safety-item img")).to_have_count(1)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]  # nothing wider than the phone
    assert errors == []
    fresh = await SafetyCheckAssignment.get(id=assignment.id)
    assert fresh.status == AssignmentStatus.SUBMITTED and fresh.problem_count == 1
