"""What a project's detail page shows beyond its basic info (F3's tabs).

从业人员 (staff on the project), 物业公司 (the service contract with the managing enterprise),
业主委员会 and its members (主任, 执行秘书, 监事 ...), 党支部, 业主情况, 电子投票 (votes with the
platform's VoteState) and 设施设备. Field names follow the Shenzhen platform's (EaArea*,
OwnerCommitteeMember, Vote, EaFacility); values the sources do not give are placeholders.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.projects import Project


class ProjectEmployee(Model):
    """A member of the enterprise's staff working on the project (从业人员)."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="employees", on_delete=fields.CASCADE)
    project_id: int
    name = fields.CharField(max_length=50)
    post = fields.CharField(max_length=50, default="")  # 岗位, e.g. 项目经理, 客服主管
    mobile = fields.CharField(max_length=11, default="")
    certificate = fields.CharField(max_length=100, default="")  # 证书类型
    started_on = fields.DateField(null=True)  # 入职日期

    class Meta:
        table = "project_employee"


class ServiceContract(Model):
    """The property-service contract behind the 物业公司 tab (EaAreaProperty's service group)."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "models.Project", related_name="service_contract", on_delete=fields.CASCADE)
    project_id: int
    service_type = fields.CharField(max_length=30, default="")  # ServiceType, e.g. 包干制
    contract_start = fields.DateField(null=True)
    contract_end = fields.DateField(null=True)
    service_price = fields.CharField(max_length=100, default="")  # 收费标准, e.g. 3.2元/㎡·月
    collection_rate = fields.DecimalField(max_digits=5, decimal_places=2, null=True)  # 收缴率 %
    service_phone = fields.CharField(max_length=20, default="")  # RealtyManageCall

    class Meta:
        table = "project_service_contract"


class OwnersCommittee(Model):
    """业主委员会 of a project."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "models.Project", related_name="owners_committee", on_delete=fields.CASCADE)
    project_id: int
    name = fields.CharField(max_length=100)  # CommitteesName
    phone = fields.CharField(max_length=20, default="")  # CommitteesCall
    filing_number = fields.CharField(max_length=50, default="")  # 备案号
    term_start = fields.DateField(null=True)
    term_end = fields.DateField(null=True)

    class Meta:
        table = "owners_committee"


class CommitteeRole(StrEnum):
    DIRECTOR = "director"
    DEPUTY = "deputy"
    MEMBER = "member"
    SECRETARY = "secretary"
    SUPERVISOR = "supervisor"

    @property
    def label(self) -> str:
        return {"director": "主任", "deputy": "副主任", "member": "委员",
                "secretary": "执行秘书", "supervisor": "监事"}[self.value]


class CommitteeMember(Model):
    """OwnerCommitteeMember: a member, the executive secretary or a supervisor."""

    id = fields.IntField(primary_key=True)
    committee: fields.ForeignKeyRelation[OwnersCommittee] = fields.ForeignKeyField(
        "models.OwnersCommittee", related_name="members", on_delete=fields.CASCADE)
    committee_id: int
    name = fields.CharField(max_length=50)
    role = fields.CharEnumField(CommitteeRole, max_length=16)
    phone = fields.CharField(max_length=20, default="")
    house = fields.CharField(max_length=50, default="")  # HouseCode, e.g. 3栋1201
    political_status = fields.CharField(max_length=20, default="")  # 政治面貌
    suspended = fields.BooleanField(default=False)

    class Meta:
        table = "owners_committee_member"


class PartyBranch(Model):
    """党支部 of a project (no platform fields were found: placeholders)."""

    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "models.Project", related_name="party_branch", on_delete=fields.CASCADE)
    project_id: int
    name = fields.CharField(max_length=100)
    secretary = fields.CharField(max_length=50, default="")  # 支部书记
    member_count = fields.IntField(default=0)
    phone = fields.CharField(max_length=20, default="")
    established_on = fields.DateField(null=True)

    class Meta:
        table = "party_branch"


class ProjectOwner(Model):
    """One owner of a house in the project (EaOwner + EaHouse), for 业主情况."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="owners", on_delete=fields.CASCADE)
    project_id: int
    name = fields.CharField(max_length=50)
    house = fields.CharField(max_length=50)  # 栋/房号
    area = fields.DecimalField(max_digits=10, decimal_places=2, default=0)  # 建筑面积 ㎡
    phone = fields.CharField(max_length=20, default="")
    moved_in = fields.BooleanField(default=True)  # 入住

    class Meta:
        table = "project_owner"


class VoteState(IntEnum):
    """VoteState of the platform's 电子投票."""

    VOTING = 3  # 正在表决
    OBJECTION = 4  # 询异: results visible, voting closed
    DONE = 5  # 已完成

    @property
    def label(self) -> str:
        return {3: "正在表决", 4: "询异", 5: "已完成"}[self.value]


class Vote(Model):
    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="votes", on_delete=fields.CASCADE)
    project_id: int
    title = fields.CharField(max_length=200)  # VoteTitle 议题内容
    intro = fields.TextField(default="")  # DetailIntro
    range_intro = fields.CharField(max_length=200, default="")  # 投票范围
    begin_at = fields.DatetimeField()
    end_at = fields.DatetimeField()
    state = fields.IntEnumField(VoteState, default=VoteState.VOTING)
    voted_houses = fields.IntField(default=0)  # ballots cast so far

    class Meta:
        table = "project_vote"


class Facility(Model):
    """EaFacility + WYFacilityEx: one piece of equipment of the project."""

    id = fields.IntField(primary_key=True)
    project: fields.ForeignKeyRelation[Project] = fields.ForeignKeyField(
        "models.Project", related_name="facilities", on_delete=fields.CASCADE)
    project_id: int
    name = fields.CharField(max_length=100)  # FacilityName
    facility_type = fields.CharField(max_length=30)  # 电梯, 消防, 供水 ...
    brand = fields.CharField(max_length=50, default="")
    position = fields.CharField(max_length=100, default="")
    register_number = fields.CharField(max_length=50, default="")  # 注册编号
    maintainer = fields.CharField(max_length=100, default="")  # 维保单位
    next_inspection = fields.DateField(null=True)  # DateDue
    enabled = fields.BooleanField(default=True)

    class Meta:
        table = "project_facility"
