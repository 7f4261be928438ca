"""What the outbox worker learns from WeChat that changes more than the outbox row itself."""

from __future__ import annotations

from tortoise.transactions import in_transaction

from actions.audit import Actor, record_audit
from actions.clock import now
from models.outbox import OutboxMessage, OutboxStatus
from models.people import Person, WeChatBinding

WECHAT = Actor("wechat", name="微信")


async def do_record_not_following(message_id: int, claim: str, errmsg: str) -> bool:
    """WeChat refused a send with 43004 (the user does not follow the account): the message is
    not retried and the binding is marked not following, so later pushes skip the user until
    they follow again. False when the row is no longer ours (its lease passed to another)."""
    at = now()
    async with in_transaction() as conn:
        message = await OutboxMessage.filter(
            id=message_id, claimed_by=claim, status=OutboxStatus.SENDING,
        ).using_db(conn).select_for_update().first()
        if message is None:
            return False
        message.status = OutboxStatus.NOT_FOLLOWING
        message.attempts += 1
        message.last_errcode = 43004
        message.last_error = errmsg[:300]
        await message.save(using_db=conn, update_fields=["status", "attempts", "last_errcode",
                                                         "last_error"])
        binding = await WeChatBinding.filter(openid=message.openid, following=True) \
            .using_db(conn).select_for_update().first()
        if binding is None:
            return True
        binding.following = False
        binding.unfollowed_at = at
        await binding.save(using_db=conn, update_fields=["following", "unfollowed_at"])
        owner = await Person.filter(binding__id=binding.id).using_db(conn) \
            .values("enterprise_id")
        await record_audit(conn, WECHAT, "wechat_binding.not_following", "wechat_binding",
                           binding.id, old={"following": True},
                           new={"following": False, "outbox_message": message.id},
                           enterprise_id=owner[0]["enterprise_id"] if owner else None)
    return True
