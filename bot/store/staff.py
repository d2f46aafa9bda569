"""Staff accounts of the console: names, roles, argon2id password hashes, login lockout.

Counsellors, flow editors and administrators log in to the console (bot/web/console); their
accounts are made with `bot staff add`. Passwords are kept only as argon2id hashes
(argon2-cffi's defaults, RFC 9106's second recommendation). Guessing is slowed by a
lockout: after `MAX_FAILURES` wrong passwords for one name within `FAILURE_WINDOW`, that
name may not log in for `LOCKOUT` seconds, even with the right password. Sessions are kept
in Redis too, so logging out, an idle timeout or removing an account ends them for real.

Every key has a TTL (bot.store.keys): an account unused for `ACCOUNT_TTL` disappears, like
everything else the service keeps; each login renews it.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

import redis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.store import keys
from bot.store.cluster import clustered

ROLES = ("counsellor", "editor", "admin")
"""The roles, each allowed what the one before it may do, and more."""
MIN_PASSWORD = 12
"""Characters a staff password needs at least."""
ACCOUNT_TTL = 400 * 24 * 3600
"""Seconds an account is kept after it was made, changed or last used to log in."""
MAX_FAILURES = 5
"""Wrong passwords for one name within FAILURE_WINDOW that lock the name out."""
FAILURE_WINDOW = 10 * 60
"""Seconds over which wrong passwords are counted."""
LOCKOUT = 15 * 60
"""Seconds a locked-out name may not log in."""
SESSION_IDLE = 30 * 60
"""Seconds a console session lasts without a page being opened."""
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")

_hasher = PasswordHasher()  # argon2id, argon2-cffi's defaults


class StaffError(ValueError):
    """A staff name, role or password that cannot be used; the message says why."""


@dataclass(frozen=True)
class Account:
    """One staff account as the console needs it (never the hash)."""

    name: str
    role: str
    created: int


@dataclass(frozen=True)
class Session:
    """A logged-in staff member."""

    id: str
    name: str
    role: str


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def check_name(name: str) -> str:
    """The name if usable: 1 to 32 lowercase letters, digits, dots, dashes, underscores."""
    if not _NAME.match(name or ""):
        raise StaffError(
            f"{name!r} is not a staff name: use 1 to 32 lowercase letters, digits, '.', '-' "
            "or '_', starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    """The role if it is one of ROLES."""
    if role not in ROLES:
        raise StaffError(f"{role!r} is not a role: use one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    """The password if long enough."""
    if len(password) < MIN_PASSWORD:
        raise StaffError(
            f"the password has {len(password)} characters; it needs at least {MIN_PASSWORD}"
        )
    return password


def may(role: str, needed: str) -> bool:
    """True when `role` includes what `needed` may do (admin > editor > counsellor)."""
    if role not in ROLES or needed not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


class Staff:
    """The staff accounts and sessions in one Redis."""

    def __init__(self, client: redis.Redis, clock=time.time):
        self.redis = client
        self.clock = clock

    # --- accounts ---------------------------------------------------------------------

    def add(self, name: str, role: str, password: str) -> Account:
        """Make an account; raises StaffError when the name is taken or a value is bad."""
        check_name(name)
        check_role(role)
        check_password(password)
        if self.redis.exists(keys.staff_key(name)):
            raise StaffError(f"there is already an account named {name!r}")
        created = int(self.clock())
        self._write(name, {"role": role, "hash": _hasher.hash(password), "created": created})
        return Account(name, role, created)

    def _write(self, name: str, fields: dict[str, Any]) -> None:
        # One transaction, except on a Cluster: the account and the index are in two slots.
        pipe = self.redis.pipeline(transaction=not clustered(self.redis))
        pipe.hset(keys.staff_key(name), mapping=fields)
        pipe.expire(keys.staff_key(name), ACCOUNT_TTL)
        pipe.sadd(keys.staff_index_key(), name)
        pipe.expire(keys.staff_index_key(), ACCOUNT_TTL)
        pipe.execute()

    def get(self, name: str) -> Account | None:
        """The account, or None."""
        if not _NAME.match(name or ""):
            return None
        fields = {_text(k): _text(v) for k, v in self.redis.hgetall(keys.staff_key(name)).items()}
        if not fields.get("role"):
            return None
        return Account(name, fields["role"], int(fields.get("created") or 0))

    def list(self) -> list[Account]:
        """Every account, by name; names whose account expired leave the index."""
        names = sorted(_text(n) for n in self.redis.smembers(keys.staff_index_key()))
        found = []
        for name in names:
            account = self.get(name)
            if account is None:
                self.redis.srem(keys.staff_index_key(), name)
            else:
                found.append(account)
        return found

    def remove(self, name: str) -> bool:
        """Delete the account (its sessions end at their next page); False when unknown."""
        pipe = self.redis.pipeline(transaction=not clustered(self.redis))  # two slots
        pipe.delete(keys.staff_key(name))
        pipe.srem(keys.staff_index_key(), name)
        return bool(pipe.execute()[0])

    def set_password(self, name: str, password: str) -> None:
        """Replace the password of an existing account."""
        check_password(password)
        if self.get(name) is None:
            raise StaffError(f"there is no account named {name!r}")
        self._write(name, {"hash": _hasher.hash(password)})
        self.redis.delete(keys.staff_lockout_key(name), keys.staff_failures_key(name))

    # --- logging in -------------------------------------------------------------------

    def locked(self, name: str) -> bool:
        """True while the name is locked out after too many wrong passwords."""
        return bool(_NAME.match(name or "")) and bool(
            self.redis.exists(keys.staff_lockout_key(name))
        )

    def verify(self, name: str, password: str) -> Account | None:
        """The account when the password is right, else None (the caller records a failure)."""
        if not _NAME.match(name or ""):
            return None
        stored = self.redis.hget(keys.staff_key(name), "hash")
        account = self.get(name)
        if stored is None or account is None:
            # Same work as for a known name, so timing does not tell which names exist.
            _hasher.hash(password or "-")
            return None
        try:
            _hasher.verify(_text(stored), password)
        except (VerificationError, InvalidHashError):
            return None
        if _hasher.check_needs_rehash(_text(stored)):
            self._write(name, {"hash": _hasher.hash(password)})
        self.redis.expire(keys.staff_key(name), ACCOUNT_TTL)
        self.redis.delete(keys.staff_failures_key(name))
        return account

    def fail(self, name: str) -> bool:
        """Count a wrong password for `name`; True when this one locks the name out."""
        if not _NAME.match(name or ""):
            return False
        now = self.clock()
        failures = keys.staff_failures_key(name)
        pipe = self.redis.pipeline(transaction=True)
        pipe.zremrangebyscore(failures, "-inf", now - FAILURE_WINDOW)
        pipe.zadd(failures, {f"{now:.6f}:{secrets.token_hex(4)}": now})
        pipe.zcard(failures)
        pipe.expire(failures, FAILURE_WINDOW)
        count = int(pipe.execute()[2])
        if count >= MAX_FAILURES:
            self.redis.set(keys.staff_lockout_key(name), 1, ex=LOCKOUT)
            self.redis.delete(failures)
            return True
        return False

    # --- sessions ---------------------------------------------------------------------

    def open_session(self, account: Account) -> Session:
        """A new session for the account, idle-timed-out after SESSION_IDLE."""
        session_id = secrets.token_urlsafe(32)
        name = keys.staff_session_key(session_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(name, mapping={"name": account.name, "role": account.role})
        pipe.expire(name, SESSION_IDLE)
        pipe.execute()
        return Session(session_id, account.name, account.role)

    def session(self, session_id: str) -> Session | None:
        """The live session (its idle time starts again), or None if ended or expired.

        The role is read from the account, so a changed or removed account takes effect
        at the next page.
        """
        if not session_id or len(session_id) > 64:
            return None
        name = keys.staff_session_key(session_id)
        pipe = self.redis.pipeline(transaction=False)
        pipe.hget(name, "name")
        pipe.expire(name, SESSION_IDLE)
        staff_name = pipe.execute()[0]
        if staff_name is None:
            return None
        account = self.get(_text(staff_name))
        if account is None:
            self.redis.delete(name)
            return None
        return Session(session_id, account.name, account.role)

    def close_session(self, session_id: str) -> None:
        """Log out: the session ends now."""
        if session_id:
            self.redis.delete(keys.staff_session_key(session_id))
