"""Applications (申请) of every kind, their review trail and their attachments.

One table for every kind (project add/attach/remove/edit, good-info declarations, objections,
enterprise registration): the kind's own fields live in `payload`, and `actions.applications`
is the one state machine that moves `status`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.enterprises import Enterprise
    from models.people import Person
    from models.projects import Project


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"  # 待受理
    ACCEPTED = "accepted"  # 受理中
    APPROVED = "approved"  # 通过
    REJECTED = "rejected"  # 不通过
    RETURNED = "returned"  # 待补充资料
    WITHDRAWN = "withdrawn"  # 已撤回

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


STATUS_LABELS: dict[ApplicationStatus, str] = {
    ApplicationStatus.SUBMITTED: "待受理",
    ApplicationStatus.ACCEPTED: "受理中",
    ApplicationStatus.APPROVED: "通过",
    ApplicationStatus.REJECTED: "不通过",
    ApplicationStatus.RETURNED: "待补充资料",
    ApplicationStatus.WITHDRAWN: "已撤回",
}
OPEN_STATUSES = frozenset({ApplicationStatus.SUBMITTED, ApplicationStatus.ACCEPTED,
                           ApplicationStatus.RETURNED})


class Application(Model):
    id = fields.IntField(primary_key=True)
    # A kind registered with `actions.applications.register_kind` (e.g. "project_add").
    kind = fields.CharField(max_length=32, db_index=True)
    number = fields.CharField(max_length=32, unique=True)  # 业务编号
    status = fields.CharEnumField(ApplicationStatus, max_length=16,
                                  default=ApplicationStatus.SUBMITTED, db_index=True)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="applications", on_delete=fields.RESTRICT)
    enterprise_id: int
    applicant: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="applications", on_delete=fields.RESTRICT)
    applicant_id: int
    # The project it concerns (attach/remove/edit), or the one its approval created (add).
    project: fields.ForeignKeyNullableRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="applications", null=True, on_delete=fields.SET_NULL)
    project_id: int | None
    title = fields.CharField(max_length=200)  # what the lists and the template message show
    # The district that reviews it and whose staff may see it (the project's district).
    district = fields.CharField(max_length=20, default="", db_index=True)
    payload: dict[str, Any] = fields.JSONField(default=dict)
    # 重新新增: the rejected application this one was made from.
    resubmitted_from: fields.ForeignKeyNullableRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="resubmissions", null=True,
        on_delete=fields.SET_NULL)
    resubmitted_from_id: int | None
    last_opinion = fields.TextField(default="")
    submitted_at = fields.DatetimeField()
    decided_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "application"
        indexes = (("enterprise_id", "status"),)


class ApplicationEvent(Model):
    """One step of an application's trail: who moved it from what to what, and why."""

    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="events", on_delete=fields.CASCADE)
    application_id: int
    transition = fields.CharField(max_length=16)  # submit | accept | approve | ...
    from_status = fields.CharEnumField(ApplicationStatus, max_length=16, null=True)
    to_status = fields.CharEnumField(ApplicationStatus, max_length=16)
    opinion = fields.TextField(default="")  # 审核意见, or the applicant's note
    actor_type = fields.CharField(max_length=16)  # person | officer
    actor_id = fields.IntField(null=True)
    actor_name = fields.CharField(max_length=50, default="")
    created_at = fields.DatetimeField()

    class Meta:
        table = "application_event"


class AttachmentPurpose(StrEnum):
    MATERIAL = "material"  # 附件材料
    CONTRACT = "contract"  # 物业服务合同

    @property
    def label(self) -> str:
        return {"material": "附件材料", "contract": "物业服务合同"}[self.value]


class Attachment(Model):
    id = fields.IntField(primary_key=True)
    application: fields.ForeignKeyRelation[Application] = fields.ForeignKeyField(
        "models.Application", related_name="attachments", on_delete=fields.CASCADE)
    application_id: int
    purpose = fields.CharEnumField(AttachmentPurpose, max_length=16,
                                   default=AttachmentPurpose.MATERIAL)
    stored_name = fields.CharField(max_length=64, unique=True)  # core.uploads.StoredUpload
    display_name = fields.CharField(max_length=120)
    kind = fields.CharField(max_length=8)
    mime = fields.CharField(max_length=100)
    size = fields.IntField()
    sha256 = fields.CharField(max_length=64)
    uploaded_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="uploads", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField()

    class Meta:
        table = "application_attachment"
