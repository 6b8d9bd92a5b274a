"""The rectification policy as versioned data (``policy.toml``): the notice
period, the escalation of missed deadlines, the vocabulary of sources and
categories, the limits on evidence; and the pure calculations on them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from envwatch.alerts.policy import Escalation, EscalationPolicy
from envwatch.errors import load_toml_model
from envwatch.hj212.codes import CHINA_STANDARD_TIME

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.toml")

RECTIFYING = frozenset({"new", "assigned", "rectifying", "reopened"})
"""States in which the responsible unit still owes the rectification: the
deadline runs against these (a problem applied for acceptance is no longer late)."""
CLOSED = "closed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EvidencePolicy(_Strict):
    max_bytes: int = Field(gt=0)
    max_files_per_action: int = Field(gt=0)
    types: tuple[str, ...] = Field(min_length=1)


class ComplaintPolicy(_Strict):
    channels: tuple[str, ...] = Field(min_length=1)
    nearest: int = Field(ge=1, le=50)
    nearest_within_km: float = Field(gt=0)
    hotspot_radius_m: float = Field(gt=0)
    hotspot_days: float = Field(gt=0)
    hotspot_min: int = Field(ge=2)


class FirePolicy(_Strict):
    category: str = Field(min_length=1)
    check_days: int = Field(ge=0, le=365)
    lead_unit: str = Field(min_length=2)
    batch: str = Field(min_length=2)

    def batch_of(self, observed: datetime) -> str:
        return self.batch.format(year=observed.year)[:100]

    def deadline(self, observed: datetime) -> date:
        """The day by which a fire point seen at ``observed`` (China Standard Time) is checked."""
        return observed.date() + timedelta(days=self.check_days)


class CampaignPolicy(_Strict):
    themes: dict[str, tuple[str, str]] = Field(min_length=1)
    """Theme code: its Chinese name, the category of its problems."""
    severities: dict[str, tuple[str, int]] = Field(min_length=1)
    """Severity code: its Chinese name, the days to rectify a failed item."""

    def theme_code(self, text: str) -> str | None:
        return _code({code: name for code, (name, _) in self.themes.items()}, text)

    def severity_code(self, text: str) -> str | None:
        return _code({code: name for code, (name, _) in self.severities.items()}, text)


class RectificationPolicy(_Strict):
    version: str = Field(min_length=1)
    notice_days: float = Field(gt=0)
    city_after_days: float = Field(gt=0)
    rebound_days: int = Field(gt=0)
    escalation: EscalationPolicy
    sources: dict[str, str] = Field(min_length=1)
    categories: dict[str, str] = Field(min_length=1)
    evidence: EvidencePolicy
    complaints: ComplaintPolicy
    fire_points: FirePolicy
    campaigns: CampaignPolicy

    @model_validator(mode="after")
    def _three_steps(self) -> RectificationPolicy:
        if len(self.escalation.chain) != 3:
            raise ValueError("escalation.chain: the county, its head, the city bureau")
        categories = [self.fire_points.category] + [c for _, c in self.campaigns.themes.values()]
        unknown = sorted(set(categories) - set(self.categories))
        if unknown:
            raise ValueError(f"fire_points/campaigns: unknown categories {unknown}")
        if not {"satellite_fire", "campaign"} <= set(self.sources):
            raise ValueError("sources: satellite_fire and campaign are needed")
        return self

    def source_code(self, text: str) -> str | None:
        """A source as a file gives it (its code or its Chinese name) as its code."""
        return _code(self.sources, text)

    def category_code(self, text: str) -> str | None:
        return _code(self.categories, text)

    def notice_until(self, published_at: datetime) -> datetime:
        return published_at + timedelta(days=self.notice_days)

    def rebound_deadline(self, now: datetime) -> date:
        """The new deadline day of a problem that rebounds at ``now``."""
        return now.astimezone(CHINA_STANDARD_TIME).date() + timedelta(days=self.rebound_days)

    def escalation_due(
        self, state: str, deadline: date | None, escalated: int, now: datetime
    ) -> Escalation | None:
        """The escalation a missed rectification deadline calls for (None:
        none, or done already): past the deadline the county head; past it by
        ``city_after_days`` the city bureau."""
        if state not in RECTIFYING or deadline is None:
            return None
        due = deadline_moment(deadline)
        step = 0
        if now > due:
            step = 1
        if now > due + timedelta(days=self.city_after_days):
            step = 2
        if step <= escalated:
            return None
        return Escalation(step, self.escalation.chain[step], self.escalation.names_zh[step],
                          "rectify")  # fmt: skip


def _code(names: dict[str, str], text: str) -> str | None:
    text = text.strip()
    if text in names:
        return text
    return next((code for code, name in names.items() if name == text), None)


def deadline_moment(deadline: date) -> datetime:
    """When a deadline day (China Standard Time) has passed: its end, in UTC."""
    end = datetime.combine(deadline + timedelta(days=1), time()).replace(tzinfo=CHINA_STANDARD_TIME)
    return end.astimezone(UTC)


def overdue(state: str, deadline: date | None, now: datetime) -> bool:
    """Whether the problem is late: still owed and past its deadline day."""
    return state in RECTIFYING and deadline is not None and now > deadline_moment(deadline)


def load_policy(path: Path | None = None) -> RectificationPolicy:
    path = path or DEFAULT_POLICY_FILE
    return load_toml_model(RectificationPolicy, path)
