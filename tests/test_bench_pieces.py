"""The pieces of `make bench` do what the figures claim: the city it writes is one the product
serves, and the requests it replays are answered by the real callback (a reply stored for
`回复`). No timing here: the bench prints figures, tests only check behaviour."""

from __future__ import annotations

from wechatpy.crypto import WeChatCrypto

from actions import clock
from bench.callback_requests import HELP, callback_lines, mix_contents
from bench.citydata import CitySize, load_city, openid_of
from bot.protocol import CallbackProtocol, Inbound
from conftest import LiveServer
from models.notices import Notice, NoticeReceipt, NoticeReply, NoticeShortNumber
from models.projects import Project
from sandbox.wechat_client import WeChatSide, reply_fields

TINY = CitySize(enterprises=3, projects=510, employees=1020, receipts=9)


async def _replies(live: LiveServer, contents: list[str]) -> list[str]:
    side = WeChatSide(live.settings)
    lines = callback_lines(live.settings, [openid_of(2)], iter(contents), len(contents))
    answers = []
    async with live.client() as client:
        for method, target, headers, body in lines:
            response = await client.request(method, target, headers=headers,
                                            content=body.encode())
            assert response.status_code == 200
            answers.append(str(reply_fields(side.open_reply(response.text))["Content"]))
    return answers


async def test_load_city_bench_gives_big_enterprise_and_open_reply_notice(
        live: LiveServer) -> None:
    await load_city(TINY)
    assert await Project.filter(enterprise_id=1).count() == 500
    newest = await Notice.all().order_by("-created_at").first()
    assert newest is not None and newest.reply_required
    assert newest.deadline is not None and newest.deadline > clock.now()
    numbered = await NoticeShortNumber.get(person_id=2, number=1).prefetch_related("receipt")
    receipt: NoticeReceipt = numbered.receipt
    assert (receipt.notice_id, receipt.enterprise_id) == (newest.id, 2)  # type: ignore[attr-defined]


async def test_replay_callback_requests_answered_and_reply_stored(live: LiveServer) -> None:
    await load_city(TINY)
    mix = mix_contents()
    todo, notices, reply = await _replies(live, [next(mix), next(mix), next(mix)])
    assert "您的待办" in todo
    assert "【1】" in notices
    assert "已回复" in reply
    stored = await NoticeReply.filter(person_id=2).values_list("content", flat=True)
    assert stored == ["已收到，第1项整改已落实"]


async def test_replay_callback_help_answered_from_generator(live: LiveServer) -> None:
    await load_city(TINY)
    [answer] = await _replies(live, [HELP])
    assert "您可以发送以下指令" in answer


async def test_seal_reply_opens_with_wechatpy(live: LiveServer) -> None:
    settings = live.settings
    reply_xml = "<xml><Content><![CDATA[您好，这是回复]]></Content></xml>"
    sealed = CallbackProtocol(settings).seal(reply_xml, Inbound({}, True, "nonce4711"))
    fields = reply_fields(sealed)
    crypto = WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
    opened = crypto.decrypt_message(sealed, fields["MsgSignature"], fields["TimeStamp"],
                                    fields["Nonce"])
    assert opened == reply_xml
    assert fields["Nonce"] == "nonce4711"
