"""Shenzhen local time for what people read and type: the database keeps aware datetimes,
pages and forms speak Asia/Shanghai (UTC+8, no daylight saving)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)


def fmt_minute(dt: datetime | None) -> str:
    return local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def parse_local(text: str) -> datetime | None:
    """A form's `datetime-local` value ("2026-12-01T18:00") or "2026-12-01 18:00", in Shenzhen
    time; None when it is not one."""
    text = text.strip().replace("T", " ")
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    return None


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The first instant of the month and of the next, Shenzhen time."""
    start = datetime.combine(date(year, month, 1), time(), SHANGHAI)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following
