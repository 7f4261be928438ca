"""`待办` (and the menu's 待办 button): what the person still has to do, with links."""

from __future__ import annotations

from actions.notice_queries import ReceiptFilter, filter_counts, notice_scope
from bot.bot_request import BotRequest
from handlers.notices import bound_person
from models.applications import Application, ApplicationStatus
from models.people import Module, Person, Role
from models.safety import AssignmentStatus, SafetyCheckAssignment


async def _open_safety_checks(person: Person) -> int | None:
    """None when the person may not see safety checks at all."""
    if not person.holds(Module.SAFETY):
        return None
    query = SafetyCheckAssignment.filter(enterprise_id=person.enterprise_id,  # type: ignore[attr-defined]
                                         status=AssignmentStatus.OPEN)
    if person.role == Role.MANAGER:
        query = query.filter(project__manager_id=person.id)
    return await query.count()


async def _applications_to_supplement(person: Person) -> int:
    query = Application.filter(enterprise_id=person.enterprise_id,  # type: ignore[attr-defined]
                               status=ApplicationStatus.RETURNED)
    if person.role == Role.MANAGER:
        query = query.filter(applicant_id=person.id)
    return await query.count()


async def show_todo(req: BotRequest) -> str:
    person = await bound_person(req)
    lines = ["您的待办："]
    if person.holds(Module.NOTICES):
        counts = await filter_counts(await notice_scope(person))
        to_reply, unread = counts[ReceiptFilter.TO_REPLY], counts[ReceiptFilter.UNREAD]
        lines.append(f"· 待回复通知 {to_reply} 条，未读通知 {unread} 条："
                     f"{req.link('/h5/notices?filter=to_reply')}")
    safety = await _open_safety_checks(person)
    if safety is not None:
        lines.append(f"· 待提交安全检查 {safety} 项：{req.link('/h5/safety')}")
    returned = await _applications_to_supplement(person)
    link = req.link("/h5/applications?status=returned")
    lines.append(f"· 待补充资料的申请 {returned} 件：{link}")
    lines.append("发送“通知”查看最新通知及编号。")
    return "\n".join(lines)
