"""A device's normal level, learned from its own readings (pure): the median
of its hourly means over recent days, once enough hours are known. Normal
running power of a treatment circuit and normal running flow of an outlet
are such levels."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass
class NormalLevel:
    hour: datetime | None = None
    total: float = 0.0
    count: int = 0
    hours: list[tuple[datetime, float]] = field(default_factory=list)
    level: float | None = None
    """The median of the learned hours' means; None until enough are learned."""

    def learn(
        self, when: datetime, value: float, *, days: int, min_hours: int, floor: float = -math.inf
    ) -> None:
        """Take a reading; an hour whose mean is at or below ``floor`` teaches
        nothing (an idling circuit), nor do readings older than the newest."""
        hour = when.replace(minute=0, second=0, microsecond=0)
        if self.hour is not None and hour < self.hour:
            return  # late data teach nothing about the present
        if self.hour is not None and hour > self.hour and self.count:
            mean = self.total / self.count
            if mean > floor:
                self.hours.append((self.hour, mean))
            keep_from = hour - timedelta(days=days)
            self.hours = [(h, v) for h, v in self.hours if h >= keep_from]
            if len(self.hours) >= min_hours:
                self.level = statistics.median(v for _, v in self.hours)
            self.total, self.count = 0.0, 0
        self.hour = hour
        self.total += value
        self.count += 1
