"""Reading notices: who may see which receipts, list filters, local times.

Shared by the H5 pages, the chat handlers and the actions, so that a page, a chat command and a
reply always agree on what a person may see: the leader (and handler) every receipt of their
enterprise; a project manager granted the notices module the receipts addressed to the whole
enterprise or to one of their projects; anyone else nothing.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.queryset import QuerySet

from actions.clock import now
from actions.errors import ActionError
from core.statements import Statement
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
    # A manager sees the receipts of the projects they manage; None: the whole enterprise
    # (leader, handler).
    manager_id: int | None


NO_PERMISSION = "您没有“通知消息”的权限，请联系企业负责人开通。"


async def notice_scope(person: Person) -> NoticeScope:
    """What `person` may see; refuses a manager who was not granted the notices module."""
    if not person.is_active:
        raise ActionError("not_bound", "您的账号已注销，请重新绑定身份。", 403)
    manager_id: int | None = None
    if person.role == Role.MANAGER:
        if not person.holds(Module.NOTICES):
            raise ActionError("no_permission", NO_PERMISSION, 403)
        manager_id = person.id
    return NoticeScope(person.id, person.name, person.enterprise_id,  # type: ignore[attr-defined]
                       manager_id)


def scoped_receipts(scope: NoticeScope) -> QuerySet[NoticeReceipt]:
    """Every receipt the scope may see; the one filter pages, chat and actions share."""
    query = NoticeReceipt.filter(enterprise_id=scope.enterprise_id)
    if scope.manager_id is not None:
        managed = Project.filter(manager_id=scope.manager_id).values("id")
        query = query.filter(Q(project_id=None) | Q(project_id__in=Subquery(managed)))
    return query


def _condition(which: ReceiptFilter, at: datetime | None) -> Q:
    """Which receipts a filter tab shows. The deadline is judged through a subquery on notices,
    not a join, so the same condition can count inside one aggregate (filter_counts)."""
    if which == ReceiptFilter.UNREAD:
        return Q(status=ReceiptStatus.UNREAD)
    if which == ReceiptFilter.ALL:
        return Q()
    notices = Notice.filter(reply_required=True)
    notices = (notices.filter(deadline__gt=at) if which == ReceiptFilter.TO_REPLY
               else notices.filter(deadline__lte=at))
    return Q(notice_id__in=Subquery(notices.values("id"))) & ~Q(status=ReceiptStatus.REPLIED)


def _counts(enterprise_id: int, at: datetime, manager_id: int | None = None) -> Any:
    scope = NoticeScope(0, "", enterprise_id, manager_id)
    return scoped_receipts(scope).annotate(**{
        which.value: Count("id", _filter=_condition(which, at)) for which in ReceiptFilter
    }).values(*(which.value for which in ReceiptFilter))


def _scope_values(scope: NoticeScope, **values: Any) -> dict[str, Any]:
    """The values of a scoped statement: a manager's id only for a manager (another shape)."""
    if scope.manager_id is not None:
        values["manager_id"] = scope.manager_id
    return {"enterprise_id": scope.enterprise_id, **values}


# Built once: the badges are on every notice list and in every 待办.
_COUNTS = Statement(_counts)
_DEADLINE_TABS = frozenset({ReceiptFilter.TO_REPLY, ReceiptFilter.OVERDUE})


@functools.cache
def _receipts_page(which: ReceiptFilter) -> Statement:
    def build(enterprise_id: int, offset: int, limit: int, manager_id: int | None = None,
              at: datetime | None = None) -> Any:
        scope = NoticeScope(0, "", enterprise_id, manager_id)
        return scoped_receipts(scope).filter(_condition(which, at)).select_related(
            "notice", "project").order_by("-notice__created_at", "-id").offset(offset).limit(limit)

    return Statement(build)


async def receipts_page(scope: NoticeScope, which: ReceiptFilter, offset: int,
                        limit: int) -> list[NoticeReceipt]:
    """A page of a filter tab's receipts, the newest notice first, with notice and project
    loaded: the notice list's page and the chat's `通知` (built once per tab and role)."""
    at = {"at": now()} if which in _DEADLINE_TABS else {}
    return await _receipts_page(which).models(**_scope_values(scope, offset=offset,
                                                              limit=limit, **at))


async def filter_counts(scope: NoticeScope) -> dict[ReceiptFilter, int]:
    """The badge of each filter tab, in one query (four counts were a sixth of the list page's
    time, `make bench`)."""
    row = await _COUNTS.fetch_one(**_scope_values(scope, at=now()))
    return {which: int(row.get(which.value) or 0) for which in ReceiptFilter}


def is_overdue(receipt: NoticeReceipt) -> bool:
    notice = receipt.notice
    return bool(notice.reply_required and notice.deadline and notice.deadline <= now()
                and receipt.status != ReceiptStatus.REPLIED)
