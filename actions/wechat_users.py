"""What WeChat tells us about its users: follows, unfollows, template deliveries, late replies.

The actor of these changes is WeChat itself (an event), except the late reply, which the bot
sends on the user's behalf.
"""

from __future__ import annotations

import logging
from typing import Any

from redis.exceptions import RedisError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.sessions import H5_SESSIONS, SessionStore
from models.outbox import OutboxMessage
from models.people import Person, WeChatBinding
from settings import Settings

from .audit import Actor, record_audit
from .clock import now
from .outbox import enqueue_text

log = logging.getLogger("wuye.wechat_users")

WECHAT = Actor("wechat", name="微信")
DELIVERY_STATUS_MAX = 64  # OutboxMessage.delivery_status


async def _enterprise_of(conn: BaseDBAsyncClient, person_id: int) -> int | None:
    """The person's enterprise, so the change shows in that enterprise's audit trail."""
    person = await Person.filter(id=person_id).using_db(conn).only("id", "enterprise_id").first()
    return person.enterprise_id if person else None  # type: ignore[attr-defined]


async def do_record_follow(openid: str) -> bool:
    """A (re-)follow: pushes to a bound follower resume. False when the openid is unbound."""
    async with in_transaction() as conn:
        binding = await WeChatBinding.filter(openid=openid).using_db(
            conn).select_for_update().first()
        if binding is None:
            return False
        if not binding.following:
            await WeChatBinding.filter(id=binding.id).using_db(conn).update(
                following=True, unfollowed_at=None)
            person_id: int = binding.person_id  # type: ignore[attr-defined]
            await record_audit(conn, WECHAT, "wechat.followed", "person", person_id,
                               old={"following": False}, new={"following": True},
                               enterprise_id=await _enterprise_of(conn, person_id))
    return True


async def do_record_unfollow(openid: str, *, redis: Any, settings: Settings) -> bool:
    """An unfollow stops pushes and ends the person's page sessions; the binding is kept
    (F1: unsubscribing does not unbind). False when the openid is unbound."""
    async with in_transaction() as conn:
        binding = await WeChatBinding.filter(openid=openid).using_db(
            conn).select_for_update().first()
        if binding is None:
            return False
        person_id: int = binding.person_id  # type: ignore[attr-defined]
        if binding.following:
            await WeChatBinding.filter(id=binding.id).using_db(conn).update(
                following=False, unfollowed_at=now())
            await record_audit(conn, WECHAT, "wechat.unfollowed", "person", person_id,
                               old={"following": True}, new={"following": False},
                               enterprise_id=await _enterprise_of(conn, person_id))
    try:
        await SessionStore(redis, settings, H5_SESSIONS).revoke_owner(f"person:{person_id}")
    except RedisError:
        # Sessions live in Redis: while it is unreachable no session can be used either.
        log.warning("redis unreachable: sessions of person %s not revoked", person_id)
    return True


async def do_record_template_delivery(msgid: int, status: str) -> bool:
    """WeChat's TEMPLATESENDJOBFINISH report (`success`, `failed:user block`,
    `failed: system failed`) on the outbox row it sent, in one conditional UPDATE. False when
    no row has that msgid, or the row already says so (a repeated report keeps the first
    delivered_at).

    No audit entry and no locked read: the report is WeChat's bookkeeping on an outbox row, not
    a change anyone made, and it comes once for every message sent (3,000 for a city-wide
    notice), where the transaction with its audit row was a fifth of the fan-out's time. The
    row shows it (delivery_status, delivered_at) on the pages that list deliveries.
    """
    status = status.strip()[:DELIVERY_STATUS_MAX]
    delivered_at = now() if status == "success" else None
    updated: int = await OutboxMessage.filter(wechat_msgid=msgid).exclude(
        delivery_status=status).update(delivery_status=status, delivered_at=delivered_at)
    return bool(updated)


async def do_send_late_reply(openid: str, text: str, *, route: str) -> OutboxMessage:
    """A reply the callback could not wait for goes out as a customer-service message."""
    async with in_transaction() as conn:
        message = await enqueue_text(conn, openid=openid, text=text,
                                     subject=("callback_reply", None))
        await record_audit(conn, Actor("system", name="公众号"), "bot.late_reply",
                           "outbox_message", message.id, new={"route": route})
    return message
