"""The enterprise's 共有资金 pages: the summary, masked account numbers, records paged and
filtered by month with totals exact to the cent, and scoping by role and enterprise."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from auth_helpers import h5_client
from safety_support import (
    LEADER,
    MANAGER,
    OTHER_MANAGER,
    project_id,
)

from actions.audit import Actor
from actions.clock import now
from actions.funds import build_fund_workbook, do_import_fund_data, format_yuan
from conftest import LiveServer
from core.localtime import local, month_bounds
from models.funds import CommonFundAccount

NUMBER = "6228480012345678901"


def _cells(html: str) -> dict[str, str]:
    """Row label → value of the WeUI cells on a page."""
    pairs = re.findall(r'<div class="weui-cell__bd">\s*<p>([^<]+?)\s*</p>.*?'
                       r'<div class="weui-cell__ft">([^<]*)</div>', html, re.S)
    return {label.strip(): value.strip() for label, value in pairs}


async def _import_xiangmihu(income_count: int = 23) -> tuple[datetime, datetime]:
    """香蜜湖公寓's account: 1,000.01 last month; this month `income_count` × 0.10 in and
    2 × 0.05 out. Returns (a time this month, a time last month)."""
    at = now()
    this_start, _ = month_bounds(local(at).year, local(at).month)
    last = this_start - timedelta(days=2)
    rows: list[list[object]] = [["EA440304004", "L-1", local(last).strftime("%Y-%m-%d %H:%M"),
                                 "收入", "1000.01", "1000.01", "上月停车收益"]]
    balance = 100001
    step = (at - this_start) / (income_count + 3)
    for i in range(income_count + 2):
        when = local(this_start + step * (i + 1)).strftime("%Y-%m-%d %H:%M:%S")
        income = i < income_count
        balance += 10 if income else -5
        rows.append(["EA440304004", f"T-{i:03d}", when, "收入" if income else "支出",
                     0.1 if income else "0.05", format_yuan(balance), f"第{i + 1}笔"])
    account = ["EA440304004", "中国农业银行深圳香蜜湖支行", "香蜜湖公寓业主大会", NUMBER,
               "共管账户", "正常", format_yuan(balance), local(at).strftime("%Y-%m-%d %H:%M")]
    await do_import_fund_data(Actor.system(), build_fund_workbook([account], rows), None)
    return at, last


async def test_list_funds_leader_sees_every_project_with_summary(
        live: LiveServer, demo: None) -> None:
    await _import_xiangmihu()
    async with h5_client(live, LEADER) as c:
        r = await c.get("/h5/funds")
    assert r.status_code == 200
    cells = _cells(r.text)
    assert cells["物业项目数"] == "4"  # 鹏城's own projects; the subsidiary's are not its funds
    assert (cells["基本账户数"], cells["共管账户数"], cells["未开设/未登记"]) == ("2", "2", "0")
    balances = {a.project_id: a.balance_cents  # type: ignore[attr-defined]
                for a in await CommonFundAccount.filter(
                    project__code__in=["EA440304001", "EA440304002", "EA440304003",
                                       "EA440304004"])}
    assert cells["余额合计（元）"] == format_yuan(sum(balances.values()))
    for name in ("鹏城花园", "莲花苑", "福景大厦", "香蜜湖公寓"):
        assert cells[name] == format_yuan(balances[await project_id(name)])
    assert "南山海岸花园" not in r.text and "安居乐家园" not in r.text


async def test_list_funds_manager_sees_only_their_projects(live: LiveServer, demo: None) -> None:
    async with h5_client(live, MANAGER) as c:
        r = await c.get("/h5/funds")
        other = await c.get(f"/h5/funds/{await project_id('福景大厦')}")
    cells = _cells(r.text)
    assert cells["物业项目数"] == "2"
    assert "鹏城花园" in cells and "莲花苑" in cells and "福景大厦" not in r.text
    assert other.status_code == 404


async def test_show_fund_account_masks_number_and_totals_exact_to_the_cent(
        live: LiveServer, demo: None) -> None:
    await _import_xiangmihu()
    async with h5_client(live, LEADER) as c:
        r = await c.get(f"/h5/funds/{await project_id('香蜜湖公寓')}")
        second = await c.get(f"/h5/funds/{await project_id('香蜜湖公寓')}?page=2")
    assert r.status_code == 200
    cells = _cells(r.text)
    assert cells["账号"] == "**** **** **** 8901"
    assert NUMBER not in r.text and NUMBER[:-4] not in r.text
    assert cells["余额（元）"] == "1,002.21"
    # 23 × 0.10 in floats would be 2.3000000000000003: cents keep it 2.30.
    totals = (cells["收入（元）"], cells["支出（元）"], cells["净额（元）"])
    assert totals == ("2.30", "0.10", "2.20")
    assert "共25笔" in r.text and "1 / 2" in r.text
    assert r.text.count("+0.10") + r.text.count("-0.05") == 20
    assert second.text.count("+0.10") + second.text.count("-0.05") == 5
    assert "上月停车收益" not in r.text


async def test_show_fund_account_filtered_by_month(live: LiveServer, demo: None) -> None:
    _, last = await _import_xiangmihu(income_count=2)
    month = local(last).strftime("%Y-%m")
    async with h5_client(live, LEADER) as c:
        r = await c.get(f"/h5/funds/{await project_id('香蜜湖公寓')}?month={month}")
        every = await c.get(f"/h5/funds/{await project_id('香蜜湖公寓')}?month=all")
    cells = _cells(r.text)
    assert "上月停车收益" in r.text and "第1笔" not in r.text
    assert (cells["收入（元）"], cells["支出（元）"]) == ("1,000.01", "0.00")
    every_cells = _cells(every.text)
    assert (every_cells["收入（元）"], every_cells["支出（元）"]) == ("1,000.21", "0.10")


async def test_fund_routes_of_another_enterprise_not_found(live: LiveServer, demo: None) -> None:
    async with h5_client(live, OTHER_MANAGER) as c:
        page = await c.get(f"/h5/funds/{await project_id('鹏城花园')}")
        listing = await c.get("/h5/funds")
        own = await c.get(f"/h5/funds/{await project_id('安居乐家园')}")
    assert page.status_code == 404
    assert "鹏城花园" not in listing.text and "安居乐家园" in listing.text
    assert own.status_code == 200 and "**** **** **** 1045" in own.text
