"""Demo data: named enterprises, people, projects, officers and sandbox followers.

Loading is idempotent (every row is found by its natural key before it is created), so
`make run` can load it on every start. It seeds the database directly, as a fixture loader
does, instead of going through the actions: there is no actor to audit and no message to send.
Later areas add their own demo rows in `demo_data/<area>.py`, called from `load_demo`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from argon2 import PasswordHasher

from models.enterprises import Enterprise
from models.officers import Officer, OfficerRole
from models.people import Module, Person, Role, WeChatBinding
from models.projects import Project, ProjectType
from settings import Settings

ALL_MODULES = [m.value for m in Module]
DEMO_OFFICER_PASSWORD = "demo-officer-2026"  # noqa: S105  (printed by make run, sandbox only)


@dataclass(frozen=True)
class DemoEnterprise:
    key: str
    name: str
    credit_code: str
    district: str
    legal_rep: str
    parent: str | None = None


@dataclass(frozen=True)
class DemoPerson:
    key: str
    enterprise: str
    role: Role
    name: str
    mobile: str
    id_number: str = ""
    modules: tuple[str, ...] = ()
    openid: str | None = None  # bound to this openid when set


@dataclass(frozen=True)
class DemoProject:
    code: str
    name: str
    enterprise: str | None
    district: str
    street: str
    address: str
    manager: str | None = None
    project_type: ProjectType = ProjectType.RESIDENTIAL
    build_area: str = "0"
    houses: int = 0


@dataclass(frozen=True)
class DemoFollower:
    """A WeChat user of the sandbox: follows the account, may or may not be bound."""

    openid: str
    nickname: str
    person: str | None  # the DemoPerson key this follower is (bound or about to bind)


ENTERPRISES = (
    DemoEnterprise("pengcheng", "深圳市鹏城物业服务有限公司", "91440300MA5FP0001C", "福田区",
                   "张伟"),
    DemoEnterprise("pengcheng_nanshan", "深圳市鹏城物业服务有限公司南山分公司",
                   "91440300MA5FP0002F", "南山区", "黄敏", parent="pengcheng"),
    DemoEnterprise("anjule", "深圳市安居乐物业管理有限公司", "91440300MA5FP0003J", "罗湖区",
                   "陈静"),
)

PEOPLE = (
    DemoPerson("zhangwei", "pengcheng", Role.LEADER, "张伟", "13800000001",
               openid="oDemo0LeaderZhangWei00000001"),
    DemoPerson("lina", "pengcheng", Role.HANDLER, "李娜", "13800000002"),
    DemoPerson("wangqiang", "pengcheng", Role.MANAGER, "王强", "13800000003",
               id_number="440304198001011239", modules=tuple(ALL_MODULES),
               openid="oDemo0ManagerWangQiang000003"),
    DemoPerson("liuyang", "pengcheng", Role.MANAGER, "刘洋", "13800000004",
               id_number="440303198502022343", modules=("notices", "safety")),
    DemoPerson("huangmin", "pengcheng_nanshan", Role.LEADER, "黄敏", "13700000001",
               openid="oDemo0LeaderHuangMin00000001"),
    DemoPerson("chenjing", "anjule", Role.LEADER, "陈静", "13900000001"),
    DemoPerson("zhaolei", "anjule", Role.MANAGER, "赵磊", "13900000002",
               id_number="440305199003033459", modules=tuple(ALL_MODULES),
               openid="oDemo0ManagerZhaoLei00000002"),
)

PROJECTS = (
    DemoProject("EA440304001", "鹏城花园", "pengcheng", "福田区", "莲花街道",
                "福田区莲花路1001号", manager="wangqiang", build_area="86000.50", houses=820),
    DemoProject("EA440304002", "莲花苑", "pengcheng", "福田区", "莲花街道", "福田区红荔路2002号",
                manager="wangqiang", build_area="42000.00", houses=410),
    DemoProject("EA440304003", "福景大厦", "pengcheng", "福田区", "福田街道", "福田区福华路33号",
                manager="liuyang", project_type=ProjectType.OFFICE, build_area="53000.00"),
    DemoProject("EA440304004", "香蜜湖公寓", "pengcheng", "福田区", "香蜜湖街道",
                "福田区香蜜湖路8号", build_area="21000.00", houses=260),
    DemoProject("EA440305001", "南山海岸花园", "pengcheng_nanshan", "南山区", "粤海街道",
                "南山区海德三道66号", build_area="98000.00", houses=960),
    DemoProject("EA440303001", "安居乐家园", "anjule", "罗湖区", "东门街道", "罗湖区东门北路18号",
                manager="zhaolei", build_area="64000.00", houses=700),
    DemoProject("EA440303002", "东门商业广场", "anjule", "罗湖区", "东门街道",
                "罗湖区解放路200号", project_type=ProjectType.COMMERCIAL, build_area="37000.00"),
    DemoProject("EA440304009", "梅林一村", None, "福田区", "梅林街道", "福田区梅林路9号",
                build_area="120000.00", houses=1300),
)

OFFICERS = (
    ("city", "周敏", OfficerRole.CITY, ""),
    ("futian", "吴刚", OfficerRole.DISTRICT, "福田区"),
    ("luohu", "孙丽", OfficerRole.DISTRICT, "罗湖区"),
)

# Followers of the sandbox's account. Bound ones chat at once; the others try binding.
FOLLOWERS = (
    DemoFollower("oDemo0LeaderZhangWei00000001", "张伟(鹏城负责人)", "zhangwei"),
    DemoFollower("oDemo0ManagerWangQiang000003", "王强(鹏城项目经理)", "wangqiang"),
    DemoFollower("oDemo0LeaderHuangMin00000001", "黄敏(南山分公司负责人)", "huangmin"),
    DemoFollower("oDemo0ManagerZhaoLei00000002", "赵磊(安居乐项目经理)", "zhaolei"),
    DemoFollower("oDemo0NewFollowerLiNa00000002", "李娜(未绑定·经办人)", "lina"),
    DemoFollower("oDemo0NewFollowerLiuYang00004", "刘洋(未绑定·项目经理)", "liuyang"),
    DemoFollower("oDemo0NewFollowerChenJing0001", "陈静(未绑定·安居乐负责人)", "chenjing"),
    DemoFollower("oDemo0NewFollowerGuest0000001", "访客(未绑定)", None),
    # Not yet registered: 张伟 adds 孙明 (13800000009) as manager of 香蜜湖公寓 in 权限管理,
    # then this follower binds as him (issue 3's demo).
    DemoFollower("oDemo0NewFollowerSunMing00009", "孙明(待登记·新项目经理 13800000009)", None),
)


async def load_demo(settings: Settings) -> str:
    enterprises: dict[str, Enterprise] = {}
    for e in ENTERPRISES:
        parent = enterprises[e.parent] if e.parent else None
        enterprises[e.key], _ = await Enterprise.get_or_create(
            credit_code=e.credit_code,
            defaults={"name": e.name, "district": e.district, "legal_rep": e.legal_rep,
                      "parent": parent, "contact_phone": "0755-8" + e.credit_code[-7:-1],
                      "established_on": date(2008, 6, 18)})

    people: dict[str, Person] = {}
    for p in PEOPLE:
        enterprise = enterprises[p.enterprise]
        person = await Person.filter(enterprise=enterprise, mobile=p.mobile).first()
        if person is None:
            modules = ALL_MODULES if p.role != Role.MANAGER else list(p.modules)
            person = await Person.create(enterprise=enterprise, role=p.role, name=p.name,
                                         mobile=p.mobile, id_number=p.id_number, modules=modules)
        people[p.key] = person
        if p.openid and not await WeChatBinding.filter(person=person).exists():
            await WeChatBinding.get_or_create(openid=p.openid, defaults={"person": person})

    for pr in PROJECTS:
        if await Project.filter(code=pr.code).exists():
            continue
        await Project.create(
            code=pr.code, name=pr.name, district=pr.district, street=pr.street,
            address=pr.address, project_type=pr.project_type,
            enterprise=enterprises[pr.enterprise] if pr.enterprise else None,
            manager=people[pr.manager] if pr.manager else None,
            build_area=Decimal(pr.build_area), total_house_num=pr.houses,
            managed_since=date(2015, 3, 1) if pr.enterprise else None)

    hasher = PasswordHasher()
    for username, name, role, district in OFFICERS:
        if not await Officer.filter(username=username).exists():
            await Officer.create(username=username, name=name, role=role, district=district,
                                 password_hash=hasher.hash(DEMO_OFFICER_PASSWORD))

    await _load_areas(settings, enterprises, people)
    return (f"demo data: {len(enterprises)} enterprises, {len(people)} people, "
            f"{await Project.all().count()} projects, {len(OFFICERS)} officers "
            f"(password {DEMO_OFFICER_PASSWORD})")


async def _load_areas(settings: Settings, enterprises: dict[str, Enterprise],
                      people: dict[str, Person]) -> None:
    """Demo rows of the other areas, each in its own module."""
    from demo_data import applications, funds, notices, safety

    for area in (applications, notices, safety, funds):
        await area.load(enterprises, people)
