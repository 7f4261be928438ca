"""Property projects (物业项目, the platform's EaArea)."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.enterprises import Enterprise
    from models.people import Person


class ProjectType(IntEnum):
    """ProjecType of the Shenzhen platform."""

    RESIDENTIAL = 1
    COMMERCIAL = 2
    MIXED_RESIDENTIAL = 3
    OFFICE = 4
    MIXED_OFFICE = 5
    OTHER = 99

    @property
    def label(self) -> str:
        return {1: "住宅物业", 2: "商业物业", 3: "商住一体", 4: "写字楼", 5: "商写一体",
                99: "其他"}[self.value]


class ProjectStatus(StrEnum):
    MANAGED = "managed"  # 在管
    UNMANAGED = "unmanaged"  # 无在管企业 (removed from management)


class Project(Model):
    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)  # EaAreaCode
    name = fields.CharField(max_length=200, db_index=True)  # EaAreaName
    address = fields.CharField(max_length=300, default="")
    district = fields.CharField(max_length=20, default="", db_index=True)  # 区 (Canton)
    street = fields.CharField(max_length=50, default="")  # 街道办
    community = fields.CharField(max_length=50, default="")  # 社区
    project_type = fields.IntEnumField(ProjectType, default=ProjectType.RESIDENTIAL)
    # The managing enterprise (RealtyMngOrg); null when no enterprise manages it.
    enterprise: fields.ForeignKeyNullableRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="projects", null=True, on_delete=fields.RESTRICT)
    # 项目经理: at most one per project, enforced by this single column.
    manager: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="managed_projects", null=True, on_delete=fields.SET_NULL)
    status = fields.CharEnumField(ProjectStatus, max_length=16, default=ProjectStatus.MANAGED)
    build_area = fields.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    total_house_num = fields.IntField(default=0)  # 户数
    managed_since = fields.DateField(null=True)  # 进驻日期
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "project"
        # The project list (an enterprise's managed projects by name) and a manager's projects;
        # PostgreSQL does not index foreign keys by itself (`make bench`: a scan of every
        # project in each of the list page's queries).
        indexes = (("enterprise_id", "status", "name"), ("manager_id",))

    def __str__(self) -> str:
        return self.name
