"""The rules' thresholds as versioned data (``rules.toml``), checked at load.

Each rule declares a pydantic model of its parameters; the file gives their
values, and ``[[override]]`` tables change single values for an industry
(GB/T 4754 code), an outlet kind (air/water) and/or a pollutant; the most
specific match wins. Errors name the file, the line and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envwatch.errors import ConfigError
from envwatch.rules.validity import InvalidCause, SubstitutionTable

DEFAULT_RULES_FILE = Path(__file__).with_name("rules.toml")


class Params(BaseModel):
    """Base of every rule's parameters: unknown keys are errors, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ValidityParams(Params):
    min_valid_minutes: float = Field(gt=0, le=60)
    valid_flags: frozenset[str] = Field(min_length=1)
    o2_ceiling_percent: float = Field(gt=0, lt=21)
    o2_min_percent: float = Field(ge=0, lt=21)
    """A valid O2 at or above this (and below the ceiling) corrects concentrations."""
    startup_shutdown_flags: frozenset[str] = frozenset()
    """Marks of start-up and shut-down: such hours are not judged against limits."""
    invalid_causes: Mapping[str, InvalidCause] = Field(default_factory=dict)
    """What each flag of an invalid value says about the cause (a per-deployment
    table: a vendor may mark out-of-control data with a flag of its own)."""


class SubstitutionParams(Params):
    high_rate: float = Field(gt=0, le=1)
    low_rate: float = Field(gt=0, le=1)
    short_gap_hours: int = Field(gt=0)
    short_window: int = Field(gt=0)
    long_window: int = Field(gt=0)
    low_rate_window: int = Field(gt=0)
    pollutants: frozenset[str] = Field(min_length=1)
    """Factors whose invalid hours' emissions are substituted."""
    history_days: int = Field(default=183, gt=0)
    """How far before a window's quarter the callers read a device's stored
    hours for the look-backs (the longest window of valid hours)."""

    def table(self) -> SubstitutionTable:
        return SubstitutionTable(**self.model_dump(exclude={"pollutants", "history_days"}))


class Override(Params):
    rule: str
    industry: str | None = None
    outlet_kind: str | None = None
    pollutant: str | None = None
    values: Mapping[str, Any] = Field(default_factory=dict)

    def matches(self, industry: str | None, outlet_kind: str | None, pollutant: str | None) -> bool:
        return all(
            want is None or want == have
            for want, have in (
                (self.industry, industry),
                (self.outlet_kind, outlet_kind),
                (self.pollutant, pollutant),
            )
        )

    @property
    def specificity(self) -> int:
        return sum(x is not None for x in (self.industry, self.outlet_kind, self.pollutant))


@dataclass(frozen=True)
class RuleSet:
    version: str
    validity: ValidityParams
    substitution: SubstitutionParams
    params: Mapping[str, Params]
    overrides: Sequence[Override] = ()
    _cache: dict[tuple[str, str | None, str | None, str | None], Params] = field(
        default_factory=dict, compare=False, repr=False
    )

    def for_point(
        self,
        rule: str,
        *,
        industry: str | None = None,
        outlet_kind: str | None = None,
        pollutant: str | None = None,
    ) -> Params:
        """Rule ``rule``'s parameters where it runs, overrides applied (least specific first)."""
        key = (rule, industry, outlet_kind, pollutant)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        base = self.params[rule]
        matching = sorted(
            (o for o in self.overrides if o.rule == rule and o.matches(*key[1:])),
            key=lambda o: o.specificity,
        )
        result = base
        for override in matching:
            result = result.model_validate({**result.model_dump(), **override.values})
        self._cache[key] = result
        return result


def _line_of(text: str, location: Sequence[str | int]) -> int | None:
    """The line (from 1) where the key at ``location`` is set, if it can be found."""
    keys = [str(part) for part in location if not isinstance(part, int)]
    if not keys:
        return None
    table, key = keys[:-1], keys[-1]
    current: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split("#", 1)[0].strip()
        if stripped.startswith("["):
            current = [part.strip() for part in stripped.strip("[]").split(".")]
            if current == keys:
                return number  # a whole table is wrong
            continue
        name = stripped.split("=", 1)[0].strip()
        if "=" in stripped and name == key and current == table:
            return number
    return None


def load_rule_set(param_models: Mapping[str, type[Params]], path: Path | None = None) -> RuleSet:
    """The rule set in ``path`` (default: envwatch's own), every rule of
    ``param_models`` given and checked."""
    path = path or DEFAULT_RULES_FILE
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(path, str(error), f"无法读取：{error}") from None

    def fail(location: Sequence[str | int], problem: str) -> ConfigError:
        line = _line_of(text, location)
        where = ".".join(str(part) for part in location)
        at = f"line {line}, " if line else ""
        return ConfigError(path, f"{at}{where}: {problem}", f"{at}{where}：{problem}")

    def check(model: type[Params], values: Any, location: tuple[str | int, ...]) -> Params:
        try:
            return model.model_validate(values if values is not None else {})
        except ValidationError as error:
            first = error.errors()[0]
            raise fail((*location, *first["loc"]), first["msg"]) from None

    version = data.get("version")
    if not isinstance(version, str) or not version:
        raise fail(("version",), "a version string is required")
    unknown = set(data) - {"version", "validity", "substitution", "rules", "override"}
    if unknown:
        raise fail((sorted(unknown)[0],), "unknown section")
    validity = check(ValidityParams, data.get("validity"), ("validity",))
    substitution = check(SubstitutionParams, data.get("substitution"), ("substitution",))
    rules = data.get("rules", {})
    for name in rules:
        if name not in param_models:
            raise fail(("rules", name), f"no such rule (known: {', '.join(sorted(param_models))})")
    params = {
        name: check(model, rules.get(name), ("rules", name)) for name, model in param_models.items()
    }
    overrides = []
    for index, entry in enumerate(data.get("override", [])):
        selectors = {k: entry.get(k) for k in ("rule", "industry", "outlet_kind", "pollutant")}
        values = {k: v for k, v in entry.items() if k not in selectors}
        override = check(Override, {**selectors, "values": values}, ("override", index))
        assert isinstance(override, Override)
        if override.rule not in param_models:
            raise fail(("override", index, "rule"), f"no such rule {override.rule!r}")
        base = params[override.rule]
        check(type(base), {**base.model_dump(), **values}, ("override", index))
        overrides.append(override)
    assert isinstance(validity, ValidityParams)
    assert isinstance(substitution, SubstitutionParams)
    return RuleSet(version, validity, substitution, params, tuple(overrides))
