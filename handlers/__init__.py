"""What the bot does for each kind of message or event: one small async function each.

The dispatch table lives here (see `bot.dispatch` for how names are made). To add a command or
a menu click: write `async def handle(req: BotRequest) -> str | None` in a module of this
package, then add its route here — a text command also gets its word in TEXT_COMMANDS, a menu
CLICK key `K` is routed as "click:K". An unregistered name is logged and answered with help.
"""

from __future__ import annotations

from bot.bot_request import Handler

from . import basic, notices, todo

# Command word (first word of a text message, lower-cased) → route name.
TEXT_COMMANDS: dict[str, str] = {
    "帮助": "text:help",
    "help": "text:help",
    "?": "text:help",
    "？": "text:help",
    "绑定": "text:bind",
    "待办": "text:todo",
    "通知": "text:notices",
    "回复": "text:reply",
}

HANDLERS: dict[str, Handler] = {
    "text:help": basic.help_text,
    "text:unknown": basic.unknown_text,
    "text:bind": basic.bind,
    "click:HELP": basic.help_text,
    "click:BIND": basic.bind,
    "event:subscribe": basic.subscribe,
    "event:subscribe_scan": basic.subscribe,  # followed by scanning a QR code
    "event:unsubscribe": basic.unsubscribe,
    "event:templatesendjobfinish": basic.template_delivery,
    "text:notices": notices.list_notices,
    "text:reply": notices.reply_to_notice,
    "text:todo": todo.show_todo,
    "click:NOTICES": notices.list_notices,
    "click:TODO": todo.show_todo,
}

# Answered with `success` and nothing else: reports a user never waits a reply to.
IGNORED: set[str] = {
    "view:*",  # a menu link: the user is already on the way to the page
    "event:location",
    "event:masssendjobfinish",
    "event:view_miniprogram",
    "event:kf_create_session",
    "event:kf_close_session",
    "event:kf_switch_session",
}

# Where a name with no handler goes.
DEFAULT_ROUTE = "text:help"
