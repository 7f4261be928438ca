"""People of the enterprises and their WeChat bindings.

A person is a leader (企业负责人), a handler (企业经办人) or a project manager (项目经理). One
openid binds one person and one person one openid: both columns are unique.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.enterprises import Enterprise


class Role(StrEnum):
    LEADER = "leader"
    HANDLER = "handler"
    MANAGER = "manager"

    @property
    def label(self) -> str:
        return {"leader": "企业负责人", "handler": "企业经办人", "manager": "项目经理"}[self.value]


class PersonStatus(StrEnum):
    ACTIVE = "active"
    DEREGISTERED = "deregistered"


class Module(StrEnum):
    """Modules a leader may grant a project manager (F2)."""

    NOTICES = "notices"
    SAFETY = "safety"
    FUNDS = "funds"
    PROJECT_INFO = "project_info"
    DISCLOSURE = "disclosure"
    EVALUATION = "evaluation"

    @property
    def label(self) -> str:
        return MODULE_LABELS[self]


MODULE_LABELS: dict[Module, str] = {
    Module.NOTICES: "通知消息",
    Module.SAFETY: "安全检查",
    Module.FUNDS: "共有资金",
    Module.PROJECT_INFO: "项目信息",
    Module.DISCLOSURE: "信息公开",
    Module.EVALUATION: "物业服务评价",
}


class Person(Model):
    id = fields.IntField(primary_key=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="people", on_delete=fields.RESTRICT)
    role = fields.CharEnumField(Role, max_length=16)
    name = fields.CharField(max_length=50)
    mobile = fields.CharField(max_length=11, db_index=True)
    id_number = fields.CharField(max_length=18, default="")  # 身份证号, managers
    # Modules granted to a project manager; leaders and handlers hold every module.
    modules: list[str] = fields.JSONField(default=list)
    status = fields.CharEnumField(PersonStatus, max_length=16, default=PersonStatus.ACTIVE)
    created_at = fields.DatetimeField(auto_now_add=True)
    deregistered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "person"

    @property
    def is_active(self) -> bool:
        return self.status == PersonStatus.ACTIVE

    def holds(self, module: Module | str) -> bool:
        return self.role != Role.MANAGER or str(module) in self.modules


class WeChatBinding(Model):
    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    person: fields.OneToOneRelation[Person] = fields.OneToOneField(
        "models.Person", related_name="binding", on_delete=fields.CASCADE)
    bound_at = fields.DatetimeField(auto_now_add=True)
    # Unsubscribing stops pushes but keeps the binding (F1).
    following = fields.BooleanField(default=True)
    unfollowed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "wechat_binding"
