"""The outbox worker: delivers the template and customer-service messages actions wrote.

Claiming: a batch of due rows (pending and due, or stuck in SENDING past the lease) is moved to
SENDING with a claim token in one transaction. On PostgreSQL the SELECT takes
`FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other's rows by; on SQLite, which
serialises writers, the claiming UPDATE repeats the due condition, so a row another worker
claimed after our SELECT no longer matches. Every outcome is written only while the row still
carries our claim token.

Sending uses the row id as WeChat's `client_msg_id`: when a worker dies after WeChat accepted a
message but before recording it, the row's lease runs out, another worker sends it again and
WeChat drops the repeat. So nothing is lost and nothing is delivered twice.

Outcomes: sent; 43004 → NOT_FOLLOWING and the binding marked not following; 45009 (daily quota)
→ every worker pauses sending and the row waits, its attempts untouched; a permanent refusal
(47003 and the like) → DEAD; anything else (network, timeouts, token trouble, WeChat busy) →
retried with exponential backoff, DEAD after the last try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from actions.clock import now
from actions.delivery import do_record_not_following
from bot.schedules import run_due_jobs
from bot.wechat_api import WeChatAPI, WeChatAPIError, WeChatNetworkError
from core.db import dialect
from core.metrics import count_outbox
from models.outbox import OutboxKind, OutboxMessage, OutboxStatus
from settings import Settings

log = logging.getLogger(__name__)

BATCH_SIZE = 50
# A whole batch in flight at once: a batch lasts as long as its slowest send, and at WeChat's
# ~20 ms a call, 8 at a time held a worker to ~300 messages/s (`make bench`, fan-out).
SEND_CONCURRENCY = BATCH_SIZE
MAX_ATTEMPTS = 9
# A transient failure (WeChat's -1 "system busy", a network error) mostly passes when tried
# again at once: the first retry comes after seconds, so a city-wide notice is not held back.
QUICK_RETRY_SECONDS = 2
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600  # 2 s, 30 s, 1 min, … 32 min, then dead: about an hour in all
LEASE_SECONDS = 60  # a SENDING row older than this belongs to a dead worker
QUOTA_PAUSE_SECONDS = 1800  # 45009: the day's quota is spent; try again later
IDLE_SECONDS = 1.0
SCHEDULE_TICK_SECONDS = 5.0
PAUSE_KEY = "outbox:paused_until"

NOT_FOLLOWING = 43004
QUOTA_EXCEEDED = 45009
# Refusals that a retry cannot change: bad values, bad openid or template, the 48-hour window
# of customer-service messages, a malformed request.
PERMANENT_ERRORS = frozenset({40003, 40008, 40037, 44002, 45015, 47001, 47003})


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try."""
    if attempts <= 1:
        return timedelta(seconds=QUICK_RETRY_SECONDS)
    return timedelta(seconds=min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2 ** (attempts - 2)))


