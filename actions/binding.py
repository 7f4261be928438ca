"""Binding a WeChat openid to a person (F1), and unbinding it.

One openid binds one person and one person one openid: both are unique columns of
WeChatBinding, so of two concurrent binds for the same person exactly one is committed.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.sessions import SessionStore
from models.enterprises import Enterprise
from models.people import Person, PersonStatus, Role, WeChatBinding

from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError

PERSON_TAKEN = ("该人员已绑定其他微信。如需换绑，请先在原微信的「我的账号」中解除绑定，"
                "或联系企业负责人。")
OPENID_TAKEN = "此微信已绑定其他人员，请先在「我的账号」中解除绑定后再绑定。"


class BindingKind(StrEnum):
    ENTERPRISE = "enterprise"  # leader or handler: credit code + name + mobile
    MANAGER = "manager"  # project manager: name + the mobile the leader registered


def person_actor(person: Person) -> Actor:
    return Actor("person", person.id, person.name, person.enterprise_id)  # type: ignore[attr-defined]


async def check_person_to_bind(kind: BindingKind, *, credit_code: str, name: str,
                               mobile: str) -> Person:
    """The active person the form describes, or a refusal naming what did not match."""
    people = Person.filter(name=name.strip(), mobile=mobile.strip(),
                           status=PersonStatus.ACTIVE)
    if kind == BindingKind.ENTERPRISE:
        enterprise = await Enterprise.filter(credit_code=credit_code.strip().upper()).first()
        if enterprise is None:
            raise ActionError("no_enterprise", "未找到该统一社会信用代码对应的企业，请核对后重试。")
        people = people.filter(enterprise_id=enterprise.id, role__in=[Role.LEADER, Role.HANDLER])
    else:
        people = people.filter(role=Role.MANAGER)
    found = await people.limit(2)
    if not found:
        raise ActionError("no_person", "姓名与手机号不匹配已登记的人员，请核对；项目经理请确认"
                                        "企业负责人已在「权限管理」中登记了您的手机号。")
    if len(found) > 1:
        raise ActionError("ambiguous_person",
                          "该手机号登记在多家企业，请联系企业负责人核对后再绑定。")
    return found[0]


async def do_bind_wechat(openid: str, person: Person) -> WeChatBinding:
    """Bind `openid` (from the OAuth exchange, never from a request) to `person`."""
    actor = person_actor(person)
    try:
        async with in_transaction() as conn:
            fresh = await Person.filter(id=person.id).using_db(conn).first()
            if fresh is None or fresh.status != PersonStatus.ACTIVE:
                raise ActionError("person_inactive", "该人员已注销，无法绑定。")
            if await WeChatBinding.filter(person_id=person.id).using_db(conn).exists():
                raise ActionError("person_bound", PERSON_TAKEN, 409)
            if await WeChatBinding.filter(openid=openid).using_db(conn).exists():
                raise ActionError("openid_bound", OPENID_TAKEN, 409)
            binding = await WeChatBinding.create(openid=openid, person_id=person.id,
                                                 using_db=conn)
            await record_audit(conn, actor, "wechat.bound", "person", person.id,
                               new={"openid": openid})
    except IntegrityError as exc:
        # A concurrent bind of the same person or openid committed first.
        taken = await WeChatBinding.filter(person_id=person.id).exists()
        raise ActionError("person_bound" if taken else "openid_bound",
                          PERSON_TAKEN if taken else OPENID_TAKEN, 409) from exc
    return binding


async def do_unbind_wechat(actor: Actor, person: Person, sessions: SessionStore) -> None:
    """Remove the person's binding and end their sessions at once."""
    async with in_transaction() as conn:
        binding = await WeChatBinding.filter(person_id=person.id).using_db(conn).first()
        if binding is None:
            raise ActionError("not_bound", "当前没有绑定微信。")
        await binding.delete(using_db=conn)
        await record_audit(conn, actor, "wechat.unbound", "person", person.id,
                           old={"openid": binding.openid, "bound_at": str(binding.bound_at)},
                           new={"unbound_at": now().isoformat()})
    await sessions.revoke_owner(f"person:{person.id}")
