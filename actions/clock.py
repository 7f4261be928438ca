"""The current time, timezone-aware, in one place so that tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset_seconds = 0.0


def now() -> datetime:
    return datetime.now(UTC) + timedelta(seconds=_offset_seconds)


def travel(seconds: float) -> None:
    """Move the product's clock forward (tests and demos of deadlines)."""
    global _offset_seconds
    _offset_seconds += seconds


def reset() -> None:
    global _offset_seconds
    _offset_seconds = 0.0
