"""The sandbox's test identities: the demo followers (who they are, whether they are bound)
and the demo officers' console logins. Read-only; the demo data itself is in demo_data/load.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from demo_data.load import (
    DEMO_OFFICER_PASSWORD,
    ENTERPRISES,
    FOLLOWERS,
    OFFICERS,
    PEOPLE,
    DemoFollower,
)
from models.people import WeChatBinding


@dataclass(frozen=True)
class SandboxUser:
    openid: str
    nickname: str
    role: str  # leader | handler | manager, "" for a plain visitor
    role_label: str
    name: str
    mobile: str
    enterprise: str
    credit_code: str
    bound: bool
    bound_to: str  # name of the person the openid is bound to now, "" when unbound

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _describe(follower: DemoFollower, bound_to: str | None) -> SandboxUser:
    person = next((p for p in PEOPLE if p.key == follower.person), None)
    enterprise = next((e for e in ENTERPRISES if person and e.key == person.enterprise), None)
    return SandboxUser(
        openid=follower.openid,
        nickname=follower.nickname,
        role=person.role.value if person else "",
        role_label=person.role.label if person else "访客",
        name=person.name if person else "",
        mobile=person.mobile if person else "",
        enterprise=enterprise.name if enterprise else "",
        credit_code=enterprise.credit_code if enterprise else "",
        bound=bound_to is not None,
        bound_to=bound_to or "",
    )


async def followers() -> list[SandboxUser]:
    """Every demo follower, with whether the database binds its openid now (one query)."""
    openids = [f.openid for f in FOLLOWERS]
    rows = await WeChatBinding.filter(openid__in=openids).values("openid", "person__name")
    bound = {str(r["openid"]): str(r["person__name"]) for r in rows}
    return [_describe(f, bound.get(f.openid)) for f in FOLLOWERS]


def officer_logins() -> list[dict[str, str]]:
    return [{"username": username, "name": name, "role": role.value, "district": district,
             "password": DEMO_OFFICER_PASSWORD}
            for username, name, role, district in OFFICERS]
