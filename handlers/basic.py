"""The bot's first handlers: follow, unfollow, help, bind, and template delivery reports."""

from __future__ import annotations

from actions.wechat_users import (
    do_record_follow,
    do_record_template_delivery,
    do_record_unfollow,
)
from bot.bot_request import BotRequest
from models.people import Person, Role

HELP_TEXT = (
    "您可以发送以下指令：\n"
    "帮助 — 查看本说明\n"
    "绑定 — 绑定您的身份（企业负责人、经办人、项目经理）\n"
    "待办 — 未回复的通知、待提交的安全检查、待补充资料的申请\n"
    "通知 — 最新通知及其编号\n"
    "回复 <编号> <内容> — 回复一条通知，例如：回复 3 已收到\n"
    "也可以使用下方菜单。"
)


def _identity(person: Person) -> str:
    return f"{person.enterprise.name} {Role(person.role).label} {person.name}"


async def help_text(req: BotRequest) -> str:
    # No database query here: 帮助 is the busiest command and must stay cheap.
    return HELP_TEXT


async def unknown_text(req: BotRequest) -> str:
    return "抱歉，没有识别您的指令。\n" + HELP_TEXT


async def bind(req: BotRequest) -> str:
    person = await req.person()
    if person is not None:
        return (f"已绑定为：{_identity(person)}。\n"
                "如需更换，请先在菜单「物业服务 → 我的账号」中解除绑定。")
    return f"请点击链接绑定身份（企业负责人、经办人或项目经理）：\n{req.binding_link}"


async def subscribe(req: BotRequest) -> str:
    await do_record_follow(req.openid)
    person = await req.person()
    if person is not None:
        return f"欢迎回来！您已绑定为：{_identity(person)}。\n\n{HELP_TEXT}"
    return ("欢迎关注物业管理信息平台！\n"
            f"请先绑定身份，即可接收通知、办理业务：\n{req.binding_link}\n\n{HELP_TEXT}")


async def unsubscribe(req: BotRequest) -> None:
    await do_record_unfollow(req.openid, redis=req.redis, settings=req.settings)


async def template_delivery(req: BotRequest) -> None:
    await do_record_template_delivery(int(req.message.id), str(req.message.status or ""))
