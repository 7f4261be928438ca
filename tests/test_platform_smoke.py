"""The app starts over real HTTP with the demo data loaded."""

from __future__ import annotations

from conftest import LiveServer
from models.people import Person, WeChatBinding
from models.projects import Project


async def test_load_demo_is_idempotent(demo: None, base_settings) -> None:
    from demo_data.load import load_demo

    before = (await Person.all().count(), await Project.all().count())
    await load_demo(base_settings)
    assert (await Person.all().count(), await Project.all().count()) == before
    assert await WeChatBinding.all().count() == 4


async def test_app_serves_over_http(live: LiveServer) -> None:
    async with live.client() as c:
        r = await c.get("/no-such-page")
    assert r.status_code == 404
