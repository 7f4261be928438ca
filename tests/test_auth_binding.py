"""The binding form (issue 3, part 2): a leader, a handler and a project manager bind over real
HTTP with the sandbox as WeChat and as their phone; every way it is refused."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from auth_helpers import (
    DEMO_LEADER_OPENID,
    GUEST_OPENID,
    HANDLER_LINA_FORM,
    LEADER_CHENJING_FORM,
    MANAGER_LIUYANG_FORM,
    UNBOUND_HANDLER_OPENID,
    UNBOUND_LEADER_OPENID,
    UNBOUND_MANAGER_OPENID,
    bind,
    csrf_token,
    sandbox_sms_code,
    send_bind_code,
    sign_in,
)

from actions import clock
from actions.binding import do_bind_wechat
from actions.errors import ActionError
from conftest import LiveServer
from models.audit import AuditEntry
from models.people import Person, PersonStatus, WeChatBinding


async def _bind_attempt(c: httpx.AsyncClient, form: dict[str, str],
                        code: str) -> httpx.Response:
    token = await csrf_token(c, "/auth/bind")
    return await c.post("/auth/bind", data={**form, "sms_code": code, "op": "bind",
                                            "csrf_token": token})


async def test_bind_leader_lands_on_page_first_asked(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID, "/h5/account")
        pre_binding_sid = c.cookies.get("wuye_sid")
        sent = await send_bind_code(c, LEADER_CHENJING_FORM)
        assert "验证码已发送至139****0001" in sent.text
        assert "沙箱短信" in sent.text
        code = await sandbox_sms_code(c, "13900000001")
        r = await _bind_attempt(c, LEADER_CHENJING_FORM, code)
        assert r.status_code == 302 and r.headers["location"] == "/h5/account"
        assert c.cookies.get("wuye_sid") != pre_binding_sid  # a new session id on bind
        page = await c.get("/h5/account")
    assert page.status_code == 200
    assert "陈静" in page.text and "深圳市安居乐物业管理有限公司" in page.text
    assert "安居乐家园" in page.text and "东门商业广场" in page.text
    binding = await WeChatBinding.get(openid=UNBOUND_LEADER_OPENID).prefetch_related("person")
    assert binding.person.name == "陈静"
    assert await AuditEntry.filter(event="wechat.bound", subject_id=binding.person.id).exists()


async def test_bind_handler_sees_enterprise_projects(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await bind(c, UNBOUND_HANDLER_OPENID, HANDLER_LINA_FORM)
        assert r.status_code == 302
        page = await c.get("/h5/account")
    assert "企业经办人" in page.text and "鹏城花园" in page.text and "福景大厦" in page.text


async def test_bind_manager_sees_only_own_project(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await bind(c, UNBOUND_MANAGER_OPENID, MANAGER_LIUYANG_FORM)
        assert r.status_code == 302
        page = await c.get("/h5/account")
    assert "项目经理" in page.text and "福景大厦" in page.text
    assert "鹏城花园" not in page.text and "香蜜湖公寓" not in page.text
    assert "通知消息" in page.text and "共有资金" not in page.text


async def test_bind_ignores_openid_in_form(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        await send_bind_code(c, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(c, "13900000001")
        token = await csrf_token(c, "/auth/bind")
        r = await c.post("/auth/bind?openid=" + GUEST_OPENID,
                         data={**LEADER_CHENJING_FORM, "sms_code": code, "op": "bind",
                               "openid": GUEST_OPENID, "csrf_token": token},
                         headers={"X-WeChat-OpenId": GUEST_OPENID})
        assert r.status_code == 302
    assert await WeChatBinding.filter(openid=UNBOUND_LEADER_OPENID).exists()
    assert not await WeChatBinding.filter(openid=GUEST_OPENID).exists()


async def test_bind_wrong_code_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        await send_bind_code(c, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(c, "13900000001")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        r = await _bind_attempt(c, LEADER_CHENJING_FORM, wrong)
        assert r.status_code == 400 and "验证码错误或已过期" in r.text
        # The right code still works after one mistake.
        r = await _bind_attempt(c, LEADER_CHENJING_FORM, code)
        assert r.status_code == 302
    assert await WeChatBinding.filter(openid=UNBOUND_LEADER_OPENID).exists()


async def test_bind_expired_code_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        await send_bind_code(c, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(c, "13900000001")
        clock.travel(301)
        r = await _bind_attempt(c, LEADER_CHENJING_FORM, code)
        assert r.status_code == 400 and "验证码错误或已过期" in r.text
    assert not await WeChatBinding.filter(openid=UNBOUND_LEADER_OPENID).exists()


async def test_bind_code_works_once(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        await send_bind_code(c, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(c, "13900000001")
        assert (await _bind_attempt(c, LEADER_CHENJING_FORM, code)).status_code == 302
        token = await csrf_token(c)
        assert (await c.post("/h5/account/unbind", data={"csrf_token": token})).status_code == 200
        r = await sign_in(c, UNBOUND_LEADER_OPENID)
        assert r.headers["location"] == "/auth/bind"
        r = await _bind_attempt(c, LEADER_CHENJING_FORM, code)
        assert r.status_code == 400 and "验证码错误或已过期" in r.text
    assert not await WeChatBinding.filter(openid=UNBOUND_LEADER_OPENID).exists()


async def test_bind_code_of_other_openid_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as owner, live.client() as other:
        await sign_in(owner, UNBOUND_LEADER_OPENID)
        await send_bind_code(owner, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(owner, "13900000001")
        await sign_in(other, GUEST_OPENID)
        r = await _bind_attempt(other, LEADER_CHENJING_FORM, code)
        assert r.status_code == 400
    assert not await WeChatBinding.filter(person__name="陈静").exists()


async def test_send_code_resend_cooldown(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        assert (await send_bind_code(c, LEADER_CHENJING_FORM)).status_code == 200
        first = await sandbox_sms_code(c, "13900000001")
        clock.travel(30)
        again = await send_bind_code(c, LEADER_CHENJING_FORM)
        assert again.status_code == 429 and "秒后再试" in again.text
        assert await sandbox_sms_code(c, "13900000001") == first
        clock.travel(31)
        assert (await send_bind_code(c, LEADER_CHENJING_FORM)).status_code == 200


async def test_bind_failures_limited_per_openid(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        await send_bind_code(c, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(c, "13900000001")
        for _ in range(5):
            r = await _bind_attempt(c, LEADER_CHENJING_FORM, "000000" if code != "000000"
                                    else "111111")
            assert r.status_code == 400
        r = await _bind_attempt(c, LEADER_CHENJING_FORM, code)
        assert r.status_code == 429
        assert "尝试次数过多，请于" in r.text and "后再试" in r.text
        # Another mobile from the same openid is refused too.
        other = {**LEADER_CHENJING_FORM, "mobile": "13900000009"}
        assert (await _bind_attempt(c, other, "123456")).status_code == 429
        clock.travel(15 * 60 + 1)
        await send_bind_code(c, LEADER_CHENJING_FORM)
        code = await sandbox_sms_code(c, "13900000001")
        assert (await _bind_attempt(c, LEADER_CHENJING_FORM, code)).status_code == 302


async def test_bind_failures_limited_per_mobile(live: LiveServer, demo: None) -> None:
    form = MANAGER_LIUYANG_FORM
    async with live.client() as a, live.client() as b:
        await sign_in(a, GUEST_OPENID)
        await sign_in(b, UNBOUND_MANAGER_OPENID)
        for _ in range(5):  # someone guessing codes for 刘洋's mobile from another WeChat
            assert (await _bind_attempt(a, form, "999999")).status_code == 400
        r = await send_bind_code(b, form)
        assert r.status_code == 429 and "尝试次数过多" in r.text
        assert (await _bind_attempt(b, form, "123456")).status_code == 429


async def test_bind_unknown_person_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, GUEST_OPENID)
        r = await send_bind_code(c, {**LEADER_CHENJING_FORM, "credit_code": "91440300MA5FP0009X"})
        assert r.status_code == 400 and "未找到该统一社会信用代码" in r.text
        r = await send_bind_code(c, {**MANAGER_LIUYANG_FORM, "mobile": "13800000099"})
        assert r.status_code == 400 and "姓名与手机号不匹配" in r.text
        # A leader's data in the manager form does not match: managers bind as managers.
        r = await send_bind_code(c, {"kind": "manager", "name": "陈静", "mobile": "13900000001"})
        assert r.status_code == 400
        r = await send_bind_code(c, {**MANAGER_LIUYANG_FORM, "mobile": "1380000"})
        assert r.status_code == 400 and "11位手机号" in r.text
    assert await WeChatBinding.filter(openid=GUEST_OPENID).count() == 0


async def test_bind_person_already_bound_refused_with_way_out(live: LiveServer,
                                                              demo: None) -> None:
    async with live.client() as first, live.client() as second:
        assert (await bind(first, UNBOUND_LEADER_OPENID, LEADER_CHENJING_FORM)).status_code == 302
        await sign_in(second, GUEST_OPENID)
        clock.travel(61)
        await send_bind_code(second, LEADER_CHENJING_FORM)
        r = await _bind_attempt(second, LEADER_CHENJING_FORM,
                                await sandbox_sms_code(second, "13900000001"))
        assert r.status_code == 409
        assert "已绑定其他微信" in r.text and "解除绑定" in r.text
    binding = await WeChatBinding.get(person__name="陈静")
    assert binding.openid == UNBOUND_LEADER_OPENID


async def test_bind_deregistered_person_refused(live: LiveServer, demo: None) -> None:
    await Person.filter(name="刘洋").update(status=PersonStatus.DEREGISTERED)
    async with live.client() as c:
        await sign_in(c, UNBOUND_MANAGER_OPENID)
        r = await send_bind_code(c, MANAGER_LIUYANG_FORM)
        assert r.status_code == 400 and "不匹配" in r.text


async def test_bind_without_csrf_token_refused(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        await sign_in(c, UNBOUND_LEADER_OPENID)
        r = await c.post("/auth/bind", data={**LEADER_CHENJING_FORM, "op": "send_code"})
        assert r.status_code == 403
        r = await c.post("/auth/bind", data={**LEADER_CHENJING_FORM, "op": "send_code",
                                             "csrf_token": "forged"})
        assert r.status_code == 403
    assert await live.redis.get("sms:cooldown:13900000001") is None


async def test_bind_form_without_oauth_starts_oauth(live: LiveServer, demo: None) -> None:
    async with live.client() as c:
        r = await c.get("/auth/bind")
        assert r.status_code == 302 and r.headers["location"].startswith("/auth/start")
        r = await c.post("/auth/bind", data=LEADER_CHENJING_FORM)
        assert r.status_code == 302 and r.headers["location"].startswith("/auth/start")
        await sign_in(c, DEMO_LEADER_OPENID)
        r = await c.get("/auth/bind")
        assert r.status_code == 302 and r.headers["location"] == "/h5/projects"


async def test_bind_same_person_concurrently_one_wins(demo: None) -> None:
    person = await Person.get(name="陈静")
    results = await asyncio.gather(do_bind_wechat(UNBOUND_LEADER_OPENID, person),
                                   do_bind_wechat(GUEST_OPENID, person),
                                   return_exceptions=True)
    refused = [r for r in results if isinstance(r, ActionError)]
    assert len(refused) == 1 and refused[0].code == "person_bound"
    assert await WeChatBinding.filter(person_id=person.id).count() == 1


async def test_bind_openid_already_bound_refused(demo: None) -> None:
    person = await Person.get(name="陈静")
    with pytest.raises(ActionError) as refused:
        await do_bind_wechat(DEMO_LEADER_OPENID, person)
    assert refused.value.code == "openid_bound" and "解除绑定" in refused.value.message
