"""The outbox worker: delivers the template and customer-service messages actions wrote.

Claiming: a batch of due rows (pending and due, or stuck in SENDING past the lease) is moved to
SENDING with a claim token in one transaction. On PostgreSQL the SELECT takes
`FOR UPDATE SKIP LOCKED`, so concurrent workers pass each other's rows by; on SQLite, which
serialises writers, the claiming UPDATE repeats the due condition, so a row another worker
claimed after our SELECT no longer matches. Every outcome is written only while the row still
carries our claim token and status SENDING: a worker whose lease ran out (it stalled past
LEASE_SECONDS) must not overwrite what the worker that took the row over records.

Recording: the sends WeChat accepted are written many rows to one UPDATE (`SentRecorder`),
still each only while it carries our claim; failures, retries and refusals (a few percent) are
written row by row.

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

from tortoise.expressions import Case, F, Q, Value, When
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
# Sends in flight at once. Fewer leave WeChat's ~20 ms a call unused; more cost more CPU than
# they save in waiting, as httpx's connection pool walks every connection on each request (see
# bot.wechat_api.MAX_CONNECTIONS). `make bench` fan-out, 3,000 messages: 8 → 15–16 s, 16 →
# 12–13 s, 24 → 15–17 s with 60% more CPU in the server.
SEND_CONCURRENCY = 16
MAX_ATTEMPTS = 9
# A transient failure (WeChat's -1 "system busy", a network error) mostly passes when tried
# again at once: the first retry comes after seconds, so a city-wide notice is not held back.
QUICK_RETRY_SECONDS = 2
BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600  # 2 s, 30 s, 1 min, … 32 min, then dead: about an hour in all
LEASE_SECONDS = 60  # a SENDING row older than this belongs to a dead worker
QUOTA_PAUSE_SECONDS = 1800  # 45009: the day's quota is spent; try again later
# An idle worker looks for due rows this often: a message waits at most this long for its first
# send (one indexed SELECT each time; at 1 s a city-wide notice started half a second late).
IDLE_SECONDS = 0.25
# How long an accepted send may wait to be recorded with others (`SentRecorder`). Well below
# the time WeChat takes to report delivery, which finds the row by the msgid recorded.
RECORD_LINGER_SECONDS = 0.05
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
        recorder = SentRecorder(claim)

        async def deliver(row: OutboxMessage) -> None:
            async with limit:
                outcome = await self._deliver(row, claim, recorder)
            count_outbox(outcome)

        try:
            await asyncio.gather(*(deliver(row) for row in rows))
        finally:
            await recorder.close()
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
    async def _deliver(self, row: OutboxMessage, claim: str, recorder: SentRecorder) -> str:
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
        recorder.sent(row.id, msgid or None)
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


class SentRecorder:
    """Records the sends of one claim that WeChat accepted, many rows to a statement.

    A row accepted is written at the latest RECORD_LINGER_SECONDS later, together with every
    row accepted meanwhile, or at once when the batch's last send is back (`close`). The UPDATE
    per row was an eighth of a fan-out's time; written as each write finished (a group commit),
    rows still went one or two to a statement, as sends come back a few milliseconds apart.
    Not one UPDATE once the whole batch is back either: that would hold every accepted row
    unrecorded behind the batch's slowest send (up to the 5 s timeout), while WeChat's delivery
    report, which finds the row by the msgid written here, may already be on its way.
    """

    def __init__(self, claim: str) -> None:
        self.claim = claim
        self._accepted: dict[int, int | None] = {}  # row id → WeChat's msgid
        self._writer: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._error: Exception | None = None

    def sent(self, row_id: int, msgid: int | None) -> None:
        self._accepted[row_id] = msgid
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_while_accepted())

    async def close(self) -> None:
        """The batch's sends are all back: write what waits, now. Raises what a write raised
        (the rows stay SENDING: another worker sends them again after the lease, and WeChat
        drops the repeats by client_msg_id)."""
        self._closing.set()
        if self._writer is not None:
            await self._writer
        if self._error is not None:
            raise self._error

    async def _write_while_accepted(self) -> None:
        while self._accepted:
            with contextlib.suppress(TimeoutError):  # let the sends coming back join this write
                await asyncio.wait_for(self._closing.wait(), RECORD_LINGER_SECONDS)
            accepted, self._accepted = self._accepted, {}
            try:
                await record_sent(accepted, self.claim)
            except Exception as exc:  # raised by close(), in the batch's own task
                self._error = self._error or exc


async def record_sent(accepted: dict[int, int | None], claim: str) -> int:
    """Mark rows SENT with their msgids, in one UPDATE, each only while it carries `claim` and
    status SENDING (the same condition as `OutboxWorker._record`); how many were written."""
    # tortoise types `then` too narrowly: it resolves any expression, a Value included.
    msgids = [When(id=row_id, then=Value(msgid))  # type: ignore[arg-type]
              for row_id, msgid in accepted.items() if msgid is not None]
    # ELSE the column itself: it types the CASE (PostgreSQL would take the parameters for text)
    # and leaves a custom-service row's msgid NULL, as it was.
    updated: int = await OutboxMessage.filter(
        id__in=list(accepted), claimed_by=claim, status=OutboxStatus.SENDING,
    ).update(status=OutboxStatus.SENT, attempts=F("attempts") + 1, sent_at=now(),
             wechat_msgid=Case(*msgids, default=F("wechat_msgid")) if msgids else None,
             last_errcode=0, last_error="")
    if updated < len(accepted):
        await _log_lost_claims(accepted, claim)
    return updated


async def _log_lost_claims(accepted: dict[int, int | None], claim: str) -> None:
    """Rare (a worker stalled past its lease): which rows another worker had taken over."""
    ours = set(await OutboxMessage.filter(id__in=list(accepted), claimed_by=claim,
                                          status=OutboxStatus.SENT).values_list("id", flat=True))
    for row_id in sorted(set(accepted) - ours):
        log.warning("outbox %s: claim %s lost before recording sent", row_id, claim)


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
