"""The permit accounting's parameters (``permits.toml``): the rules.md §5.2
thresholds and the direct-discharge reason, checked at load."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from envwatch.errors import load_toml_model

DEFAULT_FILE = Path(__file__).with_name("permits.toml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Totals(_Strict):
    warning_share: float = Field(gt=0, le=1)
    projection_share: float = Field(gt=0)
    alarm_share: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Totals:
        if self.alarm_share < self.warning_share:
            raise ValueError("alarm_share must not be below warning_share")
        return self


class Direct(_Strict):
    reason: str = Field(min_length=1)
    reason_en: str = Field(min_length=1)


class Checks(_Strict):
    expiring_days: int = Field(ge=1, le=3650)


class Manual(_Strict):
    coverage_hours: int = Field(ge=1, le=8784)


class PermitParameters(_Strict):
    version: str = Field(min_length=1)
    totals: Totals
    direct: Direct
    checks: Checks
    manual: Manual


def load_parameters(path: Path | None = None) -> PermitParameters:
    path = path or DEFAULT_FILE
    return load_toml_model(PermitParameters, path)
