"""The 物业服务 hub (`/h5/`): the page the official account's menu opens first, one tile per
area the signed-in person may use."""

from __future__ import annotations

from dataclasses import dataclass

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from auth_binding.access import Viewer, h5_page
from core.pages import render
from models.people import Module, Role

bp = Blueprint("h5_home", url_prefix="/h5")


@dataclass(frozen=True)
class HubEntry:
    label: str
    href: str
    icon: str  # one or two characters drawn in the round tile (no icon font is shipped)
    module: Module | None = None  # shown only to a viewer holding it
    roles: tuple[Role, ...] | None = None  # shown only to these roles


HUB_ENTRIES = (
    HubEntry("我的小区", "/h5/projects", "小区"),
    HubEntry("通知消息", "/h5/notices", "通知", module=Module.NOTICES),
    HubEntry("安全检查", "/h5/safety", "安全", module=Module.SAFETY),
    HubEntry("共有资金", "/h5/funds", "资金", module=Module.FUNDS),
    HubEntry("申请记录", "/h5/applications", "申请", roles=(Role.LEADER, Role.HANDLER)),
    HubEntry("权限管理", "/h5/permissions", "权限", roles=(Role.LEADER,)),
    HubEntry("我的账户", "/h5/account", "账户"),
)


def entries_for(viewer: Viewer) -> list[HubEntry]:
    return [e for e in HUB_ENTRIES
            if (e.module is None or viewer.can(e.module))
            and (e.roles is None or viewer.role in e.roles)]


@bp.get("/")
@h5_page()
async def hub(request: Request, viewer: Viewer) -> HTTPResponse:
    return render(request, "home.html", viewer=viewer, entries=entries_for(viewer))
