"""The notice list: its filter tabs' badges (one aggregate) follow each person's scope, and the
page issues the same number of queries however many notices there are."""

from __future__ import annotations

from datetime import timedelta

from auth_helpers import h5_client
from notices_support import (
    LEADER_OPENID,
    MANAGER_OPENID,
    PENGCHENG,
    person,
    project,
    publish,
    receipt_of,
)

from actions.clock import now, travel
from actions.notice_queries import ReceiptFilter, filter_counts, notice_scope
from actions.notices import do_reply_to_notice
from conftest import LiveServer
from core.db import count_queries
from settings import Settings

F = ReceiptFilter


async def _four_notices(settings: Settings) -> None:
    """To 鹏城: one to read only, one to answer in 3 days, one answered, and one for 福景大厦
    (刘洋's project, not 王强's) whose 1-hour deadline will pass."""
    await publish(settings, title="春节值守安排", reply=False)
    await publish(settings, title="汛期安全自查")
    answered = await publish(settings, title="电梯年检情况")
    await do_reply_to_notice(await person("张伟"), (await receipt_of(answered, PENGCHENG)).id,
                             "已完成年检")
    await publish(settings, title="福景大厦消防整改", deadline=now() + timedelta(hours=1),
                  projects=[(await project("福景大厦")).id])


async def test_filter_counts_follow_deadline_and_scope(demo_people: None,
                                                      base_settings: Settings) -> None:
    await _four_notices(base_settings)
    leader = await notice_scope(await person("张伟"))
    manager = await notice_scope(await person("王强"))
    assert await filter_counts(leader) == {F.ALL: 4, F.UNREAD: 3, F.TO_REPLY: 2, F.OVERDUE: 0}
    assert await filter_counts(manager) == {F.ALL: 3, F.UNREAD: 2, F.TO_REPLY: 1, F.OVERDUE: 0}
    travel(2 * 3600)
    assert await filter_counts(leader) == {F.ALL: 4, F.UNREAD: 3, F.TO_REPLY: 1, F.OVERDUE: 1}
    assert await filter_counts(manager) == {F.ALL: 3, F.UNREAD: 2, F.TO_REPLY: 1, F.OVERDUE: 0}
    nothing = dict.fromkeys(F, 0)  # the notices went to 鹏城 alone
    assert await filter_counts(await notice_scope(await person("黄敏"))) == nothing  # 南山's leader
    assert await filter_counts(await notice_scope(await person("赵磊"))) == nothing  # 安居乐's


async def test_list_tabs_show_badges_and_the_tab_rows(demo_people: None,
                                                       live: LiveServer) -> None:
    await _four_notices(live.settings)
    travel(2 * 3600)
    async with h5_client(live, LEADER_OPENID) as client:
        overdue = await client.get("/h5/notices?filter=overdue")
        to_reply = await client.get("/h5/notices?filter=to_reply")
    async with h5_client(live, MANAGER_OPENID) as client:
        managers = await client.get("/h5/notices?filter=overdue")
    assert overdue.status_code == 200
    assert "福景大厦消防整改" in overdue.text and "汛期安全自查" not in overdue.text
    assert "汛期安全自查" in to_reply.text and "电梯年检情况" not in to_reply.text
    assert 'app-badge_primary">3</span>' in overdue.text  # 未读 3
    assert "福景大厦消防整改" not in managers.text
    assert 'app-badge_primary">2</span>' in managers.text  # 王强: 未读 2


async def test_list_fixed_query_count(demo_people: None, live: LiveServer) -> None:
    async with h5_client(live, LEADER_OPENID) as client:
        await publish(live.settings, title="第一份通知")
        await client.get("/h5/notices")  # the first listing gives the receipts their numbers
        with count_queries() as few:
            first = await client.get("/h5/notices")
        for i in range(25):
            await publish(live.settings, title=f"批量通知{i:02d}")
        await client.get("/h5/notices")
        with count_queries() as many:
            later = await client.get("/h5/notices")
    assert first.status_code == later.status_code == 200
    assert "批量通知24" in later.text
    assert few.count == many.count
    assert many.count <= 4  # the person, the badges, one page of receipts, their numbers
