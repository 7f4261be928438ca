"""`待办` (and the menu's 待办 button): what the person still has to do, with links."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Subquery
from tortoise.functions import Count

from actions.notice_queries import ReceiptFilter, filter_counts, notice_scope
from bot.bot_request import BotRequest
from core.statements import Statement
from handlers.notices import bound_person
from models.applications import Application, ApplicationStatus
from models.people import Module, Person, Role
from models.projects import Project
from models.safety import AssignmentStatus, SafetyCheckAssignment


def _open_safety_checks_query(enterprise_id: int, manager_id: int | None = None) -> Any:
    query = SafetyCheckAssignment.filter(enterprise_id=enterprise_id,
                                         status=AssignmentStatus.OPEN)
    if manager_id is not None:
        # A subquery, not a join: tortoise would group the count by every column of a join.
        managed = Project.filter(manager_id=manager_id).values("id")
        query = query.filter(project_id__in=Subquery(managed))
    return query.annotate(n=Count("id")).values("n")


def _returned_applications_query(enterprise_id: int, applicant_id: int | None = None) -> Any:
    query = Application.filter(enterprise_id=enterprise_id, status=ApplicationStatus.RETURNED)
    if applicant_id is not None:
        query = query.filter(applicant_id=applicant_id)
    return query.annotate(n=Count("id")).values("n")


# Built once per role: `待办` is the menu's busiest button.
_OPEN_SAFETY_CHECKS = Statement(_open_safety_checks_query)
_RETURNED_APPLICATIONS = Statement(_returned_applications_query)


async def _count(statement: Statement, person: Person, manager_key: str) -> int:
    """A count over the person's enterprise, a manager's own share of it under `manager_key`."""
    values = {"enterprise_id": person.enterprise_id}  # type: ignore[attr-defined]
    if person.role == Role.MANAGER:
        values[manager_key] = person.id
    row = await statement.fetch_one(**values)
    return int(row.get("n") or 0)


async def show_todo(req: BotRequest) -> str:
    person = await bound_person(req)
    lines = ["您的待办："]
    if person.holds(Module.NOTICES):
        counts = await filter_counts(await notice_scope(person))
        to_reply, unread = counts[ReceiptFilter.TO_REPLY], counts[ReceiptFilter.UNREAD]
        lines.append(f"· 待回复通知 {to_reply} 条，未读通知 {unread} 条："
                     f"{req.link('/h5/notices?filter=to_reply')}")
    if person.holds(Module.SAFETY):
        safety = await _count(_OPEN_SAFETY_CHECKS, person, "manager_id")
        lines.append(f"· 待提交安全检查 {safety} 项：{req.link('/h5/safety')}")
    returned = await _count(_RETURNED_APPLICATIONS, person, "applicant_id")
    link = req.link("/h5/applications?status=returned")
    lines.append(f"· 待补充资料的申请 {returned} 件：{link}")
    lines.append("发送“通知”查看最新通知及编号。")
    return "\n".join(lines)
