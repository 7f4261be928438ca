"""The template messages the product sends, and WeChat's limits on their fields.

Since 2023-05-04 a template has no `first` line, remark or colours; each value is at most 20
characters with no line breaks (`thing` ≤ 20, `character_string` ≤ 32 with no Chinese,
`phrase` ≤ 5 Chinese characters); WeChat refuses a bad value with 47003. Values are cut here,
when the outbox row is written, so a row in the outbox is always sendable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "time": 20, "number": 32,
          "amount": 20, "const": 20}
_NON_ASCII = re.compile(r"[^\x20-\x7e]")
_BREAKS = re.compile(r"[\r\n\t\u2028\u2029]+")


@dataclass(frozen=True)
class TemplateSpec:
    key: str  # settings.TEMPLATE_KEYS
    fields: dict[str, str]  # WeChat field name -> kind, e.g. {"thing1": "thing"}


TEMPLATES: dict[str, TemplateSpec] = {
    spec.key: spec
    for spec in (
        # 申请状态变更通知: 申请事项 / 业务编号 / 办理状态 / 办理时间 / 审核意见
        TemplateSpec("APPLICATION_STATUS", {"thing1": "thing", "character_string2":
                                            "character_string", "phrase3": "phrase",
                                            "time4": "time", "thing5": "thing"}),
        # 新通知提醒: 通知标题 / 发布单位 / 回复要求 / 截止时间
        TemplateSpec("NOTICE_NEW", {"thing1": "thing", "thing2": "thing", "phrase3": "phrase",
                                    "time4": "time"}),
        # 通知回复提醒: 通知标题 / 截止时间 / 温馨提示
        TemplateSpec("NOTICE_REMINDER", {"thing1": "thing", "time2": "time",
                                         "thing3": "thing"}),
        # 安全检查任务: 任务名称 / 检查项目 / 截止时间
        TemplateSpec("SAFETY_TASK_NEW", {"thing1": "thing", "thing2": "thing",
                                         "time3": "time"}),
        TemplateSpec("SAFETY_TASK_REMINDER", {"thing1": "thing", "thing2": "thing",
                                              "time3": "time"}),
    )
}


def fit_value(kind: str, value: object) -> str:
    """Cut one value to what WeChat accepts for its kind."""
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M")
    text = _BREAKS.sub(" ", str(value)).strip()
    if kind == "character_string":
        text = _NON_ASCII.sub("", text)
    limit = LIMITS.get(kind, 20)
    if len(text) > limit:
        # An ellipsis tells the reader the value goes on; it counts towards the limit.
        text = text[: limit - 1] + "…" if kind in ("thing", "const") else text[:limit]
    return text


def build_data(template_key: str, values: dict[str, object]) -> dict[str, dict[str, str]]:
    """Template `data` for WeChat from plain values; unknown or missing fields are errors."""
    spec = TEMPLATES[template_key]
    if set(values) != set(spec.fields):
        raise ValueError(f"{template_key} needs fields {sorted(spec.fields)}, got {sorted(values)}")
    return {name: {"value": fit_value(kind, values[name])} for name, kind in spec.fields.items()}
