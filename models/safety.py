"""Safety checks (安全检查, F11): tasks the officers issue, one assignment per project.

A SafetyCheckTask (the platform's SecurityCheckTask) holds the ordered check items; each project
it is issued to gets a SafetyCheckAssignment (SecurityCheckArea) that the enterprise fills in:
one result per item (正常 / 存在问题, remark) and photos. The enterprise is copied onto the
assignment when the task is issued, so that a project changing hands later never shows the
former enterprise's answers to the new one.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.enterprises import Enterprise
    from models.officers import Officer
    from models.people import Person
    from models.projects import Project


class AssignmentStatus(StrEnum):
    OPEN = "open"  # 待提交 (a draft may be saved)
    SUBMITTED = "submitted"  # 已提交, read-only from then on
    ENDED = "ended"  # 已结束: the deadline passed unsubmitted

    @property
    def label(self) -> str:
        return {"open": "待提交", "submitted": "已提交", "ended": "已结束"}[self.value]


class ItemResult(StrEnum):
    OK = "ok"  # 正常
    PROBLEM = "problem"  # 存在问题

    @property
    def label(self) -> str:
        return {"ok": "正常", "problem": "存在问题"}[self.value]


class SafetyCheckTask(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=100)  # Theme
    description = fields.TextField(default="")  # Describe
    items: list[str] = fields.JSONField(default=list)
    deadline = fields.DatetimeField(db_index=True)  # EndTime
    issued_by: fields.ForeignKeyRelation[Officer] = fields.ForeignKeyField(
        "models.Officer", related_name="safety_tasks", on_delete=fields.RESTRICT)
    # The issuing officer's district ("" for the city), which bounds who may follow it.
    district = fields.CharField(max_length=20, default="", db_index=True)
    # The site address its messages link to, fixed when issued: the reminder job that sends
    # later runs without settings.
    link_base = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "safety_check_task"


class SafetyCheckAssignment(Model):
    id = fields.IntField(primary_key=True)
    task: fields.ForeignKeyRelation[SafetyCheckTask] = fields.ForeignKeyField(
        "models.SafetyCheckTask", related_name="assignments", on_delete=fields.CASCADE)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="safety_assignments", on_delete=fields.RESTRICT)
    enterprise: fields.ForeignKeyRelation[Enterprise] = fields.ForeignKeyField(
        "models.Enterprise", related_name="safety_assignments", on_delete=fields.RESTRICT)
    status = fields.CharEnumField(AssignmentStatus, max_length=16,
                                  default=AssignmentStatus.OPEN, db_index=True)
    # Copied from the task so that the overdue job and the tabs need no join.
    deadline = fields.DatetimeField(db_index=True)
    overdue = fields.BooleanField(default=False)
    problem_count = fields.IntField(default=0)  # items answered 存在问题, set on submission
    draft_saved_at = fields.DatetimeField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    submitted_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="safety_submissions", null=True,
        on_delete=fields.SET_NULL)
    ended_at = fields.DatetimeField(null=True)
    reminded_at = fields.DatetimeField(null=True)  # the one-day reminder was queued
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "safety_check_assignment"
        unique_together = (("task", "project"),)
        indexes = (("enterprise_id", "status"), ("status", "deadline"))


class SafetyCheckResult(Model):
    """The answer to one check item of one assignment (draft or submitted)."""

    id = fields.IntField(primary_key=True)
    assignment: fields.ForeignKeyRelation[SafetyCheckAssignment] = fields.ForeignKeyField(
        "models.SafetyCheckAssignment", related_name="results", on_delete=fields.CASCADE)
    item_index = fields.IntField()  # position in task.items
    result = fields.CharEnumField(ItemResult, max_length=16, null=True)
    remark = fields.CharField(max_length=500, default="")

    class Meta:
        table = "safety_check_result"
        unique_together = (("assignment", "item_index"),)


class SafetyCheckPhoto(Model):
    """A photo of one check item, already resized for the phone (JPEG)."""

    id = fields.IntField(primary_key=True)
    assignment: fields.ForeignKeyRelation[SafetyCheckAssignment] = fields.ForeignKeyField(
        "models.SafetyCheckAssignment", related_name="photos", on_delete=fields.CASCADE)
    item_index = fields.IntField()
    stored_name = fields.CharField(max_length=64)  # core.uploads name under upload_dir
    width = fields.IntField()
    height = fields.IntField()
    size_bytes = fields.IntField()
    uploaded_by: fields.ForeignKeyNullableRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="safety_photos", null=True, on_delete=fields.SET_NULL)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "safety_check_photo"
        indexes = (("assignment_id", "item_index"),)
