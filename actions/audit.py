"""Audit entries, written by every action inside its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from models.audit import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a person, an officer, WeChat itself (events) or the system."""

    kind: str  # person | officer | wechat | system
    id: int | None = None
    name: str = ""
    enterprise_id: int | None = None

    @classmethod
    def system(cls) -> Actor:
        return cls("system", name="系统")


async def record_audit(
    conn: BaseDBAsyncClient,
    actor: Actor,
    event: str,
    subject_type: str,
    subject_id: int | None,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    enterprise_id: int | None = None,
) -> AuditEntry:
    return await AuditEntry.create(
        actor_type=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        enterprise_id=enterprise_id if enterprise_id is not None else actor.enterprise_id,
        event=event,
        subject_type=subject_type,
        subject_id=subject_id,
        old=old,
        new=new,
        using_db=conn,
    )
