"""Writing messages to the outbox, always inside the caller's transaction."""

from __future__ import annotations

from tortoise.backends.base.client import BaseDBAsyncClient

from bot.template_messages import build_data
from models.outbox import OutboxKind, OutboxMessage
from models.people import WeChatBinding

from .clock import now


async def enqueue_template(
    conn: BaseDBAsyncClient,
    *,
    openid: str,
    template_key: str,
    values: dict[str, object],
    url: str = "",
    person_id: int | None = None,
    subject: tuple[str, int | None] = ("", None),
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """One template message to one openid, written with the change that caused it."""
    return await OutboxMessage.create(
        kind=OutboxKind.TEMPLATE,
        openid=openid,
        person_id=person_id,
        template_key=template_key,
        data=build_data(template_key, values),
        url=url,
        subject_type=subject[0],
        subject_id=subject[1],
        dedupe_key=dedupe_key,
        next_attempt_at=now(),
        using_db=conn,
    )


async def enqueue_template_to_people(
    conn: BaseDBAsyncClient,
    person_ids: list[int],
    *,
    template_key: str,
    values: dict[str, object],
    url: str = "",
    subject: tuple[str, int | None] = ("", None),
    dedupe_prefix: str | None = None,
) -> list[OutboxMessage]:
    """The same template message to every bound, following person of `person_ids`, in one
    query for the bindings and one bulk insert (a city-wide notice reaches thousands)."""
    bindings = await WeChatBinding.filter(
        person_id__in=set(person_ids), following=True).using_db(conn).values("openid", "person_id")
    data = build_data(template_key, values)
    at = now()
    rows = [
        OutboxMessage(
            kind=OutboxKind.TEMPLATE, openid=b["openid"], person_id=b["person_id"],
            template_key=template_key, data=data, url=url, subject_type=subject[0],
            subject_id=subject[1], next_attempt_at=at,
            dedupe_key=f"{dedupe_prefix}:{b['person_id']}" if dedupe_prefix else None)
        for b in bindings
    ]
    if rows:
        await OutboxMessage.bulk_create(rows, batch_size=1000, using_db=conn)
    return rows


async def enqueue_text(
    conn: BaseDBAsyncClient,
    *,
    openid: str,
    text: str,
    subject: tuple[str, int | None] = ("", None),
) -> OutboxMessage:
    """A customer-service text message (allowed within 48 h of the user's last message)."""
    return await OutboxMessage.create(
        kind=OutboxKind.CUSTOM_TEXT, openid=openid, text=text, subject_type=subject[0],
        subject_id=subject[1], next_attempt_at=now(), using_db=conn)
