"""What a supervisor narrows a list to: typed filters that become SQL
conditions, pure and testable without a database. ``AlertFilter`` is for the
``alert`` table joined to its enterprise (the inbox page and
``GET /api/v1/alerts``); ``FindingFilter`` for the rules' findings joined to
their device and its enterprise (``GET /api/v1/findings``). The user's scope
is added by the query (``alerts/scope.py``), so a filter never widens it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, and_, or_

from envwatch.alerts.policy import OPEN_STATES, UNACKNOWLEDGED, UNHANDLED
from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import RULE_KINDS
from envwatch.store.schema import MAX_ID, Alert, Enterprise, FindingRecord
from envwatch.times import as_data_time

LEVELS = ("notice", "warning", "alarm", "severe")
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_:.-]+$")]


def _known(values: tuple[str, ...], known: tuple[str, ...], what: str) -> tuple[str, ...]:
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"unknown {what} {unknown[0]}: one of {', '.join(known)}")
    return values


def _rules_of_kinds(kinds: tuple[str, ...]) -> list[str]:
    return sorted(rule_id for rule_id, rule in RULES.items() if rule.kind in kinds)


class AlertFilter(BaseModel):
    """Every field narrows the list; an empty filter keeps every alert."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    state: tuple[Code, ...] = ()
    """Any of these workflow states."""
    open_only: bool = False
    """Only alerts not yet closed (or merged)."""
    overdue: bool | None = None
    """True: the alert has missed the deadline it works towards; False: it has not."""
    level: tuple[Code, ...] = ()
    county: tuple[Code, ...] = ()
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    industry: str | None = Field(default=None, min_length=1, max_length=8, pattern=r"^\d+$")
    """An industry code (GB/T 4754) or its prefix: ``44`` keeps every power enterprise."""
    mn: Code | None = None
    pollutant: Code | None = None
    rule: tuple[Code, ...] = ()
    kind: tuple[Code, ...] = ()
    """Kinds of rule (``RULE_KINDS``): exceedance, falsification, ..."""
    opened_since: datetime | None = None
    opened_until: datetime | None = None
    q: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")
    """Words in the enterprise's name or the MN."""

    @field_validator("level")
    @classmethod
    def _known_levels(cls, levels: tuple[str, ...]) -> tuple[str, ...]:
        return _known(levels, LEVELS, "level")

    @field_validator("kind")
    @classmethod
    def _known_kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        return _known(kinds, RULE_KINDS, "kind")

    @field_validator("opened_since", "opened_until")
    @classmethod
    def _zone_aware(cls, moment: datetime | None) -> datetime | None:
        if moment is not None and moment.tzinfo is None:
            raise ValueError("give the time zone, e.g. 2026-12-01T08:00:00+08:00")
        return moment

    def conditions(self, now: datetime) -> list[ColumnElement[bool]]:
        """SQL conditions on ``alert`` and ``enterprise`` (``now`` zone-aware, for overdue)."""
        where: list[ColumnElement[bool]] = []
        if self.state:
            where.append(Alert.state.in_(self.state))
        if self.open_only:
            where.append(Alert.state.in_(sorted(OPEN_STATES)))
        if self.overdue is not None:
            where.append(overdue_at(now) if self.overdue else ~overdue_at(now))
        if self.level:
            where.append(Alert.level.in_(self.level))
        if self.county:
            where.append(Alert.county_code.in_(self.county))
        if self.enterprise_id is not None:
            where.append(Alert.enterprise_id == self.enterprise_id)
        if self.industry is not None:
            where.append(Enterprise.industry_code.startswith(self.industry, autoescape=True))
        if self.mn is not None:
            where.append(Alert.mn == self.mn)
        if self.pollutant is not None:
            where.append(Alert.pollutant == self.pollutant)
        if self.rule:
            where.append(Alert.rule.in_(self.rule))
        if self.kind:
            where.append(Alert.rule.in_(_rules_of_kinds(self.kind)))
        if self.opened_since is not None:
            where.append(Alert.opened_at >= self.opened_since.astimezone(UTC))
        if self.opened_until is not None:
            where.append(Alert.opened_at < self.opened_until.astimezone(UTC))
        if self.q is not None:
            where.append(
                or_(
                    Enterprise.name.contains(self.q, autoescape=True),
                    Alert.mn.contains(self.q, autoescape=True),
                )
            )
        return where


def overdue_at(now: datetime) -> ColumnElement[bool]:
    """The alert has passed the deadline of the step it is at (as
    ``Deadlines.next_after``: acknowledge, then handle, then close)."""
    # SQLite keeps UTC moments without their zone: compare in UTC. The
    # IS NOT NULL terms keep the condition true or false, never NULL, so that
    # its negation keeps the alerts without deadlines.
    now = now.astimezone(UTC)
    steps = ((UNACKNOWLEDGED, Alert.acknowledge_by), (UNHANDLED, Alert.handle_by),
             (OPEN_STATES, Alert.close_by))  # fmt: skip
    return or_(
        *(
            and_(Alert.state.in_(sorted(states)), deadline.is_not(None), deadline < now)
            for states, deadline in steps
        )
    )


class FindingFilter(BaseModel):
    """Every field narrows the findings; an empty filter keeps them all."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mn: Code | None = None
    pollutant: Code | None = None
    rule: tuple[Code, ...] = ()
    kind: tuple[Code, ...] = ()
    severity: tuple[Code, ...] = ()
    county: tuple[Code, ...] = ()
    enterprise_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    industry: str | None = Field(default=None, min_length=1, max_length=8, pattern=r"^\d+$")
    since: datetime | None = None
    """Findings whose window starts at or after this data time (naive: China
    Standard Time, as loggers state it; or with its zone)."""
    until: datetime | None = None
    """... and before this one."""

    @field_validator("kind")
    @classmethod
    def _known_kinds(cls, kinds: tuple[str, ...]) -> tuple[str, ...]:
        return _known(kinds, RULE_KINDS, "kind")

    @field_validator("severity")
    @classmethod
    def _known_severities(cls, severities: tuple[str, ...]) -> tuple[str, ...]:
        return _known(severities, LEVELS, "severity")

    def conditions(self) -> list[ColumnElement[bool]]:
        """SQL conditions on ``finding`` and the ``enterprise`` of its device."""
        where: list[ColumnElement[bool]] = []
        if self.mn is not None:
            where.append(FindingRecord.mn == self.mn)
        if self.pollutant is not None:
            where.append(FindingRecord.pollutant == self.pollutant)
        if self.rule:
            where.append(FindingRecord.rule.in_(self.rule))
        if self.kind:
            where.append(FindingRecord.rule.in_(_rules_of_kinds(self.kind)))
        if self.severity:
            where.append(FindingRecord.severity.in_(self.severity))
        if self.county:
            where.append(Enterprise.county_code.in_(self.county))
        if self.enterprise_id is not None:
            where.append(Enterprise.id == self.enterprise_id)
        if self.industry is not None:
            where.append(Enterprise.industry_code.startswith(self.industry, autoescape=True))
        if self.since is not None:
            where.append(FindingRecord.window_start >= as_data_time(self.since))
        if self.until is not None:
            where.append(FindingRecord.window_start < as_data_time(self.until))
        return where
