"""Refusing guessed passwords without letting anyone lock an account out for
good (pure policy; ``auth/sessions.py`` keeps the counts).

Failures are counted three ways, each with a lockout that doubles every
time it recurs (backoff), up to a ceiling:

* per account and address: an address that keeps guessing one account's
  password is shut out of that account;
* per address, over every account (and names that do not exist): password
  spraying and name guessing stop, without telling which names exist;
* per account, over the addresses it is not trusted from: a guesser that
  rotates addresses is slowed, while an address the account logged in from
  lately (trusted) is not locked by anybody else's failures, so no attacker
  can keep an administrator out of their own workstation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

ANY_ADDRESS = "*"
"""The peer of an account's row over its untrusted addresses."""
ANY_ACCOUNT = 0
"""The user id of an address's row over every account."""


@dataclass(frozen=True, slots=True)
class LoginPolicy:
    """[I] envwatch's defaults (configurable through the settings ``login_*``)."""

    failures_per_account_and_address: int = 5
    failures_per_address: int = 50
    """High: a bureau's users may all come through one proxy address."""
    failures_per_account: int = 10
    """From addresses the account is not trusted from."""
    window: timedelta = timedelta(hours=1)
    """Failures older than this (since the first of a run) are forgotten."""
    lockout: timedelta = timedelta(minutes=15)
    longest_lockout: timedelta = timedelta(hours=24)
    trusted_for: timedelta = timedelta(days=30)
    """An address the account logged in from this recently is trusted."""


def lockout_for(lockouts: int, policy: LoginPolicy) -> timedelta:
    """The ``lockouts``-th lockout's length: the first ``lockout``, doubling."""
    doublings = min(max(lockouts - 1, 0), 30)  # 2**30 lockouts: far past any ceiling
    length: timedelta = policy.lockout * (2**doublings)
    return min(length, policy.longest_lockout)


def locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def trusted(last_success_at: datetime | None, now: datetime, policy: LoginPolicy) -> bool:
    return last_success_at is not None and now - last_success_at <= policy.trusted_for
