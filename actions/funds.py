"""Common funds (F12): the officers' xlsx import, and money as integer cents.

The file format is documented in docs/funds-import.md: a sheet 账户 (one row per project's
account) and a sheet 收支明细 (its income and expense records). Every row is checked first; a
file with any bad row imports nothing and the report names each bad row. Importing the same
file again changes nothing: accounts are keyed by project, records by the bank's serial number.
The demo data is loaded through this very import.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import itertools
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from tortoise.transactions import in_transaction

from core.localtime import SHANGHAI, parse_local
from models.audit import AuditEntry
from models.funds import AccountStatus, AccountType, CommonFundAccount, Direction, FundTransaction
from models.projects import Project

from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError

ACCOUNTS_SHEET = "账户"
RECORDS_SHEET = "收支明细"
ACCOUNT_COLUMNS = ("项目编号", "开户银行", "户名", "账号", "账户类型", "账户状态", "余额(元)",
                   "数据日期")
RECORD_COLUMNS = ("项目编号", "流水号", "交易时间", "收支", "金额(元)", "交易后余额(元)", "摘要")
MAX_ROWS = 50_000
_TYPES = {"基本账户": AccountType.BASIC, "1": AccountType.BASIC, "共管账户": AccountType.JOINT,
          "2": AccountType.JOINT, "未开设": AccountType.NOT_OPENED, "3": AccountType.NOT_OPENED}
_STATUSES = {"": AccountStatus.ACTIVE, "正常": AccountStatus.ACTIVE, "1": AccountStatus.ACTIVE,
             "停用": AccountStatus.DISABLED, "2": AccountStatus.DISABLED}
_DIRECTIONS = {"收入": Direction.INCOME, "贷": Direction.INCOME, "+": Direction.INCOME,
               "支出": Direction.EXPENSE, "借": Direction.EXPENSE, "-": Direction.EXPENSE}


# -- money --------------------------------------------------------------------------------------

def parse_yuan(value: object) -> int | None:
    """Yuan with at most two decimals → integer cents; None when it is not such an amount.
    A float cell goes through its shortest repr: 0.1 stays 0.1, never 0.1000000000000000055."""
    if value is None or isinstance(value, bool):
        return None
    text = repr(value) if isinstance(value, float) else str(value)
    text = text.strip().replace(",", "").replace("¥", "").replace("￥", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return int(amount * 100)


def format_yuan(cents: int) -> str:
    """12345678 → "123,456.78"; exact, no float on the way."""
    sign = "-" if cents < 0 else ""
    whole, fen = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{fen:02d}"


def mask_account_number(number: str) -> str:
    """Every digit hidden but the last four; the length is hidden too."""
    digits = "".join(c for c in number if c.isalnum())
    return f"**** **** **** {digits[-4:]}" if digits else ""


# -- the report ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # the spreadsheet's row number, as the officer sees it
    message: str


class FundImportRefused(ActionError):
    """A file with bad rows: nothing was imported; `errors` names each bad row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("fund_import_invalid",
                         f"文件中有{len(errors)}处错误，未导入任何数据，请改正后重新上传。")
        self.errors = errors


@dataclass
class FundImportReport:
    accounts: int = 0
    records_new: int = 0
    records_updated: int = 0


@dataclass
class _Account:
    row: int
    project: Project
    bank: str
    account_name: str
    account_number: str
    account_type: AccountType
    status: AccountStatus
    balance_cents: int
    as_of: datetime


@dataclass
class _Record:
    row: int
    code: str
    serial: str
    trans_at: datetime
    direction: Direction
    amount_cents: int
    balance_after_cents: int
    summary: str


@dataclass
class _Parsed:
    accounts: dict[str, _Account] = field(default_factory=dict)
    records: list[_Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


# -- reading the file ---------------------------------------------------------------------------

def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an account number typed as a number
    return str(value).strip()


def _when(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=SHANGHAI) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=SHANGHAI)
    text = _text(value)
    if len(text) == 10:
        text += " 00:00"
    return parse_local(text)


