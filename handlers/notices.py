"""Chat commands on notices: `通知` lists the latest with short numbers, `回复 <编号> <内容>`
answers one (the same action as the reply form of the page)."""

from __future__ import annotations

from actions.errors import ActionError
from actions.notice_queries import ReceiptFilter, is_overdue, notice_scope, receipts_page
from actions.notices import do_number_receipts, do_reply_to_notice, receipt_by_number
from bot.bot_request import BotRequest
from core.localtime import fmt_minute
from models.notices import NoticeReceipt, ReceiptStatus
from models.people import Person

LATEST = 5
REPLY_FORMAT = "请按“回复 编号 内容”的格式发送，例如：回复 1 已收到，本周内整改。"


async def bound_person(req: BotRequest) -> Person:
    person = await req.person()
    if person is None:
        raise ActionError("not_bound", f"您还没有绑定身份，请先绑定：{req.binding_link}", 403)
    return person


def _state(receipt: NoticeReceipt) -> str:
    notice = receipt.notice
    if not notice.reply_required:
        return "无需回复·" + ("未读" if receipt.status == ReceiptStatus.UNREAD else "已读")
    if receipt.status == ReceiptStatus.REPLIED:
        return "已回复"
    deadline = fmt_minute(notice.deadline)
    return f"已逾期（截止{deadline}）" if is_overdue(receipt) else f"待回复（截止{deadline}）"


async def list_notices(req: BotRequest) -> str:
    person = await bound_person(req)
    scope = await notice_scope(person)
    receipts = await receipts_page(scope, ReceiptFilter.ALL, 0, LATEST)
    if not receipts:
        return "暂无通知。"
    numbers = await do_number_receipts(person.id, [r.id for r in receipts])
    lines = ["最新通知："]
    for receipt in receipts:
        project = f"（{receipt.project.name}）" if receipt.project else ""
        lines.append(f"【{numbers[receipt.id]}】{receipt.notice.title}{project}\n"
                     f"    {_state(receipt)}")
    lines.append("回复通知请发送：回复 编号 内容")
    lines.append(f"查看全部：{req.link('/h5/notices')}")
    return "\n".join(lines)


async def reply_to_notice(req: BotRequest) -> str:
    person = await bound_person(req)
    if not req.text_args or not req.text_args[0].isdecimal():
        return REPLY_FORMAT
    number_text = req.text_args[0]
    receipt_id = await receipt_by_number(person.id, int(number_text))
    if receipt_id is None:
        return f"没有编号为 {number_text} 的通知，请先发送“通知”查看通知编号。"
    content = req.text_rest[len(number_text):].strip()
    receipt, _ = await do_reply_to_notice(person, receipt_id, content, via="chat")
    verb = "已修改" if receipt.reply_count > 1 else "已回复"
    return (f"{verb}通知“{receipt.notice.title}”：{content}\n"
            f"截止时间（{fmt_minute(receipt.notice.deadline)}）前可再次发送以修改。")
