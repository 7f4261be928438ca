"""What a WeChat user sends the account, as the XML WeChat posts to the callback, and the
account's passive reply read back for the chat page.

Only the kinds the chat page offers: text, menu CLICK and VIEW, subscribe and unsubscribe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal
from xml.parsers.expat import ExpatError

import xmltodict

from sandbox.wechat_api import ACCOUNT_ID

UserMessageType = Literal["text", "click", "view", "subscribe", "unsubscribe"]
USER_MESSAGE_TYPES: tuple[str, ...] = ("text", "click", "view", "subscribe", "unsubscribe")

_EVENTS = {"click": "CLICK", "view": "VIEW", "subscribe": "subscribe",
           "unsubscribe": "unsubscribe"}
# Characters XML 1.0 cannot carry; WeChat never posts them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class UserMessage:
    openid: str
    type: UserMessageType
    create_time: int
    content: str = ""  # text
    event_key: str = ""  # click: the menu key; view: the URL
    msg_id: int = 0  # text only

    @property
    def delivery_key(self) -> str:
        """What the callback de-duplicates on: MsgId, or CreateTime + Event for events."""
        if self.type == "text":
            return f"msg:{self.msg_id}"
        return f"event:{self.create_time}:{_EVENTS[self.type]}"


def _cdata(value: str) -> str:
    # "]]>" cannot appear inside CDATA: close the section and open a new one around it.
    return "<![CDATA[" + _NOT_XML.sub("", value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_xml(message: UserMessage) -> str:
    """The XML WeChat would post for this message, before signing or encryption."""
    parts = [f"<ToUserName>{_cdata(ACCOUNT_ID)}</ToUserName>",
             f"<FromUserName>{_cdata(message.openid)}</FromUserName>",
             f"<CreateTime>{message.create_time}</CreateTime>"]
    if message.type == "text":
        parts += ["<MsgType><![CDATA[text]]></MsgType>",
                  f"<Content>{_cdata(message.content)}</Content>",
                  f"<MsgId>{message.msg_id}</MsgId>"]
    else:
        parts += ["<MsgType><![CDATA[event]]></MsgType>",
                  f"<Event>{_cdata(_EVENTS[message.type])}</Event>"]
        if message.type in ("click", "view"):
            parts.append(f"<EventKey>{_cdata(message.event_key)}</EventKey>")
    return "<xml>" + "".join(parts) + "</xml>"


def read_reply(raw: str) -> dict[str, Any]:
    """The passive reply as the chat shows it: {"msgtype", "content"[, "articles"]}.
    An empty body or `success` means no reply (the user sees nothing)."""
    text = raw.strip()
    if not text or text == "success":
        return {"msgtype": "none", "content": ""}
    try:
        xml = xmltodict.parse(text, disable_entities=True).get("xml") or {}
    except ExpatError as exc:
        raise ValueError("the reply is not XML") from exc
    msgtype = str(xml.get("MsgType") or "")
    if msgtype == "text":
        return {"msgtype": "text", "content": str(xml.get("Content") or "")}
    if msgtype == "news":
        items = (xml.get("Articles") or {}).get("item") or []
        items = items if isinstance(items, list) else [items]
        articles = [{"title": str(i.get("Title") or ""),
                     "description": str(i.get("Description") or ""),
                     "url": str(i.get("Url") or ""), "picurl": str(i.get("PicUrl") or "")}
                    for i in items]
        content = "\n".join(a["title"] + ("\n" + a["description"] if a["description"] else "")
                            for a in articles)
        return {"msgtype": "news", "content": content, "articles": articles}
    return {"msgtype": msgtype or "unknown", "content": ""}
