"""WeChat's side of the callback protocol, as WeChat's servers play it.

The sandbox uses it to post what a test user says to the product's `/wechat`, and the tests use
it to sign (and, in compatible and safe mode, encrypt with wechatpy) every request, hostile
ones included, and to open the product's replies.

    side = WeChatSide(settings)                 # the account's token, AES key, AppID and mode
    req = side.request(xml)                     # SignedRequest: query params + body
    side.open_reply(response_text)              # the plaintext reply XML, or "success" / ""
    await post_to_callback(http, settings, xml) # all of it over HTTP
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import xmltodict
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.exceptions import WeChatException

from actions import clock
from bot.protocol import sign
from settings import EncryptMode, Settings


@dataclass(frozen=True)
class SignedRequest:
    params: dict[str, str]
    body: str


def _now() -> str:
    return str(int(clock.now().timestamp()))


def _nonce() -> str:
    return str(secrets.randbelow(9 * 10**9) + 10**9)


def _cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


class WeChatSide:
    """Signs and seals callback requests for one account; `mode`, `aes_key` and `appid`
    default to the settings' and may be overridden (a foreign AppID, the previous key...)."""

    def __init__(self, settings: Settings, *, mode: EncryptMode | None = None,
                 aes_key: str | None = None, appid: str | None = None) -> None:
        self.settings = settings
        self.token = settings.wechat_token
        self.mode: EncryptMode = mode or settings.wechat_encrypt_mode
        self.appid = appid or settings.wechat_appid
        self.aes_key = aes_key or settings.wechat_aes_key or ""

    def query(self, *, timestamp: str | None = None, nonce: str | None = None,
              openid: str = "") -> dict[str, str]:
        """The `signature`, `timestamp` and `nonce` WeChat puts on every request."""
        timestamp = timestamp or _now()
        nonce = nonce or _nonce()
        params = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp,
                  "nonce": nonce}
        if openid:
            params["openid"] = openid
        return params

    def handshake(self, echostr: str) -> dict[str, str]:
        return {**self.query(), "echostr": echostr}

    def encrypt(self, xml: str) -> str:
        """The `Encrypt` value of a message, sealed as WeChat seals it (wechatpy's PrpCrypto)."""
        key = base64.b64decode(self.aes_key + "=")
        return str(PrpCrypto(key).encrypt(xml, self.appid).decode())

    def request(self, xml: str, *, timestamp: str | None = None,
                nonce: str | None = None) -> SignedRequest:
        """The request WeChat would post for `xml` in this side's mode."""
        params = self.query(timestamp=timestamp, nonce=nonce,
                            openid=_element(xml, "FromUserName"))
        if self.mode == "plain":
            return SignedRequest(params, xml)
        encrypt = self.encrypt(xml)
        if self.mode == "compatible":
            # Compatible mode carries the plaintext fields and their encrypted copy.
            body = xml.rstrip()
            body = body[: body.rindex("</xml>")] + f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        else:
            to_user = _element(xml, "ToUserName")
            body = (f"<xml><ToUserName>{_cdata(to_user)}</ToUserName>"
                    f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>")
        return self.sealed(body, encrypt, params)

    def sealed(self, body: str, encrypt: str, params: dict[str, str] | None = None,
               ) -> SignedRequest:
        """`body` posted as an encrypted request whose `Encrypt` value is `encrypt`, signed
        with `msg_signature` (tests use it to sign broken ciphertexts)."""
        params = dict(params or self.query())
        params["encrypt_type"] = "aes"
        params["msg_signature"] = sign(self.token, params["timestamp"], params["nonce"], encrypt)
        return SignedRequest(params, body)

    def open_reply(self, body: str) -> str:
        """The plaintext of the product's answer: the reply XML, or "success" / ""."""
        if "<Encrypt>" not in body:
            return body
        fields = _fields(body)
        try:
            crypto = WeChatCrypto(self.token, self.settings.wechat_aes_key, self.appid)
            return str(crypto.decrypt_message(body, fields["MsgSignature"],
                                              fields["TimeStamp"], fields["Nonce"]))
        except (WeChatException, KeyError) as exc:
            raise ValueError("the callback's encrypted reply does not verify") from exc


def _element(xml: str, name: str) -> str:
    """One element's text, found without parsing: tests send XML no parser should see."""
    found = re.search(rf"<{name}>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</{name}>", xml, re.S)
    return found.group(1) if found else ""


def _fields(xml: str) -> dict[str, Any]:
    document = xmltodict.parse(xml)
    return dict(document.get("xml") or {})


def reply_fields(reply_xml: str) -> dict[str, Any]:
    """The elements of a plaintext reply (empty for "success" / "")."""
    if not reply_xml.lstrip().startswith("<"):
        return {}
    return _fields(reply_xml)


async def post_to_callback(http: httpx.AsyncClient, settings: Settings, xml: str) -> str:
    """Post `xml` to the product's callback as WeChat would; the decrypted reply XML, or
    "success" / "". A refusal raises httpx.HTTPStatusError; a bad encrypted reply ValueError."""
    side = WeChatSide(settings)
    signed = side.request(xml)
    response = await http.post(f"{settings.public_base_url}/wechat", params=signed.params,
                               content=signed.body.encode(),
                               headers={"Content-Type": "text/xml; charset=utf-8"})
    response.raise_for_status()
    return side.open_reply(response.text)
