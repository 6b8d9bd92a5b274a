"""Recurring automatic calibrations (自动校准), declared or learned.

An analyser that calibrates itself every day reads zero and span gas for a few
minutes under a C mark: values that are no concentrations and marks that no
work order declares. A schedule declared once for the analyser
(``PointContext.calibrations``) explains them; so does one learned from the
device's own short C marks at the same time of day on several consecutive
days, which rule ``calibration_schedule`` reports once for a person to
confirm (issue 20 item 6).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import pairwise

from pydantic import Field

from envwatch.rules.model import CalibrationSchedule, PointContext, Upload
from envwatch.rules.parameters import Params

REALTIME = "2011"


class CalibrationParams(Params):
    flags: frozenset[str] = Field(min_length=1)
    """The marks of a calibration (HJ 212-2017: C)."""
    max_minutes: float = Field(gt=0)
    """The longest a calibration mark lasts: a longer one no calibration explains."""
    slack_minutes: float = Field(ge=0)
    """How far from its time of day a calibration may start (either side)."""
    learn_days: int = Field(ge=2)
    """Short calibration marks at the same time of day on this many consecutive
    days make a learned daily calibration."""


@dataclass(frozen=True, slots=True)
class MarkRun:
    """A run of calibration marks of one factor: [start, end)."""

    start: datetime
    end: datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclass
class CalibrationLearner:
    """One device's calibration marks (real-time data, in data-time order) and
    the daily calibrations they show, by factor code."""

    open: dict[str, datetime] = field(default_factory=dict)
    """Factors in a run of calibration marks, with its start."""
    runs: dict[str, list[MarkRun]] = field(default_factory=dict)
    """Recent short runs (no longer than a calibration) by factor."""
    learned: dict[str, CalibrationSchedule] = field(default_factory=dict)
    newest: datetime | None = None

    def observe(self, upload: Upload, params: CalibrationParams) -> list[CalibrationSchedule]:
        """Take a real-time upload; the daily calibrations it completes the evidence of."""
        if upload.cn != REALTIME or (self.newest is not None and upload.data_time <= self.newest):
            return []
        self.newest = upload.data_time
        found = []
        for code, values in upload.values.items():
            if values.flag in params.flags:
                self.open.setdefault(code, upload.data_time)
                continue
            start = self.open.pop(code, None)
            if start is None:
                continue
            run = MarkRun(start, upload.data_time)
            if run.minutes > params.max_minutes:
                continue
            keep_from = upload.data_time - timedelta(days=params.learn_days + 1)
            runs = [r for r in self.runs.get(code, []) if r.start >= keep_from] + [run]
            self.runs[code] = runs
            schedule = daily(runs[-params.learn_days :], params, code)
            if schedule is not None and not self.explains(run.start, code, params):
                self.learned[code] = schedule
                found.append(schedule)
        return found

    def explains(self, moment: datetime, code: str | None, params: CalibrationParams) -> bool:
        """Whether a learned daily calibration of ``code``'s analyser (None: of
        any) covers ``moment``."""
        return any(
            schedule.covers(moment, code, params.slack_minutes)
            for learned_code, schedule in self.learned.items()
            if code is None or learned_code == code
        )

    def recurs(self, run: MarkRun, params: CalibrationParams) -> bool:
        """Whether a short run of marks of any factor started a day before or
        after ``run`` at the same time of day (a calibration being learned)."""
        slack = timedelta(minutes=params.slack_minutes)
        return any(
            abs(other.start - (run.start + timedelta(days=shift))) <= slack
            for runs in self.runs.values()
            for other in runs
            for shift in (-1, 1)
        )


def daily(runs: list[MarkRun], params: CalibrationParams, code: str) -> CalibrationSchedule | None:
    """The daily calibration ``runs`` show: one a day on consecutive days, at
    the same time of day (within the slack either side, across midnight too);
    None if they do not."""
    if len(runs) < params.learn_days:
        return None
    day, slack = timedelta(days=1), timedelta(minutes=2 * params.slack_minutes)
    if any(abs(later.start - earlier.start - day) > slack for earlier, later in pairwise(runs)):
        return None
    first = runs[0].start
    # Each start as minutes from the first's time of day, -720 to 720.
    offsets = [((run.start - first).total_seconds() / 60 + 720) % 1440 - 720 for run in runs]
    if max(offsets) - min(offsets) > 2 * params.slack_minutes:
        return None
    start = (first.hour * 60 + first.minute + first.second / 60 + statistics.median(offsets)) % 1440
    return CalibrationSchedule(
        start=time(int(start // 60), int(start % 60)),
        minutes=max(run.minutes for run in runs),
        pollutant=code,
    )


def declared_calibration(
    context: PointContext, moment: datetime, code: str | None, params: CalibrationParams
) -> CalibrationSchedule | None:
    """The calibration declared for the point that covers ``moment``, if any."""
    return next(
        (s for s in context.calibrations if s.covers(moment, code, params.slack_minutes)), None
    )


def explained_calibration(
    learner: CalibrationLearner,
    context: PointContext,
    moment: datetime,
    code: str | None,
    params: CalibrationParams,
) -> bool:
    """Whether a declared or learned daily calibration covers ``moment``."""
    return declared_calibration(context, moment, code, params) is not None or learner.explains(
        moment, code, params
    )
