"""Talking to the product's `/wechat` as WeChat does, for the callback tests."""

from __future__ import annotations

from typing import Any

import httpx

from conftest import FIXTURES, LiveServer
from sandbox.wechat_client import SignedRequest, WeChatSide, reply_fields

ZHANGWEI = "oDemo0LeaderZhangWei00000001"  # 张伟, leader of 鹏城物业, bound
GUEST = "oDemo0NewFollowerGuest0000001"  # a follower who never bound


def wechat_xml(name: str, **replace: str) -> str:
    """The fixture `tests/fixtures/wechat/<name>.xml`, with `old=new` text replacements."""
    xml = (FIXTURES / "wechat" / f"{name}.xml").read_text(encoding="utf-8")
    for old, new in replace.items():
        xml = xml.replace(old, new)
    return xml


def with_msgid(xml: str, msgid: str) -> str:
    start = xml.index("<MsgId>") + len("<MsgId>")
    return xml[:start] + msgid + xml[xml.index("</MsgId>"):]


async def post_signed(live: LiveServer, signed: SignedRequest) -> httpx.Response:
    async with live.client() as client:
        return await client.post("/wechat", params=signed.params,
                                 content=signed.body.encode(),
                                 headers={"Content-Type": "text/xml"})


async def say(live: LiveServer, xml: str, side: WeChatSide | None = None) -> str:
    """What the user sees for `xml`: the reply's text, or "success" for none."""
    side = side or WeChatSide(live.settings)
    response = await post_signed(live, side.request(xml))
    assert response.status_code == 200, response.text
    return reply_text(side.open_reply(response.text))


def reply_text(reply_xml: str) -> str:
    fields: dict[str, Any] = reply_fields(reply_xml)
    if not fields:
        return reply_xml
    assert fields["MsgType"] == "text"
    return str(fields["Content"])
