"""Encrypted callback requests from many distinct bound users, as WeChat would post them."""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Iterator
from urllib.parse import urlencode

from sandbox.wechat_client import WeChatSide
from settings import Settings

Line = tuple[str, str, dict[str, str], str]
_msgids = itertools.count(int(time.time()) * 1000)


HELP = "帮助"


def help_contents() -> Iterator[str]:
    """The protocol path: a command answered without the database."""
    return itertools.repeat(HELP)


def mix_contents() -> Iterator[str]:
    """The database-backed mix: to-do counts, the latest notices, and a real reply to notice 1
    (the bench city numbers its newest notice, a 回复 notice open for a month, 1 for everyone)."""
    for n in itertools.count(1):
        yield "待办"
        yield "通知"
        yield f"回复 1 已收到，第{n}项整改已落实"


def text_xml(openid: str, content: str, msg_id: int, account: str = "gh_bench0000001") -> str:
    return (f"<xml><ToUserName><![CDATA[{account}]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def callback_lines(settings: Settings, openids: list[str], contents: Iterator[str],
                   count: int) -> list[Line]:
    """`count` requests cycling through the users, each with its own MsgId and nonce."""
    side = WeChatSide(settings)
    lines: list[Line] = []
    users = itertools.cycle(openids)
    for _ in range(count):
        xml = text_xml(next(users), next(contents), next(_msgids))
        signed = side.request(xml, nonce=secrets.token_hex(8))
        lines.append(("POST", "/wechat?" + urlencode(signed.params),
                      {"Content-Type": "text/xml"}, signed.body))
    return lines
