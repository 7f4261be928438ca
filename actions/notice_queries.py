"""Reading notices: who may see which receipts, list filters, local times.

Shared by the H5 pages, the chat handlers and the actions, so that a page, a chat command and a
reply always agree on what a person may see: the leader (and handler) every receipt of their
enterprise; a project manager granted the notices module the receipts addressed to the whole
enterprise or to one of their projects; anyone else nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.queryset import QuerySet

from actions.clock import now
from actions.errors import ActionError
from models.notices import Notice, NoticeReceipt, ReceiptStatus
from models.people import Module, Person, Role
from models.projects import Project

REMIND_BEFORE = timedelta(days=1)


class ReceiptFilter(StrEnum):
    ALL = "all"
    UNREAD = "unread"
    TO_REPLY = "to_reply"
    OVERDUE = "overdue"

    @property
    def label(self) -> str:
        return {"all": "全部", "unread": "未读", "to_reply": "待回复", "overdue": "已逾期"}[
            self.value]


@dataclass(frozen=True)
class NoticeScope:
    person_id: int
    person_name: str
    enterprise_id: int
    # None: the whole enterprise (leader, handler); otherwise the manager's projects.
    project_ids: frozenset[int] | None

    def covers(self, receipt: NoticeReceipt) -> bool:
        if receipt.enterprise_id != self.enterprise_id:  # type: ignore[attr-defined]
            return False
        project_id = receipt.project_id  # type: ignore[attr-defined]
        return self.project_ids is None or project_id is None or project_id in self.project_ids


NO_PERMISSION = "您没有“通知消息”的权限，请联系企业负责人开通。"


async def notice_scope(person: Person) -> NoticeScope:
    """What `person` may see; refuses a manager who was not granted the notices module."""
    if not person.is_active:
        raise ActionError("not_bound", "您的账号已注销，请重新绑定身份。", 403)
    project_ids: frozenset[int] | None = None
    if person.role == Role.MANAGER:
        if not person.holds(Module.NOTICES):
            raise ActionError("no_permission", NO_PERMISSION, 403)
        managed: list[Any] = await Project.filter(manager_id=person.id).values_list(
            "id", flat=True)
        project_ids = frozenset(int(p) for p in managed)
    return NoticeScope(person.id, person.name, person.enterprise_id,  # type: ignore[attr-defined]
                       project_ids)


def scoped_receipts(scope: NoticeScope) -> QuerySet[NoticeReceipt]:
    query = NoticeReceipt.filter(enterprise_id=scope.enterprise_id)
    if scope.project_ids is not None:
        query = query.filter(Q(project_id=None) | Q(project_id__in=list(scope.project_ids)))
    return query


def filtered(query: QuerySet[NoticeReceipt], which: ReceiptFilter) -> QuerySet[NoticeReceipt]:
    if which == ReceiptFilter.UNREAD:
        return query.filter(status=ReceiptStatus.UNREAD)
    if which == ReceiptFilter.ALL:
        return query
    at = now()
    notices = Notice.filter(reply_required=True)
    notices = (notices.filter(deadline__gt=at) if which == ReceiptFilter.TO_REPLY
               else notices.filter(deadline__lte=at))
    return query.filter(notice_id__in=Subquery(notices.values("id"))).exclude(
        status=ReceiptStatus.REPLIED)


async def filter_counts(scope: NoticeScope) -> dict[ReceiptFilter, int]:
    """The badge of each filter tab."""
    base = scoped_receipts(scope)
    return {which: await filtered(base, which).count() for which in ReceiptFilter}


def is_overdue(receipt: NoticeReceipt) -> bool:
    notice = receipt.notice
    return bool(notice.reply_required and notice.deadline and notice.deadline <= now()
                and receipt.status != ReceiptStatus.REPLIED)
