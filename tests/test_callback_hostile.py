"""Hostile or broken callback requests: refused with 400/403/413, never a 500, no effect.

"No effect" is shown the way a user would notice it: the hostile request claims nothing, so
the genuine message with the same MsgId is still answered in full afterwards, and nothing
about the sender changes.
"""

from __future__ import annotations

import base64
import os
import struct
from collections.abc import AsyncIterator

import httpx
import pytest
from callback_support import ZHANGWEI, post_signed, say, wechat_xml, with_msgid
from wechatpy.crypto.cryptography import WeChatCipher

from actions import clock
from conftest import LiveServer, live_settings, start_live, stop_live
from handlers.basic import HELP_TEXT
from models.people import WeChatBinding
from sandbox.wechat_client import WeChatSide
from settings import SANDBOX_AES_KEY, Settings

NEW_AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


@pytest.fixture
async def live_plain(base_settings: Settings) -> AsyncIterator[LiveServer]:
    server_info, server = await start_live(
        live_settings(base_settings, wechat_encrypt_mode="plain"))
    yield server_info
    await stop_live(server)


async def _still_answers_help(live: LiveServer, side: WeChatSide | None = None) -> None:
    assert await say(live, wechat_xml("text__help"), side) == HELP_TEXT


def _seal(plain: bytes, key: str = SANDBOX_AES_KEY) -> str:
    """Raw AES-CBC the way WeChat keys it, with no padding added: tests build the padding."""
    aes_key = base64.b64decode(key + "=")
    return base64.b64encode(WeChatCipher(aes_key).encrypt(plain)).decode()


def _framed(xml: str, appid: str, *, length: int | None = None) -> bytes:
    body = xml.encode()
    return (os.urandom(16) + struct.pack(">I", len(body) if length is None else length)
            + body + appid.encode())


def _pkcs7(data: bytes) -> bytes:
    pad = 32 - len(data) % 32
    return data + bytes([pad]) * pad


@pytest.mark.parametrize("fixture", ["hostile__doctype", "hostile__entity_expansion"])
async def test_receive_message_refuses_doctype_and_entities(
        live_plain: LiveServer, demo: None, fixture: str) -> None:
    response = await post_signed(live_plain,
                                 WeChatSide(live_plain.settings).request(wechat_xml(fixture)))
    assert response.status_code == 400
    assert "passwd" not in response.text and "lol" not in response.text


async def test_receive_message_refuses_doctype_inside_encrypted_body(live: LiveServer) -> None:
    side = WeChatSide(live.settings)
    xml = with_msgid(wechat_xml("hostile__doctype"), "24000000000000001")
    response = await post_signed(live, side.request(xml))
    assert response.status_code == 400
    await _still_answers_help(live)


async def test_receive_message_refuses_body_over_64_kib(live_plain: LiveServer) -> None:
    padding = "<Padding>" + "x" * (64 * 1024) + "</Padding></xml>"
    xml = wechat_xml("text__help").replace("</xml>", padding)
    response = await post_signed(live_plain, WeChatSide(live_plain.settings).request(xml))
    assert response.status_code == 413
    await _still_answers_help(live_plain)


@pytest.mark.parametrize("fixture", ["hostile__missing_msgtype", "hostile__missing_msgid",
                                     "hostile__duplicated_from", "hostile__not_xml"])
async def test_receive_message_refuses_missing_and_duplicated_elements(
        live: LiveServer, demo: None, fixture: str) -> None:
    side = WeChatSide(live.settings)
    response = await post_signed(live, side.request(wechat_xml(fixture)))
    assert response.status_code == 400


async def test_receive_message_refuses_bad_base64(live: LiveServer) -> None:
    side = WeChatSide(live.settings)
    response = await post_signed(live, side.sealed("<xml><Encrypt>@@not*base64@@</Encrypt></xml>",
                                                   "@@not*base64@@"))
    assert response.status_code == 400


@pytest.mark.parametrize("case", ["not_a_block_multiple", "too_short", "bad_padding_byte",
                                  "inconsistent_padding", "inner_length_too_large"])
async def test_receive_message_refuses_bad_padding_and_wrong_lengths(
        live: LiveServer, case: str) -> None:
    xml = wechat_xml("text__help")
    appid = live.settings.wechat_appid
    framed = _framed(xml, appid)
    if case == "not_a_block_multiple":
        encrypt = base64.b64encode(base64.b64decode(_seal(_pkcs7(framed)))[:-5]).decode()
    elif case == "too_short":
        encrypt = _seal(bytes(16))
    elif case == "bad_padding_byte":
        # Pad to the block with a count byte of 0 (PKCS#7 counts 1..32).
        encrypt = _seal(framed + bytes(32 - len(framed) % 32))
    elif case == "inconsistent_padding":
        padded = _pkcs7(framed)
        encrypt = _seal(padded[:-2] + b"\x01" + padded[-1:])
    else:
        encrypt = _seal(_pkcs7(_framed(xml, appid, length=10**6)))
    side = WeChatSide(live.settings)
    response = await post_signed(live, side.sealed(f"<xml><Encrypt>{encrypt}</Encrypt></xml>",
                                                   encrypt))
    assert response.status_code == 400
    await _still_answers_help(live)


