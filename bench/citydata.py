"""A city-scale database, written fast: 3,000 enterprises, 20,000 projects, 200,000 employees,
100,000 notice receipts (at `scale` 1).

Rows go in by COPY on PostgreSQL and executemany in one transaction on SQLite, with explicit ids
(sequences are moved past them afterwards): the ORM's one object per row would take minutes.
Every enterprise has one bound, following leader (`openid_of(n)`); enterprise 1 manages 500
projects and is the one whose pages are measured. The newest notice is a city-wide 回复 notice
with its deadline a month away, numbered 1 for every leader, so `回复 1 …` stores a real reply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tortoise import Tortoise, connections
from tortoise.timezone import localtime
from tortoise.transactions import in_transaction

from actions.clock import now

DISTRICTS = ("福田区", "罗湖区", "南山区", "盐田区", "宝安区", "龙岗区", "龙华区", "坪山区",
             "光明区", "大鹏新区")
BIG_ENTERPRISE_PROJECTS = 500
LATEST_NUMBERED = 5  # what `通知` lists and numbers
BENCH_OFFICER = "bench_city"


@dataclass(frozen=True)
class CitySize:
    enterprises: int
    projects: int
    employees: int
    receipts: int

    @classmethod
    def at(cls, scale: float) -> CitySize:
        return cls(enterprises=max(int(3000 * scale), 4), projects=max(int(20000 * scale), 520),
                   employees=int(200_000 * scale), receipts=int(100_000 * scale))


def openid_of(enterprise_id: int) -> str:
    """The bound openid of the leader of enterprise `enterprise_id` (person id = enterprise id)."""
    return f"bench_leader_{enterprise_id:05d}"


class _Writer:
    """Bulk rows into one table, by COPY (PostgreSQL) or executemany (SQLite)."""

    def __init__(self) -> None:
        self.conn = connections.get("default")
        self.postgres = self.conn.capabilities.dialect == "postgres"

    def value(self, v: Any) -> Any:
        if isinstance(v, datetime) and not self.postgres:
            return localtime(v)  # SQLite keeps tortoise's text in the configured zone
        if isinstance(v, (list, dict)):
            return json.dumps(v, ensure_ascii=False)
        return v

    async def rows(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        records = [tuple(self.value(v) for v in row) for row in rows]
        if self.postgres:
            async with self.conn.acquire_connection() as raw:
                await raw.copy_records_to_table(table, records=records, columns=list(columns))
            return
        marks = ", ".join("?" * len(columns))
        names = ", ".join(f'"{c}"' for c in columns)
        # Table and column names are this module's constants; values are bound parameters.
        await self.conn.execute_many(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks})', records)

    async def finish(self, tables: Sequence[str]) -> None:
        """Move id sequences past the explicit ids, and give the planner statistics."""
        if not self.postgres:
            await self.conn.execute_script("ANALYZE")
            return
        for table in tables:
            await self.conn.execute_script(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT MAX(id) FROM "{table}"))')
        await self.conn.execute_script("ANALYZE")


def _project_owner(project_index: int, size: CitySize) -> int:
    """Enterprise 1 takes the first 500 projects; the rest go round the other enterprises."""
    if project_index < BIG_ENTERPRISE_PROJECTS:
        return 1
    return 2 + (project_index - BIG_ENTERPRISE_PROJECTS) % (size.enterprises - 1)


async def load_city(size: CitySize) -> dict[str, float]:
    """Write the city into the (empty) bench database; seconds per table."""
    timings: dict[str, float] = {}
    writer = _Writer()
    at = now()
    today = at.date()

    async def timed(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        started = time.perf_counter()
        await writer.rows(table, columns, rows)
        timings[table] = time.perf_counter() - started

    enterprises = range(1, size.enterprises + 1)
    await timed("enterprise", ("id", "name", "credit_code", "district", "is_local", "legal_rep",
                               "contact_phone", "office_phone", "created_at"),
                [(e, f"深圳市第{e}物业服务有限公司", f"91440300{e:09d}X", DISTRICTS[e % 10], True,
                  f"法人{e}", f"0755{e:08d}", "", at) for e in enterprises])
    await timed("person", ("id", "enterprise_id", "role", "name", "mobile", "id_number",
                           "modules", "status", "created_at"),
                [(e, e, "leader", f"负责人{e}", f"138{e:08d}", "", [], "active", at)
                 for e in enterprises])
    await timed("wechat_binding", ("id", "openid", "person_id", "bound_at", "following"),
                [(e, openid_of(e), e, at, True) for e in enterprises])
    await timed("officer", ("id", "username", "password_hash", "name", "role", "district",
                            "active", "failed_logins", "created_at"),
                [(1, BENCH_OFFICER, "!bench: no password login", "压测经办人", "city", "", True,
                  0, at)])
    projects = range(1, size.projects + 1)
    await timed("project", ("id", "code", "name", "address", "district", "street", "community",
                            "project_type", "enterprise_id", "status", "build_area",
                            "total_house_num", "created_at", "updated_at"),
                [(p, f"BP{p:07d}", f"{DISTRICTS[p % 10][:2]}花园{p}期", f"深圳市某路{p}号",
                  DISTRICTS[p % 10], "某街道", "某社区", 1 + p % 5, _project_owner(p - 1, size),
                  "managed", Decimal(10000 + p), 100 + p % 900, at, at) for p in projects])
    per_project = max(size.employees // size.projects, 1)
    await timed("project_employee", ("id", "project_id", "name", "post", "mobile",
                                     "certificate", "started_on"),
                [(i + 1, 1 + i // per_project, f"员工{i + 1}", "秩序维护员", f"139{i:08d}",
                  "", today - timedelta(days=i % 1000))
                 for i in range(per_project * size.projects)])
    await _notices(writer, timed, size, at)
    await writer.finish(["enterprise", "person", "wechat_binding", "officer", "project",
                         "project_employee", "notice", "notice_receipt", "notice_short_number"])
    return timings


async def _notices(writer: _Writer, timed: Any, size: CitySize, at: datetime) -> None:
    """City-wide notices until the receipts are spent (the oldest may reach only some
    enterprises); the newest is a 回复 notice open for a month."""
    count = -(-size.receipts // size.enterprises)
    notices: list[tuple[Any, ...]] = []
    receipts: list[tuple[Any, ...]] = []
    left = size.receipts
    for n in range(1, count + 1):
        reach = min(left, size.enterprises)
        left -= reach
        newest = n == count
        reply = newest or n % 2 == 0
        deadline = (at + timedelta(days=30) if newest or n % 4 == 0
                    else at - timedelta(days=count - n)) if reply else None
        created = at - timedelta(days=count - n, minutes=5)
        notices.append((n, f"关于开展第{n}期物业安全检查的通知", "请各物业服务企业按要求落实。",
                        reply, deadline, 1, "市物业管理信息平台",
                        "all" if reach == size.enterprises else "enterprises", "", [], reach,
                        "", created))
        for e in range(1, reach + 1):
            status = "unread" if newest else ("replied" if reply and (n + e) % 3 == 0
                                              else ("read" if (n + e) % 3 == 1 else "unread"))
            receipts.append((len(receipts) + 1, n, e, status,
                             "已落实" if status == "replied" else "",
                             f"负责人{e}" if status == "replied" else "",
                             1 if status == "replied" else 0))
    await timed("notice", ("id", "title", "content", "reply_required", "deadline",
                           "publisher_id", "publisher_unit", "audience", "district",
                           "attachments", "receipt_count", "link", "created_at"), notices)
    await timed("notice_receipt", ("id", "notice_id", "enterprise_id", "status",
                                   "reply_content", "replied_by_name", "reply_count"), receipts)
    # Receipt ids run notice by notice, enterprise by enterprise: the latest numbered notices'
    # receipt of enterprise e is found from each notice's first receipt id.
    first_receipt: dict[int, int] = {}
    for receipt_id, notice_id, *_ in receipts:
        first_receipt.setdefault(notice_id, receipt_id)
    numbers: list[tuple[Any, ...]] = []
    for e in range(1, size.enterprises + 1):
        latest = [n for n in range(count, 0, -1)
                  if e <= notices[n - 1][10]][:LATEST_NUMBERED]
        for number, n in enumerate(latest, start=1):
            numbers.append((len(numbers) + 1, e, first_receipt[n] + e - 1, number))
    await timed("notice_short_number", ("id", "person_id", "receipt_id", "number"), numbers)


async def create_city(size: CitySize) -> dict[str, float]:
    """Schema (from the models, like the tests) and the city's rows, in one go."""
    started = time.perf_counter()
    await Tortoise.generate_schemas()
    schema = time.perf_counter() - started
    if connections.get("default").capabilities.dialect == "postgres":
        timings = await load_city(size)
    else:
        async with in_transaction():
            timings = await load_city(size)
    return {"schema": schema, **timings}

