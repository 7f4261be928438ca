"""The transactional outbox: every message the product sends to WeChat users.

A row is written in the same transaction as the change that caused it; the worker claims,
sends and records the outcome. The row id is WeChat's `client_msg_id`, so a row is never
delivered twice even when a worker dies between sending and recording.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxKind(StrEnum):
    TEMPLATE = "template"
    CUSTOM_TEXT = "custom_text"  # customer-service message (e.g. a late callback reply)


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for (another) try
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"  # accepted by WeChat (delivery reported later by TEMPLATESENDJOBFINISH)
    NOT_FOLLOWING = "not_following"  # 43004: the user does not follow the account
    DEAD = "dead"  # gave up after the last try, or refused for good (e.g. 47003)

    @property
    def label(self) -> str:
        return {"pending": "待发送", "sending": "发送中", "sent": "已发送",
                "not_following": "用户未关注", "dead": "发送失败"}[self.value]


class OutboxMessage(Model):
    id = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(OutboxKind, max_length=16)
    openid = fields.CharField(max_length=64, db_index=True)
    person_id = fields.IntField(null=True)
    template_key = fields.CharField(max_length=32, default="")  # settings.TEMPLATE_KEYS
    # Template fields, already cut to WeChat's limits.
    data: dict[str, Any] = fields.JSONField(default=dict)
    url = fields.CharField(max_length=1024, default="")
    text = fields.TextField(default="")  # customer-service text
    # What caused it, e.g. ("application", 12), so an officer can see deliveries per subject.
    subject_type = fields.CharField(max_length=32, default="", db_index=True)
    subject_id = fields.BigIntField(null=True)
    # A reminder or other once-only message carries a key; the unique index makes it once.
    dedupe_key = fields.CharField(max_length=128, null=True, unique=True)
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING,
                                  db_index=True)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    claimed_by = fields.CharField(max_length=64, default="")
    last_errcode = fields.IntField(null=True)
    last_error = fields.CharField(max_length=300, default="")
    wechat_msgid = fields.BigIntField(null=True, db_index=True)
    delivery_status = fields.CharField(max_length=64, default="")  # TEMPLATESENDJOBFINISH
    created_at = fields.DatetimeField(auto_now_add=True)
    sent_at = fields.DatetimeField(null=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("subject_type", "subject_id"), ("status", "next_attempt_at"))