async def test_receive_message_refuses_foreign_appid(live: LiveServer) -> None:
    side = WeChatSide(live.settings, appid="wx0000000000000bad")
    response = await post_signed(live, side.request(wechat_xml("text__help")))
    assert response.status_code == 403
    await _still_answers_help(live)


async def test_receive_message_refuses_stale_timestamp(live: LiveServer) -> None:
    side = WeChatSide(live.settings)
    stale = str(int(clock.now().timestamp()) - 301)
    response = await post_signed(live, side.request(wechat_xml("text__help"), timestamp=stale))
    assert response.status_code == 403
    await _still_answers_help(live)


async def test_receive_message_ignores_stale_timestamp_when_tolerance_is_off(
        base_settings: Settings) -> None:
    settings = live_settings(base_settings, wechat_timestamp_tolerance=0)
    server_info, server = await start_live(settings)
    try:
        stale = str(int(clock.now().timestamp()) - 86400)
        side = WeChatSide(settings)
        response = await post_signed(server_info,
                                     side.request(wechat_xml("text__help"), timestamp=stale))
        assert response.status_code == 200
    finally:
        await stop_live(server)


async def test_receive_message_answers_replayed_triple_with_success_only(
        live: LiveServer, demo: None) -> None:
    side = WeChatSide(live.settings)
    first = side.request(wechat_xml("text__help"))
    assert (await post_signed(live, first)).status_code == 200
    # The same (timestamp, nonce, signature) now carrying an unsubscribe: no effect.
    replay = side.request(wechat_xml("event__unsubscribe"),
                          timestamp=first.params["timestamp"], nonce=first.params["nonce"])
    response = await post_signed(live, replay)
    assert response.status_code == 200
    assert response.text == "success"
    assert (await WeChatBinding.get(openid=ZHANGWEI)).following is True


async def test_receive_message_accepts_previous_aes_key(base_settings: Settings) -> None:
    settings = live_settings(base_settings, wechat_aes_key=NEW_AES_KEY,
                             wechat_aes_key_previous=SANDBOX_AES_KEY)
    server_info, server = await start_live(settings)
    try:
        old = WeChatSide(settings, aes_key=SANDBOX_AES_KEY)
        new = WeChatSide(settings, aes_key=NEW_AES_KEY)
        assert await say(server_info, wechat_xml("text__help"), old) == HELP_TEXT
        assert await say(server_info, wechat_xml("text__unknown"), new) \
            == "抱歉，没有识别您的指令。\n" + HELP_TEXT
        stranger = WeChatSide(settings, aes_key=base64.b64encode(b"k" * 32).decode()[:43])
        response = await post_signed(server_info, stranger.request(
            with_msgid(wechat_xml("text__help"), "24000000000000099")))
        assert response.status_code == 400
    finally:
        await stop_live(server)


@pytest.mark.parametrize("param", ["signature", "msg_signature", "timestamp", "nonce"])
async def test_receive_message_refuses_malformed_query(live: LiveServer, param: str) -> None:
    signed = WeChatSide(live.settings).request(wechat_xml("text__help"))
    signed.params[param] = "签名" * 20
    response = await post_signed(live, signed)
    assert response.status_code == 403
    await _still_answers_help(live)


async def test_receive_message_refuses_duplicated_query_parameter(live: LiveServer) -> None:
    signed = WeChatSide(live.settings).request(wechat_xml("text__help"))
    params = httpx.QueryParams(signed.params).add("signature", signed.params["signature"])
    async with live.client() as client:
        response = await client.post("/wechat", params=params, content=signed.body.encode())
    assert response.status_code == 400
    await _still_answers_help(live)


async def test_receive_message_refuses_deeply_nested_elements(live_plain: LiveServer) -> None:
    nested = "<a>" * 5000 + "x" + "</a>" * 5000
    xml = wechat_xml("text__help").replace("</xml>", f"<Extra>{nested}</Extra></xml>")
    response = await post_signed(live_plain, WeChatSide(live_plain.settings).request(xml))
    assert response.status_code == 400
    await _still_answers_help(live_plain)
