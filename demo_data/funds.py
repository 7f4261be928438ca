"""Demo common-fund accounts, loaded THROUGH the officers' xlsx import (docs/funds-import.md):
last month's and this month's records for the managed demo projects, so the 共有资金 pages
show balances, a month filter and totals. Re-loading is idempotent (accounts by project,
records by serial number)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from actions.audit import Actor
from actions.clock import now
from actions.funds import build_fund_workbook, do_import_fund_data, format_yuan
from core.localtime import local, month_bounds

# (project code, bank, account name, account number, type, opening balance in cents);
# 香蜜湖公寓 has no account registered at all.
ACCOUNTS = (
    ("EA440304001", "中国工商银行深圳福田支行", "鹏城花园业主大会", "4000021309200456781",
     "共管账户", 128_650_00),
    ("EA440304002", "中国建设银行深圳莲花支行", "莲花苑业主大会", "44250100002309871234",
     "基本账户", 56_320_45),
    ("EA440304003", "招商银行深圳福华支行", "福景大厦业主大会", "755912345610802",
     "基本账户", 310_000_00),
    ("EA440305001", "平安银行深圳海德支行", "南山海岸花园业主大会", "15000098765432",
     "共管账户", 402_118_30),
    ("EA440303001", "中国银行深圳东门支行", "安居乐家园业主大会", "763468291045",
     "基本账户", 88_900_00),
    ("EA440303002", "", "", "", "未开设", 0),
)
# (day of month, income?, amount in cents, summary): the same pattern each month.
RECORDS = (
    (2, True, 12_800_00, "停车场共有部分收益"),
    (5, True, 3_600_00, "电梯轿厢广告收益"),
    (8, False, 4_250_50, "公共区域照明维修"),
    (12, True, 2_000_00, "通信基站场地使用费"),
    (16, False, 1_180_25, "业主大会会议费用"),
    (20, True, 96_37, "账户利息"),
    (25, False, 6_500_00, "消防设施维保"),
)


def _months() -> list[tuple[int, int]]:
    today = local(now())
    last = today.replace(day=1) - timedelta(days=1)
    return [(last.year, last.month), (today.year, today.month)]


def _rows() -> tuple[list[list[object]], list[list[object]]]:
    accounts: list[list[object]] = []
    records: list[list[object]] = []
    at = now()
    for code, bank, name, number, kind, opening in ACCOUNTS:
        balance = opening
        if kind != "未开设":
            for year, month in _months():
                start, _ = month_bounds(year, month)
                for day, income, cents, summary in RECORDS:
                    when: datetime = start.replace(day=day, hour=10)
                    if when > at:
                        break
                    balance += cents if income else -cents
                    records.append([code, f"{code}-{year}{month:02d}-{day:02d}",
                                    when.strftime("%Y-%m-%d %H:%M"), "收入" if income else "支出",
                                    format_yuan(cents), format_yuan(balance), summary])
        accounts.append([code, bank, name, number, kind, "正常", format_yuan(balance),
                         local(at).strftime("%Y-%m-%d %H:%M")])
    return accounts, records


async def load(enterprises: dict[str, Any], people: dict[str, Any]) -> None:
    accounts, records = _rows()
    content = await asyncio.to_thread(build_fund_workbook, accounts, records)
    await do_import_fund_data(Actor.system(), content, None)
