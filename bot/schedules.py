"""Periodic jobs (notice reminders, overdue safety tasks, …) run by the outbox worker.

Each area lists its jobs in a `JOBS` tuple of its actions module, and `scheduled_jobs()` names
those modules: one explicit table, the same in `serve` and in a standalone `worker`.

Every worker process of every instance runs the schedules, so each run takes a Redis lock and
checks, under it, when the job last ran: a job runs once per interval across the whole city
deployment and never twice at the same time. A job must still be idempotent (outbox dedupe
keys), because a run that crashed halfway is run again at the next interval. Due times follow
`actions.clock.now()`, so tests that travel in time see jobs come due.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actions.clock import now
from bot import redis_lock

log = logging.getLogger(__name__)

LOCK_MS = 10 * 60 * 1000  # longer than any job should take; the lock frees itself after


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every_seconds: int
    run: Callable[[], Awaitable[int]]  # returns how many things it did (messages queued, …)


def scheduled_jobs() -> list[ScheduledJob]:
    """Every periodic job of the product."""
    from actions import notices, safety

    return [*notices.JOBS, *safety.JOBS]


def _last_run_key(job: ScheduledJob) -> str:
    return f"schedule:last_run:{job.name}"


async def run_job_if_due(redis: Any, job: ScheduledJob) -> int | None:
    """Run `job` if its interval has passed and no other worker is running it; what it did,
    or None when it was not run."""
    async with redis_lock.held(redis, f"schedule:lock:{job.name}", LOCK_MS) as got:
        if not got:
            return None
        at = now()
        last = await redis.get(_last_run_key(job))
        if last and (at - datetime.fromisoformat(last)).total_seconds() < job.every_seconds:
            return None
        # Marked before running: a job that fails waits for its next interval, not a hot loop.
        await redis.set(_last_run_key(job), at.isoformat())
        done = await job.run()
        log.info("scheduled job %s did %s", job.name, done)
        return done


async def run_due_jobs(redis: Any, jobs: list[ScheduledJob] | None = None) -> int:
    """Run every due job of `jobs` (default: all of them); how many ran."""
    ran = 0
    for job in scheduled_jobs() if jobs is None else jobs:
        try:
            if await run_job_if_due(redis, job) is not None:
                ran += 1
        except Exception:  # one broken job must not stop the others nor the outbox worker
            log.exception("scheduled job %s failed", job.name)
    return ran