class OutboxWorker:
    def __init__(self, settings: Settings, redis: Any, wechat: WeChatAPI) -> None:
        self.settings = settings
        self.redis = redis
        self.wechat = wechat
        self.worker_id = f"{socket.gethostname()[:24]}:{os.getpid()}:{secrets.token_hex(3)}"
        self._claims = 0
        self._stopping = asyncio.Event()
        self._paused_until: datetime | None = None

    def stop(self) -> None:
        self._stopping.set()

    async def run_forever(self) -> None:
        log.info("outbox worker %s started", self.worker_id)
        next_schedule = 0.0
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                handled = await self.run_once()
                if loop.time() >= next_schedule:
                    next_schedule = loop.time() + SCHEDULE_TICK_SECONDS
                    await run_due_jobs(self.redis)
            except Exception:  # the worker's boundary: log, wait, go on (the database may be back)
                log.exception("outbox worker %s: round failed", self.worker_id)
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):  # idle: wait for work or for stop()
                    await asyncio.wait_for(self._stopping.wait(), IDLE_SECONDS)
        log.info("outbox worker %s stopped", self.worker_id)

    async def run_once(self) -> int:
        """Claim one batch of due messages and deliver it; how many rows were claimed."""
        if await self.paused():
            return 0
        claim, rows = await self.claim_batch()
        if not rows:
            return 0
        limit = asyncio.Semaphore(SEND_CONCURRENCY)

        async def deliver(row: OutboxMessage) -> None:
            async with limit:
                outcome = await self._deliver(row, claim)
            count_outbox(outcome)

        await asyncio.gather(*(deliver(row) for row in rows))
        return len(rows)

    # -- claiming ------------------------------------------------------------------------------
    async def claim_batch(self) -> tuple[str, list[OutboxMessage]]:
        """Move up to BATCH_SIZE due rows to SENDING under a fresh claim token."""
        self._claims += 1
        claim = f"{self.worker_id}/{self._claims}"
        at = now()
        due = (Q(status=OutboxStatus.PENDING, next_attempt_at__lte=at)
               | Q(status=OutboxStatus.SENDING,
                   claimed_at__lt=at - timedelta(seconds=LEASE_SECONDS)))
        async with in_transaction() as conn:
            query = OutboxMessage.filter(due).using_db(conn) \
                .order_by("next_attempt_at", "id").limit(BATCH_SIZE)
            if dialect() == "postgres":
                query = query.select_for_update(skip_locked=True)
            # Model rows, not values_list(): tortoise drops FOR UPDATE from values queries.
            ids = [row.id for row in await query.only("id")]
            if not ids:
                return claim, []
            await OutboxMessage.filter(due, id__in=ids).using_db(conn).update(
                status=OutboxStatus.SENDING, claimed_at=at, claimed_by=claim)
        rows = await OutboxMessage.filter(claimed_by=claim, status=OutboxStatus.SENDING) \
            .order_by("id")
        return claim, rows

    # -- the quota pause (45009), shared by every worker ---------------------------------------
    async def paused(self) -> bool:
        raw = await self.redis.get(PAUSE_KEY)
        self._paused_until = datetime.fromisoformat(raw) if raw else None
        return self._paused_until is not None and now() < self._paused_until

    async def _pause(self) -> datetime:
        until = now() + timedelta(seconds=QUOTA_PAUSE_SECONDS)
        self._paused_until = until
        await self.redis.set(PAUSE_KEY, until.isoformat(), ex=QUOTA_PAUSE_SECONDS * 2)
        log.warning("WeChat quota exceeded (45009): sending paused until %s", until)
        return until

    # -- delivering ----------------------------------------------------------------------------
    async def _deliver(self, row: OutboxMessage, claim: str) -> str:
        """Send one claimed row and record the outcome; the outcome's name (for metrics)."""
        if self._paused_until is not None and now() < self._paused_until:
            await self._record(row, claim, status=OutboxStatus.PENDING,
                               next_attempt_at=self._paused_until)
            return "paused"
        try:
            msgid = await self._send(row)
        except WeChatAPIError as exc:
            return await self._refused(row, claim, exc.errcode, exc.errmsg)
        except WeChatNetworkError as exc:
            return await self._retry_or_dead(row, claim, None, str(exc))
        await self._record(row, claim, status=OutboxStatus.SENT, attempts=row.attempts + 1,
                           sent_at=now(), wechat_msgid=msgid or None, last_errcode=0,
                           last_error="")
        return "sent"

    async def _send(self, row: OutboxMessage) -> int:
        if row.kind == OutboxKind.CUSTOM_TEXT:
            await self.wechat.send_custom_text(row.openid, row.text)
            return 0
        template_id = self.settings.template_id(row.template_key)
        if not template_id:
            raise WeChatAPIError(40037, f"no template id configured for {row.template_key}")
        return await self.wechat.send_template(row.openid, template_id, row.data, row.url,
                                               client_msg_id=str(row.id))

    async def _refused(self, row: OutboxMessage, claim: str, errcode: int, errmsg: str) -> str:
        log.info("outbox %s to %s refused: %s %s", row.id, row.openid, errcode, errmsg)
        if errcode == NOT_FOLLOWING:
            await do_record_not_following(row.id, claim, errmsg)
            return "not_following"
        if errcode == QUOTA_EXCEEDED:
            until = await self._pause()
            await self._record(row, claim, status=OutboxStatus.PENDING, next_attempt_at=until,
                               last_errcode=errcode, last_error=errmsg[:300])
            return "paused"
        if errcode in PERMANENT_ERRORS:
            await self._record(row, claim, status=OutboxStatus.DEAD, attempts=row.attempts + 1,
                               last_errcode=errcode, last_error=errmsg[:300])
            return "dead"
        return await self._retry_or_dead(row, claim, errcode, errmsg)

    async def _retry_or_dead(self, row: OutboxMessage, claim: str, errcode: int | None,
                             error: str) -> str:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            log.warning("outbox %s to %s dead after %s tries: %s", row.id, row.openid,
                        attempts, error)
            await self._record(row, claim, status=OutboxStatus.DEAD, attempts=attempts,
                               last_errcode=errcode, last_error=error[:300])
            return "dead"
        await self._record(row, claim, status=OutboxStatus.PENDING, attempts=attempts,
                           next_attempt_at=now() + backoff(attempts), last_errcode=errcode,
                           last_error=error[:300])
        return "retry"

    async def _record(self, row: OutboxMessage, claim: str, **changes: Any) -> None:
        """Write an outcome, only while the row is still ours (our lease may have run out)."""
        updated = await OutboxMessage.filter(id=row.id, claimed_by=claim,
                                             status=OutboxStatus.SENDING).update(**changes)
        if not updated:
            log.warning("outbox %s: claim %s lost before recording %s", row.id, claim,
                        changes.get("status"))


async def run_standalone_worker(settings: Settings) -> None:
    """`python server.py worker`: the outbox worker and the schedules, until SIGINT/SIGTERM.
    The database is already open (server.py); Redis and the WeChat client are opened here."""
    from core.redis import make_redis

    redis = make_redis(settings)
    wechat = WeChatAPI(settings, redis)
    worker = OutboxWorker(settings, redis, wechat)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    try:
        await worker.run_forever()
    finally:
        await wechat.aclose()
        await redis.aclose()
