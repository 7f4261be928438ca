"""The dispatcher without HTTP: fed WeChat XML, it names the route and answers."""

from __future__ import annotations

import pytest
from callback_support import wechat_xml

from bot.dispatch import dispatch, make_request
from handlers import DEFAULT_ROUTE, HANDLERS
from handlers.basic import HELP_TEXT
from settings import Settings


@pytest.mark.parametrize(("fixture", "route"), [
    ("text__help", "text:help"),
    ("text__bind_bound", "text:bind"),
    ("text__unknown", "text:unknown"),
    ("event__subscribe", "event:subscribe"),
    ("event__unsubscribe", "event:unsubscribe"),
    ("event__templatesendjobfinish", "event:templatesendjobfinish"),
    ("click__unknown_key", "click:NO_SUCH_KEY"),
    ("view__projects", "view:http://127.0.0.1/h5/projects"),
])
def test_route_name_names_each_fixture(base_settings: Settings, fixture: str,
                                       route: str) -> None:
    assert make_request(wechat_xml(fixture), base_settings, None).route == route


def test_make_request_splits_command_arguments(base_settings: Settings) -> None:
    xml = wechat_xml("text__help", **{"帮助": "回复\u30003  已收到，马上 整改"})
    request = make_request(xml, base_settings, None)
    assert request.route == "text:reply"
    assert request.text_args == ["3", "已收到，马上", "整改"]
    assert request.text_rest == "3  已收到，马上 整改"


async def test_dispatch_answers_help_for_unhandled_route(base_settings: Settings) -> None:
    assert DEFAULT_ROUTE in HANDLERS
    assert await dispatch(make_request(wechat_xml("click__unknown_key"), base_settings,
                                       None)) == HELP_TEXT
