"""Permit compliance checks (pure), issue 14 §4, the first of them: whether
the enterprise holds a permit in force, expired, or expiring within the
configured days (``permits.toml`` ``[checks]``), and emits without one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class CheckStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True, slots=True)
class PermitSpan:
    number: str
    valid_from: datetime
    valid_to: datetime


@dataclass(frozen=True, slots=True)
class Check:
    code: str
    status: CheckStatus
    detail_zh: str
    detail_en: str


def validity_checks(
    permits: Sequence[PermitSpan], now: datetime, *, emitting: bool, expiring_days: int
) -> list[Check]:
    """The checks of the permits' validity at ``now`` (China Standard Time)."""
    in_force = [p for p in permits if p.valid_from <= now < p.valid_to]
    checks: list[Check] = []
    for permit in sorted(in_force, key=lambda p: p.number):
        left = permit.valid_to - now
        if left <= timedelta(days=expiring_days):
            checks.append(Check(
                "permit_expiring", CheckStatus.WARNING,
                f"许可证{permit.number}将于{permit.valid_to:%Y-%m-%d}到期（剩余{left.days}天）",
                f"permit {permit.number} expires on {permit.valid_to:%Y-%m-%d} "
                f"({left.days} days left)",
            ))  # fmt: skip
        else:
            checks.append(Check(
                "permit_valid", CheckStatus.OK,
                f"许可证{permit.number}有效至{permit.valid_to:%Y-%m-%d}",
                f"permit {permit.number} valid until {permit.valid_to:%Y-%m-%d}",
            ))  # fmt: skip
    if not in_force:
        expired = [p for p in permits if p.valid_to <= now]
        for permit in sorted(expired, key=lambda p: p.number):
            checks.append(Check(
                "permit_expired", CheckStatus.PROBLEM,
                f"许可证{permit.number}已于{permit.valid_to:%Y-%m-%d}过期",
                f"permit {permit.number} expired on {permit.valid_to:%Y-%m-%d}",
            ))  # fmt: skip
        if emitting:
            checks.append(Check("no_valid_permit", CheckStatus.PROBLEM,
                                "有排放但无有效排污许可证",
                                "emitting without a valid permit"))  # fmt: skip
    return checks
