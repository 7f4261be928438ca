"""Common funds (共有资金, F12): one account per project and its income and expense records.

Money is integer cents (fen) everywhere: an amount never passes through a float, so totals are
exact to the cent. Rows come only from the officers' xlsx import (actions.funds).
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from models.projects import Project


class AccountType(IntEnum):
    """AccountType of the Shenzhen platform's CommonAccount."""

    BASIC = 1  # 基本账户
    JOINT = 2  # 共管账户
    NOT_OPENED = 3  # 未开设

    @property
    def label(self) -> str:
        return {1: "基本账户", 2: "共管账户", 3: "未开设"}[self.value]


class AccountStatus(IntEnum):
    ACTIVE = 1  # 正常
    DISABLED = 2  # 停用

    @property
    def label(self) -> str:
        return {1: "正常", 2: "停用"}[self.value]


class Direction(StrEnum):
    INCOME = "income"  # 贷 (+)
    EXPENSE = "expense"  # 借 (−)

    @property
    def label(self) -> str:
        return {"income": "收入", "expense": "支出"}[self.value]


class CommonFundAccount(Model):
    id = fields.IntField(primary_key=True)
    project: fields.OneToOneRelation[Project] = fields.OneToOneField(
        "models.Project", related_name="fund_account", on_delete=fields.RESTRICT)
    bank = fields.CharField(max_length=100, default="")  # AccountBankName 开户银行
    account_name = fields.CharField(max_length=200, default="")  # AccountName 户名
    # AccountCode 账号, stored whole; every page shows it masked but for the last four digits.
    account_number = fields.CharField(max_length=40, default="")
    account_type = fields.IntEnumField(AccountType, default=AccountType.BASIC)
    status = fields.IntEnumField(AccountStatus, default=AccountStatus.ACTIVE)
    balance_cents = fields.BigIntField(default=0)
    updated_at = fields.DatetimeField()  # the bank data's as-of time, from the import
    imported_at = fields.DatetimeField()

    class Meta:
        table = "common_fund_account"


class FundTransaction(Model):
    """One bank record (小区财务信息): TransDateTime, TransMoney, Direction, Balance, Summary."""

    id = fields.BigIntField(primary_key=True)
    account: fields.ForeignKeyRelation[CommonFundAccount] = fields.ForeignKeyField(
        "models.CommonFundAccount", related_name="transactions", on_delete=fields.CASCADE)
    # The bank's serial number: importing the same record twice updates it, never doubles it.
    serial = fields.CharField(max_length=64)
    trans_at = fields.DatetimeField()
    amount_cents = fields.BigIntField()  # always positive; `direction` carries the sign
    direction = fields.CharEnumField(Direction, max_length=8)
    balance_after_cents = fields.BigIntField()
    summary = fields.CharField(max_length=200, default="")  # 摘要

    class Meta:
        table = "fund_transaction"
        unique_together = (("account", "serial"),)
        indexes = (("account_id", "trans_at"),)
