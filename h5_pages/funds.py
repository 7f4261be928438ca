"""共有资金 pages (F12): every visible project's common-fund account with a city-style summary
(accounts by type, total balance), and one account's income and expense records, paged and
filtered by month, with totals exact to the cent. The account number is always masked but for
its last four digits. A leader sees every project of the enterprise, a manager granted 共有资金
those of their projects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse
from tortoise.functions import Sum

from actions.clock import now
from actions.funds import format_yuan, mask_account_number
from auth_binding.access import Viewer, h5_page, project_or_404
from core.localtime import fmt_minute, local, month_bounds
from core.pages import render
from models.funds import AccountType, CommonFundAccount, Direction, FundTransaction
from models.people import Module
from models.projects import Project

bp = Blueprint("h5_funds", url_prefix="/h5")

PAGE_SIZE = 20
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class AccountRow:
    project: Project
    account: CommonFundAccount | None

    @property
    def type_label(self) -> str:
        return self.account.account_type.label if self.account else "未登记"


@bp.get("/funds")
@h5_page(module=Module.FUNDS)
async def funds_list(request: Request, viewer: Viewer) -> HTTPResponse:
    projects = await viewer.projects().order_by("name", "id")
    accounts = {a.project_id: a for a in await CommonFundAccount.filter(  # type: ignore[attr-defined]
        project_id__in=[p.id for p in projects])}
    rows = [AccountRow(p, accounts.get(p.id)) for p in projects]
    by_type = {t: sum(1 for a in accounts.values() if a.account_type == t) for t in AccountType}
    summary = {
        "projects": len(projects),
        "basic": by_type[AccountType.BASIC],
        "joint": by_type[AccountType.JOINT],
        "not_opened": by_type[AccountType.NOT_OPENED] + len(projects) - len(accounts),
        "total": format_yuan(sum(a.balance_cents for a in accounts.values())),
    }
    return render(request, "funds/list.html", viewer=viewer, rows=rows, summary=summary,
                  yuan=format_yuan)


def _month(request: Request) -> tuple[int, int] | None:
    """The month asked for ("2026-11"), this month by default, None for every month."""
    asked = request.args.get("month", "")
    if asked == "all":
        return None
    match = _MONTH.match(asked)
    if match and 1 <= int(match.group(2)) <= 12 and 2000 <= int(match.group(1)) <= 2100:
        return int(match.group(1)), int(match.group(2))
    today = local(now())
    return today.year, today.month


async def _totals(query: Any) -> dict[str, int]:
    totals = {d.value: 0 for d in Direction}
    for row in await query.annotate(total=Sum("amount_cents")).group_by("direction").values(
            "direction", "total"):
        totals[str(row["direction"])] = int(row["total"] or 0)
    return totals


@bp.get("/funds/<project_id:int>")
@h5_page(module=Module.FUNDS)
async def fund_account(request: Request, viewer: Viewer, project_id: int) -> HTTPResponse:
    project = await project_or_404(viewer, project_id)
    account = await CommonFundAccount.filter(project_id=project.id).first()
    month = _month(request)
    month_value = f"{month[0]:04d}-{month[1]:02d}" if month else "all"
    records: list[FundTransaction] = []
    totals = {d.value: 0 for d in Direction}
    page, pages, count = 1, 1, 0
    if account is not None:
        query = FundTransaction.filter(account_id=account.id)
        if month:
            start, end = month_bounds(*month)
            query = query.filter(trans_at__gte=start, trans_at__lt=end)
        count = await query.count()
        totals = await _totals(query)
        pages = max(1, -(-count // PAGE_SIZE))
        asked = request.args.get("page", "1")
        page = min(max(1, int(asked) if asked.isdigit() else 1), pages)
        records = await query.order_by("-trans_at", "-id").offset(
            (page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    return render(
        request, "funds/account.html", viewer=viewer, project=project, account=account,
        masked=mask_account_number(account.account_number) if account else "",
        records=records, count=count, page=page, pages=pages, month=month_value,
        income=format_yuan(totals[Direction.INCOME.value]),
        expense=format_yuan(totals[Direction.EXPENSE.value]),
        net=format_yuan(totals[Direction.INCOME.value] - totals[Direction.EXPENSE.value]),
        yuan=format_yuan, fmt=fmt_minute)
