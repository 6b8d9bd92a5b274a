"""Alert levels, deadlines and escalation (督办) as versioned data
(``policy.toml``), and the pure calculations on them."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from envwatch.errors import ConfigError

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.toml")
LEVELS = ("notice", "warning", "alarm", "severe")  # 提示 / 预警 / 报警 / 严重, rising
OPEN_STATES = frozenset({"new", "dispatched", "acknowledged", "handled", "reviewed"})
UNACKNOWLEDGED = frozenset({"new", "dispatched"})
UNHANDLED = frozenset({"new", "dispatched", "acknowledged"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelPolicy(_Strict):
    name_zh: str
    acknowledge_hours: float | None = Field(default=None, gt=0)
    handle_hours: float | None = Field(default=None, gt=0)
    close_hours: float | None = Field(default=None, gt=0)


class EpisodePolicy(_Strict):
    quiet_hours: float = Field(gt=0)
    upgrade_after_findings: int = Field(ge=2)


class EscalationPolicy(_Strict):
    chain: tuple[str, ...] = Field(min_length=2)
    names_zh: tuple[str, ...]

    @model_validator(mode="after")
    def _one_name_each(self) -> EscalationPolicy:
        if len(self.names_zh) != len(self.chain):
            raise ValueError("one Chinese name per step of the chain")
        return self


class Policy(_Strict):
    version: str = Field(min_length=1)
    episode: EpisodePolicy
    levels: dict[str, LevelPolicy]
    escalation: EscalationPolicy

    @model_validator(mode="after")
    def _every_level(self) -> Policy:
        if set(self.levels) != set(LEVELS):
            raise ValueError(f"levels must be exactly {', '.join(LEVELS)}")
        return self

    def level_for(self, severity: str, findings: int) -> str:
        """An episode's level: its rule's severity, one up once it persists."""
        base = LEVELS.index(severity) if severity in LEVELS else 0
        if findings >= self.episode.upgrade_after_findings:
            base += 1
        return LEVELS[min(base, len(LEVELS) - 1)]

    def deadlines(self, level: str, opened_at: datetime) -> Deadlines:
        limits = self.levels[level]

        def after(hours: float | None) -> datetime | None:
            return None if hours is None else opened_at + timedelta(hours=hours)

        return Deadlines(
            after(limits.acknowledge_hours), after(limits.handle_hours), after(limits.close_hours)
        )

    def escalation_due(
        self, state: str, deadlines: Deadlines, escalated: int, now: datetime
    ) -> Escalation | None:
        """The escalation a missed deadline calls for (None: none, or done already).
        A missed acknowledgement goes one step up the chain; a missed handling
        or closing deadline goes to its top (the city bureau)."""
        top = len(self.escalation.chain) - 1
        step, missed = 0, ""
        if state in UNACKNOWLEDGED and _passed(deadlines.acknowledge_by, now):
            step, missed = 1, "acknowledge"
        if state in UNHANDLED and _passed(deadlines.handle_by, now):
            step, missed = top, "handle"
        if state in OPEN_STATES and _passed(deadlines.close_by, now):
            step, missed = top, "close"
        if step <= escalated:
            return None
        return Escalation(step, self.escalation.chain[step], self.escalation.names_zh[step], missed)


def _passed(deadline: datetime | None, now: datetime) -> bool:
    return deadline is not None and now > deadline


@dataclass(frozen=True, slots=True)
class Deadlines:
    acknowledge_by: datetime | None
    handle_by: datetime | None
    close_by: datetime | None

    def next_after(self, state: str) -> datetime | None:
        """The deadline the alert works towards in ``state`` (None: none left)."""
        if state in UNACKNOWLEDGED and self.acknowledge_by is not None:
            return self.acknowledge_by
        if state in UNHANDLED and self.handle_by is not None:
            return self.handle_by
        return self.close_by if state in OPEN_STATES else None


@dataclass(frozen=True, slots=True)
class Escalation:
    step: int
    to: str  # a role of the escalation chain
    to_zh: str
    missed: str  # acknowledge / handle / close


def load_policy(path: Path | None = None) -> Policy:
    path = path or DEFAULT_POLICY_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Policy.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, str(error), f"无法读取：{error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigError(path, f"{where}: {first['msg']}", f"{where}：{first['msg']}") from None
