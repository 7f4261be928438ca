"""What a bot handler receives, and what it returns.

A handler is `async def handle(req: BotRequest) -> str | None`: the text to reply with, or None
to answer WeChat with a bare `success`. It may raise `ActionError`; its sentence becomes the
reply. Handlers live in `handlers/` and are registered in `handlers.HANDLERS`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tortoise import connections
from tortoise.models import Model
from wechatpy.messages import BaseMessage

from models.enterprises import Enterprise
from models.people import Person, PersonStatus, WeChatBinding
from settings import Settings


@dataclass
class BotRequest:
    message: BaseMessage  # wechatpy's message or event
    openid: str
    route: str  # the dispatch name, e.g. "text:help", "click:TODO", "event:subscribe"
    settings: Settings
    redis: Any
    # For text commands: the words after the command word, and the same text unsplit
    # (a reply's content keeps its own spacing).
    text_args: list[str] = field(default_factory=list)
    text_rest: str = ""
    _person: Person | None = field(default=None, init=False, repr=False)
    _person_loaded: bool = field(default=False, init=False, repr=False)

    @property
    def base_url(self) -> str:
        return self.settings.public_base_url

    def link(self, path: str) -> str:
        """An absolute URL of one of our pages, for a reply."""
        return f"{self.settings.public_base_url}{path}"

    @property
    def binding_link(self) -> str:
        return self.link("/auth/start?next=/h5/")

    async def person(self) -> Person | None:
        """The ACTIVE person bound to this openid, with their enterprise; None when unbound or
        deregistered. One query per request, at most."""
        if not self._person_loaded:
            self._person = await bound_person(self.openid)
            self._person_loaded = True
        return self._person


def _columns(model: type[Model]) -> list[str]:
    meta = model._meta
    return [column for column, _, _ in (*meta.db_native_fields, *meta.db_default_fields,
                                        *meta.db_complex_fields)]


@functools.cache
def _bound_person_query(dialect: str) -> tuple[str, list[str], list[str]]:
    """The SQL of `bound_person`, written once per dialect from the models' columns."""
    people, enterprises = _columns(Person), _columns(Enterprise)
    columns = ", ".join([f'p."{c}"' for c in people] + [f'e."{c}"' for c in enterprises])
    openid, status = ("$1", "$2") if dialect == "postgres" else ("?", "?")
    sql = (f'SELECT {columns} FROM "{WeChatBinding._meta.db_table}" b '  # noqa: S608
           f'JOIN "{Person._meta.db_table}" p ON p."id" = b."person_id" '
           f'JOIN "{Enterprise._meta.db_table}" e ON e."id" = p."enterprise_id" '
           f'WHERE b."openid" = {openid} AND p."status" = {status} LIMIT 1')
    return sql, people, enterprises


async def bound_person(openid: str) -> Person | None:
    """The ACTIVE person bound to `openid`, with `.enterprise` loaded, in one query.

    What `WeChatBinding.filter(openid=…, person__status=ACTIVE).select_related(
    "person__enterprise")` answers, without building that query on every message: tortoise's
    query building was a quarter of the database-backed commands' time (`make bench`). The
    rows become models through tortoise's own `_init_from_db`, as its select_related does.
    """
    conn = connections.get("default")
    sql, people, enterprises = _bound_person_query(conn.capabilities.dialect)
    _, rows = await conn.execute_query(sql, [openid, PersonStatus.ACTIVE.value])
    if not rows:
        return None
    values = list(rows[0])
    person = Person._init_from_db(**dict(zip(people, values[:len(people)], strict=True)))
    enterprise = Enterprise._init_from_db(
        **dict(zip(enterprises, values[len(people):], strict=True)))
    object.__setattr__(person, "_enterprise", enterprise)
    return person


Handler = Callable[[BotRequest], Awaitable[str | None]]
