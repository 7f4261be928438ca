"""Officers load common-fund data from xlsx: validated, all or nothing, with a per-row report."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx
from auth_helpers import console_client, csrf_of
from openpyxl import load_workbook

from actions.clock import now
from actions.funds import (
    ACCOUNT_COLUMNS,
    RECORD_COLUMNS,
    build_fund_workbook,
    format_yuan,
    mask_account_number,
    parse_yuan,
)
from conftest import LiveServer
from core.localtime import local
from models.audit import AuditEntry
from models.funds import AccountType, CommonFundAccount, Direction, FundTransaction


def _days_ago(days: float) -> str:
    return local(now() - timedelta(days=days)).strftime("%Y-%m-%d %H:%M")


ACCOUNT: list[object] = ["EA440304004", "中国农业银行深圳香蜜湖支行", "香蜜湖公寓业主大会",
           "6228480012345678901", "共管账户", "正常", "1,000.30", _days_ago(1)]
RECORDS: list[list[object]] = [
    ["EA440304004", "XM-001", _days_ago(30), "收入", "1000", "1000.00", "停车场收益"],
    ["EA440304004", "XM-002", _days_ago(20), "支出", 0.1, "999.90", "照明维修"],
    ["EA440304004", "XM-003", _days_ago(10), "贷", "0.40", "1000.30", "利息"],
]


async def _upload(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    return await client.post("/console/funds", data={"csrf_token": csrf_of(client)}, files={
        "file": ("funds.xlsx", body,
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})


async def test_import_fund_data_good_file_creates_account_and_records(
        live: LiveServer, demo: None) -> None:
    body = build_fund_workbook([ACCOUNT], RECORDS)
    async with console_client(live) as c:
        r = await _upload(c, body)
        again = await _upload(c, body)
    assert r.status_code == 200 and "导入成功" in r.text and "新增收支记录 3 笔" in r.text
    # The same file again changes nothing (records keyed by serial number).
    assert "新增收支记录 0 笔" in again.text and "更新 0 笔" in again.text
    account = await CommonFundAccount.get(project__code="EA440304004")
    assert account.balance_cents == 100030 and account.account_type == AccountType.JOINT
    assert account.account_number == "6228480012345678901"
    records = await FundTransaction.filter(account_id=account.id).order_by("trans_at")
    assert [(t.direction, t.amount_cents, t.balance_after_cents) for t in records] == [
        (Direction.INCOME, 100000, 100000), (Direction.EXPENSE, 10, 99990),
        (Direction.INCOME, 40, 100030)]
    assert await AuditEntry.filter(event="funds.imported", actor_type="officer").count() == 2


async def test_import_fund_data_bad_row_imports_nothing_and_lists_each_row(
        live: LiveServer, demo: None) -> None:
    bad_account = ["EA999999999", "某银行", "户名", "", "储蓄账户", "正常", "-5", "明天"]
    short_number = ["EA440304003", "招商银行", "福景大厦业主大会", "12", "基本账户", "", "0",
                    _days_ago(1)]
    bad_records: list[list[object]] = [
        RECORDS[0],
        ["EA440304004", "XM-002", "2026-13-40", "收入", "12.345", "1000.00", ""],
        ["EA440304004", "XM-001", _days_ago(5), "转账", "0", "abc", ""],
    ]
    body = build_fund_workbook([ACCOUNT, bad_account, short_number], bad_records)
    async with console_client(live) as c:
        r = await _upload(c, body)
    assert r.status_code == 400
    assert "未导入任何数据" in r.text
    for expected in ("项目编号 EA999999999 不存在或不在您的辖区", "账户类型应为",
                     "账号应为8至32位数字", "余额应为不小于0", "数据日期应为日期",
                     "交易时间应为日期时间", "金额应为大于0、最多两位小数",
                     "流水号 XM-001 重复（与第2行）", "收支应为 收入 或 支出",
                     "交易后余额应为最多两位小数"):
        assert expected in r.text, expected
    assert "<td>账户</td><td>3</td>" in r.text and "<td>账户</td><td>4</td>" in r.text
    assert "<td>收支明细</td><td>3</td>" in r.text and "<td>收支明细</td><td>4</td>" in r.text
    assert "<td>收支明细</td><td>2</td>" not in r.text  # the good row is not listed
    # The good account row and the good record were not imported either.
    assert not await CommonFundAccount.filter(project__code="EA440304004").exists()
    assert not await FundTransaction.filter(serial__startswith="XM-").exists()


async def test_import_fund_data_balance_not_following_refused(
        live: LiveServer, demo: None) -> None:
    broken: list[list[object]] = [RECORDS[0], [*RECORDS[1][:5], "999.80", "照明维修"], RECORDS[2]]
    async with console_client(live) as c:
        r = await _upload(c, build_fund_workbook([ACCOUNT], broken))
    assert r.status_code == 400
    assert "交易后余额应为 999.90（上一笔第2行余额 1,000.00 − 金额 0.10）" in r.text
    assert not await CommonFundAccount.filter(project__code="EA440304004").exists()


async def test_import_fund_data_outside_district_refused(live: LiveServer, demo: None) -> None:
    luohu_account = ["EA440303002", "中国银行", "东门商业广场业主大会", "76346829104511",
                     "基本账户", "正常", "0", _days_ago(3)[:10]]
    async with console_client(live, "futian") as c:
        r = await _upload(c, build_fund_workbook([luohu_account]))
    assert r.status_code == 400 and "EA440303002 不存在或不在您的辖区" in r.text


async def test_import_fund_data_not_an_xlsx_refused(live: LiveServer, demo: None) -> None:
    async with console_client(live) as c:
        r = await _upload(c, b"%PDF-1.4 not a spreadsheet")
        headerless = await _upload(c, _wrong_header())
    assert r.status_code == 400 and "不是有效的 Excel" in r.text
    assert headerless.status_code == 400 and "表头应为" in headerless.text


def _wrong_header() -> bytes:
    book_bytes = build_fund_workbook()
    book = load_workbook(io.BytesIO(book_bytes))
    book["账户"]["A1"] = "小区"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_download_fund_template_has_the_documented_sheets(
        live: LiveServer, demo: None) -> None:
    async with console_client(live) as c:
        r = await c.get("/console/funds/template.xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    assert tuple(c.value for c in book["账户"][1]) == ACCOUNT_COLUMNS
    assert tuple(c.value for c in book["收支明细"][1]) == RECORD_COLUMNS
    assert book["账户"].max_row == 1  # no sample row to import by accident


def test_parse_yuan_money_exact_to_the_cent() -> None:
    assert parse_yuan("1,234.56") == 123456
    assert parse_yuan(0.1) == 10 and parse_yuan(0.29) == 29
    assert parse_yuan(1e2) == 10000 and parse_yuan(7) == 700
    assert parse_yuan("1.005") is None and parse_yuan("abc") is None
    assert parse_yuan(None) is None and parse_yuan(True) is None
    assert format_yuan(123456789) == "1,234,567.89" and format_yuan(-5) == "-0.05"


def test_mask_account_number_keeps_only_last_four() -> None:
    assert mask_account_number("6228480012345678901") == "**** **** **** 8901"
    assert mask_account_number("") == ""
