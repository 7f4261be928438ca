"""The current time, in one place so that tests can move it.

It is aware and in Asia/Shanghai, the zone tortoise stores in (see core.db): SQLite keeps
datetimes as text, so a filter value must be in the stored zone to compare correctly.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")
_offset_seconds = 0.0


def now() -> datetime:
    return datetime.now(ZONE) + timedelta(seconds=_offset_seconds)


def travel(seconds: float) -> None:
    """Move the product's clock forward (tests and demos of deadlines)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0
