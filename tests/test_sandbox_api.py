"""The sandbox's JSON API (F19): identities, SMS codes, messages received, talking to the bot,
injected faults and expired tokens."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conftest import LiveServer, free_port, live_settings, start_live, stop_live
from demo_data.load import DEMO_OFFICER_PASSWORD, FOLLOWERS
from models.people import WeChatBinding
from sandbox.state import SandboxState

ZHANG_WEI = "oDemo0LeaderZhangWei00000001"
LI_NA = "oDemo0NewFollowerLiNa00000002"
HELP_LINE = "您可以发送以下指令"


async def token(live: LiveServer) -> dict[str, Any]:
    async with live.client() as c:
        r = await c.get("/sandbox/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": live.settings.wechat_appid,
            "secret": live.settings.wechat_secret})
    answer: dict[str, Any] = r.json()
    return answer


async def send(live: LiveServer, **payload: Any) -> Any:
    async with live.client() as c:
        return await c.post("/sandbox/api/send", json=payload)


async def messages(live: LiveServer, openid: str, conversation: bool = False) -> list[Any]:
    params = {"openid": openid, **({"conversation": "1"} if conversation else {})}
    async with live.client() as c:
        r = await c.get("/sandbox/api/messages", params=params)
    assert r.status_code == 200
    items: list[Any] = r.json()["messages"]
    return items


async def test_list_users_shows_identities_and_binding(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await c.get("/sandbox/api/users")
    assert r.status_code == 200
    body = r.json()
    users = {u["openid"]: u for u in body["users"]}
    assert set(users) == {f.openid for f in FOLLOWERS}
    zhang = users[ZHANG_WEI]
    assert (zhang["name"], zhang["role"], zhang["mobile"], zhang["bound"]) == (
        "张伟", "leader", "13800000001", True)
    assert zhang["enterprise"] == "深圳市鹏城物业服务有限公司"
    assert zhang["credit_code"] == "91440300MA5FP0001C"
    assert users[LI_NA]["bound"] is False and users[LI_NA]["mobile"] == "13800000002"
    officers = {o["username"]: o for o in body["officers"]}
    assert officers["futian"]["district"] == "福田区"
    assert officers["city"]["password"] == DEMO_OFFICER_PASSWORD
    assert body["chat_url"] == f"{live.base_url}/sandbox/chat"


async def test_list_users_follows_the_database(live: LiveServer, demo: None) -> None:
    await WeChatBinding.filter(openid=ZHANG_WEI).delete()
    async with live.client() as c:
        users = {u["openid"]: u for u in (await c.get("/sandbox/api/users")).json()["users"]}
    assert users[ZHANG_WEI]["bound"] is False


async def test_get_sms_returns_last_code(live: LiveServer) -> None:
    state = SandboxState(live.redis)
    await state.record_sms("13800000002", "验证码 111111", "111111")
    await state.record_sms("13800000002", "验证码 246810，5 分钟内有效。", "246810")
    async with live.client() as c:
        r = await c.get("/sandbox/api/sms", params={"mobile": "13800000002"})
        none = await c.get("/sandbox/api/sms", params={"mobile": "13900000009"})
        bad = await c.get("/sandbox/api/sms", params={"mobile": "12345"})
    assert r.status_code == 200 and r.json()["code"] == "246810"
    assert none.status_code == 404
    assert none.json() == {"error": "no_sms", "message": "还没有发往这个手机号的短信。"}
    assert bad.status_code == 400 and bad.json()["error"] == "bad_mobile"


async def test_get_messages_lists_custom_messages_in_order(live: LiveServer) -> None:
    issued = (await token(live))["access_token"]
    async with live.client() as c:
        for text in ("第一条", "第二条"):
            r = await c.post("/sandbox/cgi-bin/message/custom/send",
                             params={"access_token": issued},
                             json={"touser": LI_NA, "msgtype": "text", "text": {"content": text}})
            assert r.json()["errcode"] == 0
        bad = await c.get("/sandbox/api/messages", params={"openid": "<script>"})
    received = await messages(live, LI_NA)
    assert [(m["type"], m["content"]) for m in received] == [("custom", "第一条"),
                                                             ("custom", "第二条")]
    assert await messages(live, ZHANG_WEI) == []
    assert bad.status_code == 400 and bad.json()["error"] == "bad_openid"


async def test_send_text_help_gets_help_reply(live: LiveServer, demo: None) -> None:
    r = await send(live, openid=ZHANG_WEI, type="text", content="帮助")
    assert r.status_code == 200
    body = r.json()
    assert HELP_LINE in body["reply"]
    assert body["msgtype"] == "text"
    assert "<MsgType><![CDATA[text]]></MsgType>" in body["raw"]
    # The chat shows what the user said and the reply; "messages received" shows the reply.
    conversation = await messages(live, ZHANG_WEI, conversation=True)
    assert [m["type"] for m in conversation] == ["sent", "reply"]
    assert conversation[0]["content"] == "帮助"
    assert [m["type"] for m in await messages(live, ZHANG_WEI)] == ["reply"]


async def test_send_click_help_gets_help_reply(live: LiveServer, demo: None) -> None:
    r = await send(live, openid=ZHANG_WEI, type="click", event_key="HELP")
    assert r.status_code == 200
    assert HELP_LINE in r.json()["reply"]


async def test_send_subscribe_welcomes_unbound_follower(live: LiveServer, demo: None) -> None:
    r = await send(live, openid=LI_NA, type="subscribe")
    assert r.status_code == 200
    assert "请先绑定身份" in r.json()["reply"]


async def test_send_view_gets_no_reply(live: LiveServer, demo: None) -> None:
    r = await send(live, openid=ZHANG_WEI, type="view",
                   event_key=f"{live.base_url}/h5/projects")
    assert r.status_code == 200
    assert r.json()["reply"] == "" and r.json()["msgtype"] == "none"
    assert [m["event"] for m in await messages(live, ZHANG_WEI, conversation=True)] == ["view"]


async def test_send_retried_msg_id_repeats_first_reply(live: LiveServer, demo: None) -> None:
    first = await send(live, openid=ZHANG_WEI, type="text", content="帮助")
    msg_id = first.json()["msg_id"]
    retries = [await send(live, openid=ZHANG_WEI, type="text", content="帮助", msg_id=msg_id)
               for _ in range(3)]
    assert all(r.json()["reply"] == first.json()["reply"] for r in retries)
    # The user saw one message and one reply, as in WeChat.
    assert [m["type"] for m in await messages(live, ZHANG_WEI, conversation=True)] == [
        "sent", "reply"]


@pytest.mark.parametrize(("payload", "error"), [
    ({"openid": ZHANG_WEI, "type": "voice"}, "bad_type"),
    ({"openid": "", "type": "text", "content": "帮助"}, "bad_openid"),
    ({"openid": ZHANG_WEI, "type": "text", "content": "   "}, "empty_content"),
    ({"openid": ZHANG_WEI, "type": "text", "content": "字" * 2001}, "content_too_long"),
    ({"openid": ZHANG_WEI, "type": "click"}, "empty_event_key"),
    ({"openid": ZHANG_WEI, "type": "text", "content": "帮助", "msg_id": "x"}, "bad_msg_id"),
])
async def test_send_refuses_bad_request(live: LiveServer, payload: dict[str, Any],
                                        error: str) -> None:
    r = await send(live, **payload)
    assert r.status_code == 400
    assert r.json()["error"] == error
    assert r.json()["message"]
    assert await messages(live, ZHANG_WEI, conversation=True) == []


async def test_send_refuses_broken_json(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.post("/sandbox/api/send", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"error": "bad_json", "message": "请求体不是合法的 JSON。"}


async def test_add_fault_fails_next_calls_then_recovers(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.post("/sandbox/api/faults",
                         json={"endpoint": "/cgi-bin/token", "errcode": 45009, "count": 2})
    assert r.status_code == 201 and r.json()["endpoint"] == "token"
    assert [(await token(live)).get("errcode") for _ in range(2)] == [45009, 45009]
    assert "access_token" in await token(live)


async def test_clear_faults_drops_pending_faults(live: LiveServer) -> None:
    async with live.client() as c:
        await c.post("/sandbox/api/faults", json={"endpoint": "token", "errcode": 40001,
                                                  "count": 5})
        r = await c.delete("/sandbox/api/faults")
    assert r.status_code == 200
    assert "access_token" in await token(live)


@pytest.mark.parametrize(("payload", "error"), [
    ({"endpoint": "/cgi-bin/nothing", "errcode": 40001}, "bad_endpoint"),
    ({"endpoint": "token", "errcode": 40001, "count": 0}, "bad_count"),
    ({"endpoint": "token", "errcode": "x"}, "bad_errcode"),
    ({"endpoint": "token", "delay": 600}, "bad_delay"),
])
async def test_add_fault_refuses_bad_request(live: LiveServer, payload: dict[str, Any],
                                             error: str) -> None:
    async with live.client() as c:
        r = await c.post("/sandbox/api/faults", json=payload)
    assert r.status_code == 400 and r.json()["error"] == error
    assert "access_token" in await token(live)


async def test_expire_token_makes_issued_tokens_invalid(live: LiveServer) -> None:
    issued = (await token(live))["access_token"]
    user_info = {"access_token": issued, "openid": ZHANG_WEI}
    async with live.client() as c:
        before = await c.get("/sandbox/cgi-bin/user/info", params=user_info)
        r = await c.post("/sandbox/api/expire-token")
        after = await c.get("/sandbox/cgi-bin/user/info", params=user_info)
    assert "errcode" not in before.json()
    assert r.status_code == 200
    assert after.json()["errcode"] == 40001


async def test_send_to_unreachable_callback_shows_no_service(base_settings: Any) -> None:
    # The product's public address (where WeChat posts) answers nothing; the sandbox itself is
    # reached on its own port.
    settings = live_settings(base_settings)
    settings = settings.with_overrides(public_base_url=f"http://127.0.0.1:{free_port()}")
    _, server = await start_live(settings)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}") as c:
            r = await c.post("/sandbox/api/send",
                             json={"openid": ZHANG_WEI, "type": "text", "content": "帮助"})
            chat = await c.get("/sandbox/api/messages",
                               params={"openid": ZHANG_WEI, "conversation": "1"})
    finally:
        await stop_live(server)
    assert r.status_code == 502 and r.json()["error"] == "callback_unreachable"
    assert [m["type"] for m in chat.json()["messages"]] == ["sent", "notice"]
    assert "该公众号暂时无法提供服务" in chat.json()["messages"][1]["content"]
