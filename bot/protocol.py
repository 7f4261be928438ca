"""WeChat's callback protocol: signatures, freshness, AES (plain, compatible, safe), parsing.

Everything here is transport: it knows nothing of handlers or of Sanic. `CallbackProtocol.open`
turns a signed request into the plaintext XML fields WeChat sent, or raises `Refused` with the
HTTP status to answer. Hostile input never gets further than this module: a `<!DOCTYPE` or
entity is refused before any parser sees it, duplicated or missing elements are refused after,
and decryption checks base64, block lengths, PKCS#7 padding, the inner length and the AppID
itself (wechatpy's `PrpCrypto.decrypt` trusts all of those).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from wechatpy.crypto.cryptography import WeChatCipher
from wechatpy.utils import WeChatSigner

from actions import clock
from settings import Settings

MAX_BODY_BYTES = 64 * 1024
# A declaration (DOCTYPE, ENTITY, ...) is the door to entity expansion; CDATA is the only `<!`
# WeChat ever sends.
_DECLARATION = re.compile(rb"<!(?!\[CDATA\[)")
_DIGITS = re.compile(r"[0-9]{1,20}")
_NONCE = re.compile(r"[0-9A-Za-z_-]{1,64}")
_SIGNATURE = re.compile(r"[0-9a-f]{40}")
# Elements every message and event carries, and the ones each kind adds.
_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
_REQUIRED_BY_TYPE = {"text": ("Content", "MsgId"), "event": ("Event",)}
_MAX_OPENID = 64
_MAX_DEPTH = 4  # SendPicsInfo > PicList > item > PicMd5Sum is WeChat's deepest
_PKCS7_BLOCK = 32  # WeChat pads to 32 bytes, not AES's 16
# An encrypted reply, laid out as wechatpy's WeChatCrypto lays it out.
_SEALED = ("<xml>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
           "<MsgSignature><![CDATA[{signature}]]></MsgSignature>\n"
           "<TimeStamp>{timestamp}</TimeStamp>\n<Nonce><![CDATA[{nonce}]]></Nonce>\n</xml>")


class Refused(Exception):
    """A callback request that is answered with `status` and no effect."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class SignedQuery:
    """The query string WeChat signs every callback request with."""

    signature: str
    timestamp: str
    nonce: str
    encrypted: bool  # encrypt_type=aes
    msg_signature: str

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> SignedQuery:
        signature = args.get("signature", "")
        timestamp = args.get("timestamp", "")
        nonce = args.get("nonce", "")
        if not (_SIGNATURE.fullmatch(signature) and _DIGITS.fullmatch(timestamp)
                and _NONCE.fullmatch(nonce)):
            raise Refused(403, "missing or malformed signature")
        encrypt_type = args.get("encrypt_type") or "raw"
        if encrypt_type not in ("raw", "aes"):
            raise Refused(400, "unknown encrypt_type")
        return cls(signature, timestamp, nonce, encrypt_type == "aes",
                   args.get("msg_signature", ""))

    @property
    def replay_key(self) -> str:
        return f"{self.timestamp}:{self.nonce}:{self.signature}"


@dataclass(frozen=True)
class Inbound:
    """A verified, decrypted callback: its XML fields and how the reply must be sealed."""

    fields: dict[str, Any]
    encrypted: bool
    nonce: str


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted, concatenated parts."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def parse_fields(xml: bytes | str) -> dict[str, Any]:
    """The elements under `<xml>`, refusing declarations, broken XML and duplicated elements.

    ElementTree (expat, in C) rather than xmltodict: this runs on every request, twice when
    it is encrypted, and with no DTD allowed there is nothing left for a parser to expand.
    """
    raw = xml.encode() if isinstance(xml, str) else xml
    if _DECLARATION.search(raw):
        raise Refused(400, "XML declarations and entities are not accepted")
    try:
        root = ElementTree.fromstring(raw)  # noqa: S314 (declarations refused just above)
    except ElementTree.ParseError as exc:
        raise Refused(400, "malformed XML") from exc
    if root.tag != "xml":
        raise Refused(400, "the root element must be <xml>")
    fields: dict[str, Any] = {}
    for element in root:
        if element.tag in fields:
            raise Refused(400, f"duplicated element {element.tag}")
        fields[element.tag] = _value(element, 1)
    return fields


def _value(element: ElementTree.Element, depth: int) -> Any:
    """A leaf's text; a nested element (ScanCodeInfo, SendPicsInfo...) as a dict, a repeated
    child as a list, the shape wechatpy's fields expect."""
    if len(element) == 0:
        return element.text or ""
    if depth >= _MAX_DEPTH:
        raise Refused(400, "elements nested too deep")
    nested: dict[str, Any] = {}
    for child in element:
        value = _value(child, depth + 1)
        if child.tag not in nested:
            nested[child.tag] = value
        elif isinstance(nested[child.tag], list):
            nested[child.tag].append(value)
        else:
            nested[child.tag] = [nested[child.tag], value]
    return nested


