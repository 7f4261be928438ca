"""The callback's contract, the same in plain, compatible and safe mode (CONVENTIONS 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from callback_support import ZHANGWEI, post_signed, reply_text, say, wechat_xml

from conftest import LiveServer, live_settings, start_live, stop_live
from handlers.basic import HELP_TEXT
from sandbox.wechat_client import WeChatSide, reply_fields
from settings import Settings


@pytest.fixture(params=["plain", "compatible", "safe"])
async def live_mode(request: pytest.FixtureRequest,
                    base_settings: Settings) -> AsyncIterator[LiveServer]:
    settings = live_settings(base_settings, wechat_encrypt_mode=request.param)
    server_info, server = await start_live(settings)
    yield server_info
    await stop_live(server)


async def test_handshake_echoes_echostr_with_valid_signature(live_mode: LiveServer) -> None:
    params = WeChatSide(live_mode.settings).handshake("echo-4711")
    async with live_mode.client() as client:
        response = await client.get("/wechat", params=params)
    assert response.status_code == 200
    assert response.text == "echo-4711"
    assert response.headers["content-type"].startswith("text/plain")


async def test_handshake_refuses_bad_signature(live_mode: LiveServer) -> None:
    params = WeChatSide(live_mode.settings).handshake("echo-4711")
    params["signature"] = "0" * 40
    async with live_mode.client() as client:
        response = await client.get("/wechat", params=params)
        unsigned = await client.get("/wechat", params={"echostr": "echo-4711"})
    assert response.status_code == 403
    assert "echo-4711" not in response.text
    assert unsigned.status_code == 403


async def test_receive_message_refuses_bad_signature(live_mode: LiveServer) -> None:
    side = WeChatSide(live_mode.settings)
    signed = side.request(wechat_xml("text__help"))
    signed.params["signature"] = "f" * 40
    response = await post_signed(live_mode, signed)
    assert response.status_code == 403


async def test_receive_message_answers_signed_request(live_mode: LiveServer) -> None:
    side = WeChatSide(live_mode.settings)
    response = await post_signed(live_mode, side.request(wechat_xml("text__help")))
    assert response.status_code == 200
    encrypted = "<Encrypt>" in response.text
    assert encrypted == (live_mode.settings.wechat_encrypt_mode != "plain")
    reply = reply_fields(side.open_reply(response.text))
    assert reply["ToUserName"] == ZHANGWEI
    assert reply["FromUserName"] == "gh_5a7d9e0c1b2f"
    assert reply["Content"] == HELP_TEXT


async def test_receive_message_refuses_bad_msg_signature(live_mode: LiveServer) -> None:
    side = WeChatSide(live_mode.settings, mode="safe")
    signed = side.request(wechat_xml("text__help"))
    signed.params["msg_signature"] = "0" * 40
    response = await post_signed(live_mode, signed)
    # Plain mode takes no encrypted request at all; the others refuse the signature.
    assert response.status_code == (400 if live_mode.settings.wechat_encrypt_mode == "plain"
                                     else 403)


async def test_receive_message_in_each_mode_takes_what_it_should(live_mode: LiveServer) -> None:
    mode = live_mode.settings.wechat_encrypt_mode
    plain = WeChatSide(live_mode.settings, mode="plain").request(wechat_xml("text__help"))
    response = await post_signed(live_mode, plain)
    # Safe mode refuses a request without msg_signature; the others answer it in plain text.
    if mode == "safe":
        assert response.status_code == 403
    else:
        assert reply_text(response.text) == HELP_TEXT
    if mode != "plain":
        encrypted = WeChatSide(live_mode.settings, mode="safe")
        assert await say(live_mode, wechat_xml("text__unknown"), encrypted) \
            == "抱歉，没有识别您的指令。\n" + HELP_TEXT


async def test_receive_message_without_encrypt_element_is_refused(live_mode: LiveServer) -> None:
    # Plain mode takes no encrypted request; the others find nothing to decrypt.
    side = WeChatSide(live_mode.settings)
    signed = side.sealed("<xml><ToUserName>gh_5a7d9e0c1b2f</ToUserName></xml>", "")
    response = await post_signed(live_mode, signed)
    assert response.status_code == 400
