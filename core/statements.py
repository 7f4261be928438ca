"""Hot read queries built by tortoise once and then run with new values.

Building a query (resolving filters, joining, writing pypika, parameterising) costs tortoise
150–400 µs of Python each time, more than PostgreSQL takes to answer a count or a page of rows
(`make bench`: the notice badges, the list pages, the chat's 待办 and 通知). A `Statement` lets
tortoise build the query once per database dialect from sample values, keeps the SQL text and
where each value goes, and from then on only swaps the values in: the same SQL and parameter
encoding, the rows turned into models by tortoise's own executor (select_related included),
none of the building.

Only for queries whose shape follows from which values are given, not from the values: the
same filters, joins and ordering every time (LIMIT and OFFSET are parameters, so a page number
is a value). A value left out (a manager's id for a leader) makes another shape, built on its
first use; a choice that is not a value (a filter tab) is one Statement per choice.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.models import Model
from tortoise.queryset import AwaitableQuery, QuerySet

# Sample values no real query carries, so that their places among the parameters are known
# (positive: LIMIT and OFFSET refuse negative numbers).
_samples = itertools.count(7_310_000_001)
_SAMPLE_EPOCH = datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC)


def _sample(kind: type) -> Any:
    n = next(_samples)
    if kind is int:
        return n
    if kind is datetime:
        return _SAMPLE_EPOCH + timedelta(microseconds=n)
    raise TypeError(f"no sample for {kind.__name__}")


@dataclass(frozen=True)
class _Built:
    sql: str
    params: list[Any]
    places: dict[int, str]  # parameter index → the named value it takes
    query: AwaitableQuery[Any]  # as built from the samples: its model and joins for models()

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[self.places[i]] if i in self.places else p
                for i, p in enumerate(self.params)]


class Statement:
    """`build(**values)` must return the same query for any values given under the same names;
    each value is an int or a datetime (the kinds a sample can stand for)."""

    def __init__(self, build: Callable[..., AwaitableQuery[Any]]) -> None:
        self._build = build
        self._built: dict[tuple[str, frozenset[str]], _Built] = {}

    def _prepare(self, values: Mapping[str, Any]) -> _Built:
        conn = connections.get("default")
        shape = (conn.capabilities.dialect, frozenset(values))
        built = self._built.get(shape)
        if built is not None:
            return built
        samples = {name: _sample(type(value)) for name, value in values.items()}
        query = self._build(**samples)
        query._make_query()
        sql, params = query.query.get_parameterized_sql()
        places = {i: name for i, value in enumerate(params) for name, sample in samples.items()
                  if type(value) is type(sample) and value == sample}
        if sorted(set(places.values())) != sorted(samples):
            raise ValueError("a named value did not reach the query as a parameter")
        built = self._built[shape] = _Built(sql, list(params), places, query)
        return built

    async def fetch(self, **values: Any) -> list[dict[str, Any]]:
        """Rows of a `.values(...)` query (or an aggregate), as dicts."""
        built = self._prepare(values)
        _, rows = await connections.get("default").execute_query(built.sql, built.bind(values))
        return [dict(row) for row in rows]

    async def fetch_one(self, **values: Any) -> Mapping[str, Any]:
        """The row of an aggregate. More than one is a mistake of the query's, not data:
        tortoise groups an aggregate by every column when a filter joins another table."""
        rows = await self.fetch(**values)
        if len(rows) > 1:
            raise ValueError("an aggregate answered more than one row")
        return rows[0] if rows else {}

    async def models(self, **values: Any) -> list[Any]:
        """Rows of a model query, as its models, related ones included, as tortoise makes
        them."""
        built = self._prepare(values)
        query = built.query
        if not isinstance(query, QuerySet):
            raise TypeError("models() needs a model query")
        conn = connections.get("default")
        model: type[Model] = query.model
        executor = conn.executor_class(model=model, db=conn,
                                       select_related_idx=query._select_related_idx)
        return list(await executor.execute_select(
            built.sql, built.bind(values), custom_fields=list(query._annotations)))
