"""The async WeChat API client against the sandbox over real HTTP: the shared access token,
its single-flight refresh, token errors, timeouts and WeChat's refusals."""

from __future__ import annotations

import asyncio

import pytest

from bot.template_messages import build_data
from bot.wechat_api import OAuthCodeError, WeChatAPI, WeChatAPIError, WeChatNetworkError
from conftest import LiveServer
from sandbox.state import SandboxState
from sandbox.wechat_api import call_count

FOLLOWER = "oDemo0NewFollowerGuest0000001"  # a demo follower of the sandbox account
STRANGER = "oNotAFollowerOfTheAccount0001"


def notice_data() -> dict[str, dict[str, str]]:
    return build_data("NOTICE_NEW", {"thing1": "关于开展消防安全检查的通知", "thing2": "市物业中心",
                                     "phrase3": "需回复", "time4": "2026-12-01 18:00"})


@pytest.fixture
def sandbox(live: LiveServer) -> SandboxState:
    return SandboxState(live.redis)


async def test_fetch_token_single_flight_after_expiry(live: LiveServer,
                                                      sandbox: SandboxState) -> None:
    # Twenty processes (each its own client) find the shared token expired at the same moment.
    clients = [WeChatAPI(live.settings, live.redis) for _ in range(20)]
    try:
        await clients[0].access_token()
        await clients[0].forget_token()
        answers = await asyncio.gather(*(c.user_info(FOLLOWER) for c in clients))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    assert await sandbox.token_calls() == 2
    assert {a["subscribe"] for a in answers} == {1}


async def test_refresh_token_single_flight_when_wechat_invalidates(
        wechat: WeChatAPI, sandbox: SandboxState) -> None:
    await wechat.access_token()
    await sandbox.expire_all_tokens()  # WeChat no longer honours the cached token: 40001
    answers = await asyncio.gather(*(wechat.user_info(FOLLOWER) for _ in range(20)))
    assert await sandbox.token_calls() == 2
    assert len(answers) == 20


@pytest.mark.parametrize("errcode", [40001, 40014, 42001])
async def test_send_template_token_error_refreshes_once(
        live: LiveServer, wechat: WeChatAPI, sandbox: SandboxState, errcode: int) -> None:
    await wechat.access_token()
    await sandbox.add_fault("template_send", errcode)
    msgid = await wechat.send_template(FOLLOWER, live.settings.template_id("NOTICE_NEW"),
                                       notice_data(), client_msg_id="101")
    assert msgid > 0
    assert await sandbox.token_calls() == 2
    [received] = await sandbox.messages(FOLLOWER)
    assert received["msgid"] == msgid


async def test_send_template_second_token_error_refused_without_loop(
        live: LiveServer, wechat: WeChatAPI, sandbox: SandboxState) -> None:
    await wechat.access_token()
    await sandbox.add_fault("template_send", 40001, count=2)
    with pytest.raises(WeChatAPIError) as refused:
        await wechat.send_template(FOLLOWER, live.settings.template_id("NOTICE_NEW"),
                                   notice_data(), client_msg_id="102")
    assert refused.value.errcode == 40001
    assert await call_count(live.redis, "template_send") == 2
    assert await sandbox.token_calls() == 2
    assert await sandbox.messages(FOLLOWER) == []


async def test_call_wechat_timeout_raises_network_error(live: LiveServer,
                                                        sandbox: SandboxState) -> None:
    api = WeChatAPI(live.settings, live.redis, timeout=0.3)
    try:
        await api.access_token()
        await sandbox.add_fault("user_info", 0, delay=1.5)
        with pytest.raises(WeChatNetworkError):
            await api.user_info(FOLLOWER)
    finally:
        await api.aclose()


async def test_fetch_token_wrong_secret_refused(live: LiveServer) -> None:
    api = WeChatAPI(live.settings.with_overrides(wechat_secret="not-the-secret"), live.redis)
    try:
        with pytest.raises(WeChatAPIError) as refused:
            await api.access_token()
    finally:
        await api.aclose()
    assert refused.value.errcode == 40125


async def test_send_template_repeat_client_msg_id_delivered_once(
        live: LiveServer, wechat: WeChatAPI, sandbox: SandboxState) -> None:
    template_id = live.settings.template_id("NOTICE_NEW")
    first = await wechat.send_template(FOLLOWER, template_id, notice_data(), client_msg_id="7")
    again = await wechat.send_template(FOLLOWER, template_id, notice_data(), client_msg_id="7")
    assert first == again
    assert len(await sandbox.messages(FOLLOWER)) == 1


async def test_send_template_bad_value_refused_47003(live: LiveServer, wechat: WeChatAPI,
                                                     sandbox: SandboxState) -> None:
    data = notice_data()
    data["thing1"]["value"] = "第一行\n第二行"
    with pytest.raises(WeChatAPIError) as refused:
        await wechat.send_template(FOLLOWER, live.settings.template_id("NOTICE_NEW"), data)
    assert refused.value.errcode == 47003
    assert await sandbox.messages(FOLLOWER) == []


async def test_send_template_to_stranger_refused_43004(live: LiveServer,
                                                       wechat: WeChatAPI) -> None:
    with pytest.raises(WeChatAPIError) as refused:
        await wechat.send_template(STRANGER, live.settings.template_id("NOTICE_NEW"),
                                   notice_data())
    assert refused.value.errcode == 43004


async def test_send_custom_text_received(wechat: WeChatAPI, sandbox: SandboxState) -> None:
    await wechat.send_custom_text(FOLLOWER, "您的申请已受理。")
    [received] = await sandbox.messages(FOLLOWER)
    assert (received["type"], received["content"]) == ("custom", "您的申请已受理。")


async def test_exchange_oauth_code_once(wechat: WeChatAPI, sandbox: SandboxState) -> None:
    code = await sandbox.issue_code(FOLLOWER, snapshot=True)
    answer = await wechat.oauth_exchange_code(code)
    assert (answer["openid"], answer["is_snapshotuser"]) == (FOLLOWER, 1)
    with pytest.raises(OAuthCodeError) as reused:
        await wechat.oauth_exchange_code(code)
    assert reused.value.errcode == 40163
    with pytest.raises(OAuthCodeError) as invalid:
        await wechat.oauth_exchange_code("0" * 32)
    assert invalid.value.errcode == 40029


async def test_fetch_user_info_stranger_not_subscribed(wechat: WeChatAPI) -> None:
    assert (await wechat.user_info(STRANGER))["subscribe"] == 0
