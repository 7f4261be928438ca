"""What a bot handler receives, and what it returns.

A handler is `async def handle(req: BotRequest) -> str | None`: the text to reply with, or None
to answer WeChat with a bare `success`. It may raise `ActionError`; its sentence becomes the
reply. Handlers live in `handlers/` and are registered in `handlers.HANDLERS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from wechatpy.messages import BaseMessage

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
            binding = await WeChatBinding.filter(
                openid=self.openid, person__status=PersonStatus.ACTIVE,
            ).select_related("person__enterprise").first()
            self._person = binding.person if binding else None
            self._person_loaded = True
        return self._person


Handler = Callable[[BotRequest], Awaitable[str | None]]