def _check_message(fields: dict[str, Any]) -> None:
    msg_type = fields.get("MsgType")
    required = _REQUIRED + _REQUIRED_BY_TYPE.get(str(msg_type).lower(), ())
    for name in required:
        if not isinstance(fields.get(name), str) or not fields[name]:
            raise Refused(400, f"missing element {name}")
    if len(fields["FromUserName"]) > _MAX_OPENID:
        raise Refused(400, "FromUserName too long")
    for name in ("CreateTime", "MsgId", "MsgID"):
        if name in fields and not (isinstance(fields[name], str)
                                   and _DIGITS.fullmatch(fields[name])):
            raise Refused(400, f"{name} must be a number")
    if isinstance(fields.get("Event"), str) and len(fields["Event"]) > 40:
        raise Refused(400, "Event too long")


class CallbackProtocol:
    """The callback's half of WeChat's protocol for one account's settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.appid = settings.wechat_appid
        self.token = settings.wechat_token
        keys = [k for k in (settings.wechat_aes_key, settings.wechat_aes_key_previous) if k]
        # The current key seals replies; a request may also come sealed with the previous one
        # while WeChat's side of a key rotation settles.
        self._ciphers = [WeChatCipher(base64.b64decode(k + "=")) for k in keys]
        self._seal_cipher = self._ciphers[0] if settings.wechat_aes_key else None
        self._appid = self.appid.encode()

    # -- query --------------------------------------------------------------------------------
    def verify(self, query: SignedQuery) -> None:
        """The `signature` (token, timestamp, nonce) and the timestamp's freshness."""
        expected = sign(self.token, query.timestamp, query.nonce)
        if not hmac.compare_digest(expected, query.signature):
            raise Refused(403, "bad signature")
        tolerance = self.settings.wechat_timestamp_tolerance
        if tolerance and abs(clock.now().timestamp() - int(query.timestamp)) > tolerance:
            raise Refused(403, "stale timestamp")

    # -- body ---------------------------------------------------------------------------------
    def open(self, query: SignedQuery, body: bytes) -> Inbound:
        """The plaintext fields of a verified request, as the configured mode allows."""
        if len(body) > MAX_BODY_BYTES:
            raise Refused(413, "body too large")
        mode = self.settings.wechat_encrypt_mode
        if mode == "safe" and not query.encrypted:
            raise Refused(403, "safe mode takes only encrypted requests")
        if mode == "plain" and query.encrypted:
            raise Refused(400, "plain mode takes no encrypted requests")
        outer = parse_fields(body)
        if not query.encrypted:
            _check_message(outer)
            return Inbound(outer, False, query.nonce)
        encrypt = outer.get("Encrypt")
        if not isinstance(encrypt, str) or not encrypt:
            raise Refused(400, "missing element Encrypt")
        expected = sign(self.token, query.timestamp, query.nonce, encrypt)
        if not (_SIGNATURE.fullmatch(query.msg_signature)
                and hmac.compare_digest(expected, query.msg_signature)):
            raise Refused(403, "bad msg_signature")
        xml = self._decrypt(encrypt)
        fields = parse_fields(xml)
        _check_message(fields)
        return Inbound(fields, True, query.nonce)

    def _decrypt(self, encrypt: str) -> bytes:
        try:
            sealed = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Refused(400, "bad base64") from exc
        if len(sealed) < 32 or len(sealed) % 16:
            raise Refused(400, "wrong ciphertext length")
        first_error: Refused | None = None
        for cipher in self._ciphers:
            try:
                return self._unpack(cipher.decrypt(sealed))
            except Refused as exc:
                first_error = first_error or exc
        raise first_error or Refused(400, "no AES key configured")

    def _unpack(self, plain: bytes) -> bytes:
        """random(16) + length(4, network order) + xml + appid, PKCS#7-padded to 32 bytes."""
        pad = plain[-1]
        if not 1 <= pad <= _PKCS7_BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise Refused(400, "bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise Refused(400, "wrong length")
        (length,) = struct.unpack(">I", content[:4])
        if length > len(content) - 4:
            raise Refused(400, "wrong length")
        if content[4 + length:] != self.appid.encode():
            raise Refused(403, "foreign AppID")
        return content[4:4 + length]  # UTF-8 XML; the parser refuses anything else

    # -- reply --------------------------------------------------------------------------------
    def seal(self, reply_xml: str, inbound: Inbound) -> str:
        """The reply as WeChat expects it: encrypted when the request was.

        What wechatpy's `WeChatCrypto.encrypt_message` makes, written straight on
        `cryptography` with the cipher made once: wechatpy builds a cipher, a random string and
        its text conversions per message, a tenth of the busiest path's time (`make bench`).
        The callback tests open every sealed reply with wechatpy.
        """
        if not inbound.encrypted or self._seal_cipher is None:
            return reply_xml
        xml = reply_xml.encode()
        # random(16) + length(4, network order) + xml + appid, PKCS#7-padded to 32 bytes.
        plain = b"".join((os.urandom(16), struct.pack(">I", len(xml)), xml, self._appid))
        pad = _PKCS7_BLOCK - len(plain) % _PKCS7_BLOCK
        encrypt = base64.b64encode(self._seal_cipher.encrypt(plain + bytes([pad]) * pad)).decode()
        timestamp = str(int(clock.now().timestamp()))
        signature = sign(self.token, timestamp, inbound.nonce, encrypt)
        return _SEALED.format(encrypt=encrypt, signature=signature, timestamp=timestamp,
                              nonce=inbound.nonce)
