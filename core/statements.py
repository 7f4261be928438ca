"""Hot read queries built by tortoise once and then run with new values.

Building a query (resolving filters, joining, writing pypika, parameterising) costs tortoise
150–400 µs of Python each time, more than PostgreSQL takes to answer a count (`make bench`:
the notice badges and the 待办 counts). A `Statement` lets tortoise build the query once per
database dialect from sample values, keeps the SQL text, and from then on only swaps the
values in: same SQL, same parameter encoding, none of the building.

Only for queries whose shape does not depend on the values (the same filters every time) and
that answer plain values (`.values(...)`, counts): rows are dicts, not models.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.queryset import AwaitableQuery

# Sample values no real query carries, so that their places among the parameters are known.
_samples = itertools.count(-7_310_000_001, -1)
_SAMPLE_EPOCH = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


def _sample(kind: type) -> Any:
    n = next(_samples)
    if kind is int:
        return n
    if kind is datetime:
        return _SAMPLE_EPOCH + timedelta(microseconds=-n)
    raise TypeError(f"no sample for {kind.__name__}")


class Statement:
    """`build(**values)` must return the same query for any values of the named kinds."""

    def __init__(self, build: Callable[..., AwaitableQuery[Any]], **kinds: type) -> None:
        self._build = build
        self._kinds = kinds
        self._built: dict[str, tuple[str, list[Any], dict[int, str]]] = {}

    def _prepare(self, dialect: str) -> tuple[str, list[Any], dict[int, str]]:
        samples = {name: _sample(kind) for name, kind in self._kinds.items()}
        query = self._build(**samples)
        query._make_query()
        sql, params = query.query.get_parameterized_sql()
        places = {i: name for i, value in enumerate(params) for name, sample in samples.items()
                  if type(value) is type(sample) and value == sample}
        if sorted(set(places.values())) != sorted(samples):
            raise ValueError("a named value did not reach the query as a parameter")
        return sql, list(params), places

    async def fetch(self, **values: Any) -> list[dict[str, Any]]:
        conn = connections.get("default")
        dialect = conn.capabilities.dialect
        if dialect not in self._built:
            self._built[dialect] = self._prepare(dialect)
        sql, params, places = self._built[dialect]
        bound = [values[places[i]] if i in places else p for i, p in enumerate(params)]
        _, rows = await conn.execute_query(sql, bound)
        return [dict(row) for row in rows]

    async def fetch_one(self, **values: Any) -> Mapping[str, Any]:
        rows = await self.fetch(**values)
        return rows[0] if rows else {}

