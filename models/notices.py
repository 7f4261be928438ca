"""Notices (通知消息) from the city and district centers, their receipts and replies (F5).

A notice is addressed to every enterprise, to one district's enterprises, or to chosen
enterprises (optionally to chosen projects of them). Each addressee gets one receipt: per
enterprise, or per project when projects were chosen. A 回复 notice is answered on its receipt;
every reply is kept (amendments included), the receipt shows the latest. Short numbers (编号)
let a user answer by chat (`回复 3 …`); a user's numbers never change once given.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.enterprises import Enterprise
    from models.officers import Officer
    from models.people import Person
    from models.projects import Project


class Audience(StrEnum):
    ALL = "all"  # every enterprise of the city
    DISTRICT = "district"  # the enterprises of one district
    ENTERPRISES = "enterprises"  # chosen enterprises, optionally chosen projects of them

    @property
    def label(self) -> str:
        return {"all": "全市企业", "district": "本区企业", "enterprises": "指定企业"}[self.value]


class ReceiptStatus(StrEnum):
    UNREAD = "unread"
    READ = "read"
    REPLIED = "replied"

    @property
    def label(self) -> str:
        return {"unread": "未读", "read": "已读", "replied": "已回复"}[self.value]


class Notice(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)
    content = fields.TextField()
    # 回复 (True): the addressee must answer; 不回复 (False): opening it is the answer.
    reply_required = fields.BooleanField(default=False)
    # Reply deadline (StopDate); required for a 回复 notice.
    deadline = fields.DatetimeField(null=True, db_index=True)
    publisher: fields.ForeignKeyRelation[Officer] = fields.ForeignKeyField(
        "models.Officer", related_name="notices", on_delete=fields.RESTRICT)
    publisher_unit = fields.CharField(max_length=50)  # 发布单位, e.g. 福田区物业管理中心
    audience = fields.CharEnumField(Audience, max_length=16)
    district = fields.CharField(max_length=20, default="", db_index=True)  # DISTRICT audience
    # [{"name": shown file name, "stored": stored name under upload_dir, "size": bytes}]
    attachments: list[dict[str, Any]] = fields.JSONField(default=list)
    receipt_count = fields.IntField(default=0)
    # The H5 page of the notice as pushed at publication; reminders link to it too (the
    # reminder job runs in the worker, which has no request to build URLs from).
    link = fields.CharField(max_length=300, default="")
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "notice"

    @property
    def reply_label(self) -> str:
        return "回复" if self.reply_required else "不回复"


class NoticeReceipt(Model):
    id = fields.BigIntField(primary_key=True)
    notice: fields.ForeignKeyRelation[Notice] = fields.ForeignKeyField(
        "models.Notice", related_name="receipts", on_delete=fields.CASCADE)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="notice_receipts", on_delete=fields.CASCADE)
    # Set when the notice was addressed to this project rather than the whole enterprise.
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="notice_receipts", null=True, on_delete=fields.CASCADE)
    status = fields.CharEnumField(ReceiptStatus, max_length=16, default=ReceiptStatus.UNREAD,
                                  db_index=True)
    read_at = fields.DatetimeField(null=True)
    read_by_id = fields.IntField(null=True)
    first_replied_at = fields.DatetimeField(null=True)
    replied_at = fields.DatetimeField(null=True)  # the latest reply (amendments move it)
    reply_content = fields.TextField(default="")  # the latest reply, as shown to officers
    replied_by_name = fields.CharField(max_length=50, default="")
    reply_count = fields.IntField(default=0)
    # Set by the reminder job when it claims this receipt, so it is reminded once.
    reminded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "notice_receipt"
        unique_together = (("notice", "enterprise", "project"),)
        indexes = (("enterprise_id", "status"),)


class NoticeReply(Model):
    """Every reply ever given, amendments included (the receipt holds the latest)."""

    id = fields.BigIntField(primary_key=True)
    receipt: fields.ForeignKeyRelation[NoticeReceipt] = fields.ForeignKeyField(
        "models.NoticeReceipt", related_name="replies", on_delete=fields.CASCADE)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="notice_replies", on_delete=fields.RESTRICT)
    person_name = fields.CharField(max_length=50)
    content = fields.TextField()
    via = fields.CharField(max_length=8)  # page | chat
    created_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "notice_reply"


class NoticeShortNumber(Model):
    """The 编号 a person uses for a receipt in chat: given once, never changed."""

    id = fields.BigIntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="notice_numbers", on_delete=fields.CASCADE)
    receipt: fields.ForeignKeyRelation[NoticeReceipt] = fields.ForeignKeyField(
        "models.NoticeReceipt", related_name="short_numbers", on_delete=fields.CASCADE)
    number = fields.IntField()

    class Meta:
        table = "notice_short_number"
        unique_together = (("person", "number"), ("person", "receipt"))