def read_workbook(content: bytes) -> dict[str, list[tuple[int, tuple[Any, ...]]]]:
    """Rows of both sheets as (row number, cells), headers checked. Sync: run in a thread."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ActionError("fund_import_file", "文件不是有效的 Excel（.xlsx）文件。") from exc
    sheets: dict[str, list[tuple[int, tuple[Any, ...]]]] = {}
    try:
        for name, columns in ((ACCOUNTS_SHEET, ACCOUNT_COLUMNS), (RECORDS_SHEET, RECORD_COLUMNS)):
            if name not in book.sheetnames:
                raise ActionError("fund_import_sheet",
                                  f"文件缺少工作表“{name}”，请使用下载的模板。")
            rows = book[name].iter_rows(values_only=True)
            header = tuple(_text(c) for c in next(rows, ()))[: len(columns)]
            if header != columns:
                raise ActionError("fund_import_header",
                                  f"工作表“{name}”的表头应为：{'、'.join(columns)}。")
            kept: list[tuple[int, tuple[Any, ...]]] = []
            for number, cells in enumerate(rows, start=2):
                padded = (tuple(cells) + (None,) * len(columns))[: len(columns)]
                if any(_text(c) for c in padded):
                    kept.append((number, padded))
                if len(kept) > MAX_ROWS:
                    raise ActionError("fund_import_size", f"每个工作表最多{MAX_ROWS}行。")
            sheets[name] = kept
    finally:
        book.close()
    return sheets


def _check_account(number: int, cells: tuple[Any, ...], projects: dict[str, Project],
                   parsed: _Parsed) -> None:
    code, bank, name, account_no, kind, status, balance, as_of = cells
    code = _text(code)
    problems: list[str] = []
    project = projects.get(code)
    if not code:
        problems.append("项目编号不能为空")
    elif project is None:
        problems.append(f"项目编号 {code} 不存在或不在您的辖区")
    elif code in parsed.accounts:
        problems.append(f"项目编号 {code} 重复（与第{parsed.accounts[code].row}行）")
    account_type = _TYPES.get(_text(kind))
    if account_type is None:
        problems.append("账户类型应为 基本账户、共管账户 或 未开设")
    account_status = _STATUSES.get(_text(status))
    if account_status is None:
        problems.append("账户状态应为 正常 或 停用")
    digits = _text(account_no).replace(" ", "")
    if account_type in (AccountType.BASIC, AccountType.JOINT):
        if not _text(bank) or not _text(name):
            problems.append("已开设的账户须填写开户银行和户名")
        if not (digits.isdigit() and 8 <= len(digits) <= 32):
            problems.append("账号应为8至32位数字")
    cents = parse_yuan(balance)
    if cents is None or cents < 0:
        problems.append("余额应为不小于0、最多两位小数的金额")
    when = _when(as_of)
    if when is None:
        problems.append("数据日期应为日期，如 2026-11-30 或 2026-11-30 18:00")
    elif when > now():
        problems.append("数据日期不能晚于现在")
    if problems:
        parsed.errors.append(RowError(ACCOUNTS_SHEET, number, "；".join(problems)))
        return
    assert project is not None and account_type is not None and account_status is not None
    assert cents is not None and when is not None
    parsed.accounts[code] = _Account(number, project, _text(bank), _text(name), digits,
                                     account_type, account_status, cents, when)


def _check_record(number: int, cells: tuple[Any, ...], parsed: _Parsed,
                  seen: dict[tuple[str, str], int]) -> None:
    code, serial, when_cell, direction_cell, amount, balance, summary = cells
    code, serial = _text(code), _text(serial)
    problems: list[str] = []
    account = parsed.accounts.get(code)
    if account is None:
        problems.append(f"项目编号 {code or '（空）'} 在“{ACCOUNTS_SHEET}”工作表中没有正确的账户行")
    elif account.account_type == AccountType.NOT_OPENED:
        problems.append("未开设的账户不能有收支记录")
    if not serial or len(serial) > 64:
        problems.append("流水号不能为空，且不超过64个字符")
    elif (code, serial) in seen:
        problems.append(f"流水号 {serial} 重复（与第{seen[(code, serial)]}行）")
    when = _when(when_cell)
    if when is None:
        problems.append("交易时间应为日期时间，如 2026-11-03 10:20")
    elif when > now():
        problems.append("交易时间不能晚于现在")
    direction = _DIRECTIONS.get(_text(direction_cell))
    if direction is None:
        problems.append("收支应为 收入 或 支出")
    cents = parse_yuan(amount)
    if cents is None or cents <= 0:
        problems.append("金额应为大于0、最多两位小数的金额")
    after = parse_yuan(balance)
    if after is None:
        problems.append("交易后余额应为最多两位小数的金额")
    if len(_text(summary)) > 200:
        problems.append("摘要不能超过200个字")
    if problems:
        parsed.errors.append(RowError(RECORDS_SHEET, number, "；".join(problems)))
        return
    assert when is not None and direction is not None and cents is not None and after is not None
    seen[(code, serial)] = number
    parsed.records.append(_Record(number, code, serial, when, direction, cents, after,
                                  _text(summary)))


def _check_balances(parsed: _Parsed) -> None:
    """Each record's balance follows from the one before (贷 +, 借 −), to the cent, and the
    account's balance is its latest record's."""
    by_code: dict[str, list[_Record]] = defaultdict(list)
    for record in parsed.records:
        by_code[record.code].append(record)
    for code, records in by_code.items():
        records.sort(key=lambda r: (r.trans_at, r.row))
        for before, record in itertools.pairwise(records):
            sign = 1 if record.direction == Direction.INCOME else -1
            expected = before.balance_after_cents + sign * record.amount_cents
            if record.balance_after_cents != expected:
                parsed.errors.append(RowError(
                    RECORDS_SHEET, record.row,
                    f"交易后余额应为 {format_yuan(expected)}（上一笔第{before.row}行余额 "
                    f"{format_yuan(before.balance_after_cents)} {'+' if sign > 0 else '−'} "
                    f"金额 {format_yuan(record.amount_cents)}）"))
        account = parsed.accounts[code]
        latest = records[-1]
        if account.balance_cents != latest.balance_after_cents:
            parsed.errors.append(RowError(
                ACCOUNTS_SHEET, account.row,
                f"余额应与最后一笔收支记录（第{latest.row}行）的交易后余额 "
                f"{format_yuan(latest.balance_after_cents)} 一致"))


async def check_fund_file(content: bytes, district: str | None) -> _Parsed:
    """Every row of the file checked; `district` limits the projects (None: the whole city)."""
    sheets = await asyncio.to_thread(read_workbook, content)
    codes = {_text(cells[0]) for _, cells in sheets[ACCOUNTS_SHEET]} - {""}
    query = Project.filter(code__in=codes, enterprise_id__isnull=False)
    if district is not None:
        query = query.filter(district=district)
    projects = {p.code: p for p in await query}
    parsed = _Parsed()
    for number, cells in sheets[ACCOUNTS_SHEET]:
        _check_account(number, cells, projects, parsed)
    seen: dict[tuple[str, str], int] = {}
    for number, cells in sheets[RECORDS_SHEET]:
        _check_record(number, cells, parsed, seen)
    if not parsed.errors:
        _check_balances(parsed)
    if not parsed.accounts and not parsed.errors:
        parsed.errors.append(RowError(ACCOUNTS_SHEET, 2, "文件中没有账户数据"))
    parsed.errors.sort(key=lambda e: (e.sheet != ACCOUNTS_SHEET, e.row))
    return parsed


# -- writing ------------------------------------------------------------------------------------

async def do_import_fund_data(actor: Actor, content: bytes,
                              district: str | None) -> FundImportReport:
    """All or nothing: accounts upserted by project, records by serial, one audit entry for
    the file and one per account (for the enterprise's own trail)."""
    parsed = await check_fund_file(content, district)
    if parsed.errors:
        raise FundImportRefused(parsed.errors)
    report = FundImportReport(accounts=len(parsed.accounts))
    imported_at = now()
    async with in_transaction() as conn:
        existing = {a.project_id: a for a in await CommonFundAccount.filter(  # type: ignore[attr-defined]
            project_id__in=[a.project.id for a in parsed.accounts.values()]).using_db(conn)}
        audits: list[AuditEntry] = []
        accounts: dict[str, CommonFundAccount] = {}
        for code, row in parsed.accounts.items():
            values = {"bank": row.bank, "account_name": row.account_name,
                      "account_number": row.account_number, "account_type": row.account_type,
                      "status": row.status, "balance_cents": row.balance_cents,
                      "updated_at": row.as_of, "imported_at": imported_at}
            account = existing.get(row.project.id)
            old = {"balance_cents": account.balance_cents} if account else None
            if account is None:
                account = await CommonFundAccount.create(project=row.project, **values,
                                                         using_db=conn)
            else:
                await account.update_from_dict(values).save(using_db=conn)
            accounts[code] = account
            audits.append(AuditEntry(
                actor_type=actor.kind, actor_id=actor.id, actor_name=actor.name,
                enterprise_id=row.project.enterprise_id,  # type: ignore[attr-defined]
                event="funds.account_imported", subject_type="fund_account",
                subject_id=account.id, old=old,
                new={"balance_cents": row.balance_cents, "type": int(row.account_type)}))
        await AuditEntry.bulk_create(audits, batch_size=1000, using_db=conn)
        report.records_new, report.records_updated = await _upsert_records(
            conn, parsed.records, accounts)
        await record_audit(conn, actor, "funds.imported", "fund_import", None,
                           new={"sha256": hashlib.sha256(content).hexdigest(),
                                "accounts": report.accounts, "records_new": report.records_new,
                                "records_updated": report.records_updated})
    return report


async def _upsert_records(conn: Any, records: Sequence[_Record],
                          accounts: dict[str, CommonFundAccount]) -> tuple[int, int]:
    known: dict[tuple[int, str], FundTransaction] = {}
    account_ids = [a.id for a in accounts.values()]
    serials = list({r.serial for r in records})
    for start in range(0, len(serials), 1000):
        chunk = serials[start:start + 1000]
        for found in await FundTransaction.filter(account_id__in=account_ids,
                                                  serial__in=chunk).using_db(conn):
            known[(found.account_id, found.serial)] = found  # type: ignore[attr-defined]
    new: list[FundTransaction] = []
    changed: list[FundTransaction] = []
    for r in records:
        account = accounts[r.code]
        values = {"trans_at": r.trans_at, "direction": r.direction, "amount_cents": r.amount_cents,
                  "balance_after_cents": r.balance_after_cents, "summary": r.summary}
        tx = known.get((account.id, r.serial))
        if tx is None:
            new.append(FundTransaction(account_id=account.id, serial=r.serial, **values))
        elif any(getattr(tx, k) != v for k, v in values.items()):
            tx.update_from_dict(values)
            changed.append(tx)
    if new:
        await FundTransaction.bulk_create(new, batch_size=1000, using_db=conn)
    if changed:
        await FundTransaction.bulk_update(changed, fields=list(values), batch_size=1000,
                                          using_db=conn)
    return len(new), len(changed)


# -- building files (the template, the demo data) -----------------------------------------------

def build_fund_workbook(accounts: Iterable[Sequence[object]] = (),
                        records: Iterable[Sequence[object]] = ()) -> bytes:
    """An import file: the two sheets with their headers and the given rows. With no rows it
    is the blank template officers download. Sync: run in a thread."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = ACCOUNTS_SHEET
    sheet.append(list(ACCOUNT_COLUMNS))
    for row in accounts:
        sheet.append(list(row))
    records_sheet = book.create_sheet(RECORDS_SHEET)
    records_sheet.append(list(RECORD_COLUMNS))
    for row in records:
        records_sheet.append(list(row))
    for ws, widths in ((sheet, (14, 22, 28, 24, 10, 10, 14, 18)),
                       (records_sheet, (14, 22, 18, 8, 14, 16, 30))):
        for index, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
