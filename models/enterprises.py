"""Property-service enterprises (物业服务企业) and their subsidiaries (下属分公司)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Enterprise(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    # 统一社会信用代码: 18 characters, the enterprise's identity for binding and registration.
    credit_code = fields.CharField(max_length=18, unique=True)
    parent: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="subsidiaries", null=True, on_delete=fields.RESTRICT)
    district = fields.CharField(max_length=20, default="", db_index=True)  # 区, e.g. 福田区
    is_local = fields.BooleanField(default=True)  # 是否本地企业
    legal_rep = fields.CharField(max_length=50, default="")  # 企业法人
    contact_phone = fields.CharField(max_length=20, default="")  # 联系电话
    office_phone = fields.CharField(max_length=20, default="")  # 办公电话
    established_on = fields.DateField(null=True)  # 成立日期
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "enterprise"
        # A leader's subsidiaries, looked up on every project list (PostgreSQL does not index
        # foreign keys by itself).
        indexes = (("parent_id",),)

    def __str__(self) -> str:
        return self.name
