"""City and district officers, who sign in to the console with a password."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class OfficerRole(StrEnum):
    CITY = "city"  # 市经办人
    DISTRICT = "district"  # 区中心

    @property
    def label(self) -> str:
        return {"city": "市经办人", "district": "区中心"}[self.value]


class Officer(Model):
    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=50, unique=True)
    password_hash = fields.CharField(max_length=200)  # argon2
    name = fields.CharField(max_length=50)
    role = fields.CharEnumField(OfficerRole, max_length=16)
    district = fields.CharField(max_length=20, default="")  # district staff only
    active = fields.BooleanField(default=True)
    failed_logins = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "officer"
