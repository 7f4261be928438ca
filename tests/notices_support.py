"""Named demo users and a quick way to publish notices, for the notices and chat tests."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from actions.clock import now
from actions.notices import NoticeDraft, do_publish_notice
from models.enterprises import Enterprise
from models.notices import Audience, Notice, NoticeReceipt
from models.officers import Officer
from models.people import Person
from models.projects import Project
from settings import Settings

LEADER_OPENID = "oDemo0LeaderZhangWei00000001"  # 张伟, leader of 鹏城 (福田区)
MANAGER_OPENID = "oDemo0ManagerWangQiang000003"  # 王强, manager of 鹏城花园 and 莲花苑
NANSHAN_LEADER_OPENID = "oDemo0LeaderHuangMin00000001"  # 黄敏, leader of the subsidiary
ANJULE_MANAGER_OPENID = "oDemo0ManagerZhaoLei00000002"  # 赵磊, manager of 安居乐家园
GUEST_OPENID = "oDemo0NewFollowerGuest0000001"  # follows, never bound


async def officer(username: str = "city") -> Officer:
    return await Officer.get(username=username)


async def person(name: str) -> Person:
    return await Person.get(name=name).select_related("enterprise")


PENGCHENG = "深圳市鹏城物业服务有限公司"
NANSHAN = "深圳市鹏城物业服务有限公司南山分公司"
ANJULE = "深圳市安居乐物业管理有限公司"


async def enterprise(name: str) -> Enterprise:
    return await Enterprise.get(name=name)


async def project(name: str) -> Project:
    return await Project.get(name=name)


async def publish(settings: Settings, *, title: str = "关于开展汛期安全检查的通知",
                  reply: bool = True, deadline: datetime | None = None,
                  audience: Audience = Audience.ENTERPRISES,
                  enterprises: Sequence[int] | None = None, projects: Sequence[int] = (),
                  district: str = "", by: str = "city") -> Notice:
    """A notice from `by`; to 鹏城 alone unless told otherwise."""
    if audience == Audience.ENTERPRISES and enterprises is None:
        enterprises = [(await enterprise(PENGCHENG)).id]
    if reply and deadline is None:
        deadline = now() + timedelta(days=3)
    return await do_publish_notice(settings, await officer(by), NoticeDraft(
        title=title, content="请各单位于截止时间前完成自查并回复整改情况。",
        reply_required=reply, deadline=deadline, audience=audience, district=district,
        enterprise_ids=list(enterprises or []), project_ids=list(projects)))


async def receipt_of(notice: Notice, enterprise_name: str) -> NoticeReceipt:
    e = await enterprise(enterprise_name)
    return await NoticeReceipt.get(notice_id=notice.id, enterprise_id=e.id)


_message_numbers = itertools.count(1)


async def chat(live: Any, fixture: str, *, openid: str = LEADER_OPENID,
               content: str | None = None, msgid: str | None = None) -> str:
    """Send the fixture `tests/fixtures/wechat/<fixture>.xml` from `openid` through the real
    callback, signed and encrypted as WeChat does; the reply text the user sees."""
    from callback_support import say, wechat_xml

    n = next(_message_numbers)
    xml = wechat_xml(fixture).replace(LEADER_OPENID, openid)
    if content is not None:
        xml = re.sub(r"<Content><!\[CDATA\[.*?\]\]></Content>",
                     f"<Content><![CDATA[{content}]]></Content>", xml, flags=re.S)
    # Events are de-duplicated by sender and CreateTime, messages by MsgId: each one fresh.
    xml = re.sub(r"<CreateTime>\d+</CreateTime>",
                 f"<CreateTime>{int(now().timestamp()) + n}</CreateTime>", xml)
    xml = re.sub(r"<MsgId>\d+</MsgId>", f"<MsgId>{msgid or 25000000000000000 + n}</MsgId>", xml)
    return await say(live, xml)


