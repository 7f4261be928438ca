"""Callback de-duplication kept in the database, for when Redis is unreachable."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CallbackReceipt(Model):
    id = fields.BigIntField(primary_key=True)
    # MsgId for messages, FromUserName + CreateTime (+ Event) for events.
    dedupe_key = fields.CharField(max_length=160, unique=True)
    reply = fields.TextField(null=True)  # the reply the first delivery got
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "callback_receipt"
