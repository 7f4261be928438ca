"""The audit trail: who changed what, when, with old and new values."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    id = fields.BigIntField(primary_key=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_type = fields.CharField(max_length=16)  # person | officer | wechat | system
    actor_id = fields.IntField(null=True)
    actor_name = fields.CharField(max_length=50, default="")
    # The enterprise the change belongs to, so that its people can be shown their own trail.
    enterprise_id = fields.IntField(null=True, db_index=True)
    event = fields.CharField(max_length=64, db_index=True)
    subject_type = fields.CharField(max_length=32)
    subject_id = fields.BigIntField(null=True)
    old: dict[str, Any] | None = fields.JSONField(null=True)
    new: dict[str, Any] | None = fields.JSONField(null=True)

    class Meta:
        table = "audit_entry"
        indexes = (("subject_type", "subject_id"),)
