"""Officers signing in to the console: password check, lockout after repeated failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.officers import Officer

from .audit import Actor, record_audit
from .clock import now
from .errors import ActionError

MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name costs the same time as a
# wrong password and does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("no-such-officer-password")

BAD_LOGIN = ActionError("bad_login", "用户名或密码错误。", 401)


def officer_actor(officer: Officer) -> Actor:
    return Actor("officer", officer.id, officer.name)


def _verify(hash_: str, password: str) -> bool:
    try:
        return _hasher.verify(hash_, password)
    except (VerificationError, InvalidHashError):
        return False


async def do_sign_in_officer(username: str, password: str) -> Officer:
    """The officer whose password matches; a locked, inactive or wrong one is refused.

    The fifth consecutive failure locks the account for 15 minutes; success clears the count.
    """
    officer = await Officer.filter(username=username.strip()).first()
    ok = await asyncio.to_thread(_verify, officer.password_hash if officer else _DUMMY_HASH,
                                 password)
    if officer is None or not officer.active:
        raise BAD_LOGIN
    at = now()
    if officer.locked_until is not None and officer.locked_until > at:
        raise ActionError("locked", "密码错误次数过多，账号已锁定，请 15 分钟后再试。", 423)
    async with in_transaction() as conn:
        if not ok:
            await Officer.filter(id=officer.id).using_db(conn).update(
                failed_logins=F("failed_logins") + 1)
            await officer.refresh_from_db(using_db=conn)
            locked = officer.failed_logins >= MAX_FAILURES
            if locked:
                await Officer.filter(id=officer.id).using_db(conn).update(
                    locked_until=at + LOCKOUT, failed_logins=0)
            await record_audit(conn, officer_actor(officer),
                               "officer.locked" if locked else "officer.login_failed",
                               "officer", officer.id)
        else:
            await Officer.filter(id=officer.id).using_db(conn).update(
                failed_logins=0, locked_until=None)
            await record_audit(conn, officer_actor(officer), "officer.signed_in", "officer",
                               officer.id)
    if not ok:
        if locked:
            raise ActionError("locked", "密码错误次数过多，账号已锁定，请 15 分钟后再试。", 423)
        raise BAD_LOGIN
    return officer
