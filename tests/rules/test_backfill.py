"""Back-filled data (补传) and devices that send only real-time data (pure).

A logger back from an outage re-sends its history with old data times while
the city goes on live: the device is online from its first arrival, the
history is reported once as a back-fill with its span and judged by the
rules in data-time order, and nothing floods.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, Limit, PointContext, Upload, Values

T0 = datetime(2026, 11, 29, 8, 0)
MN = "371502000000001001000000"
LIMITS = {"a21026": (Limit(35.0, "mg/m³", "超低排放", 6.0),)}
COAL = PointContext(mn=MN, enterprise_id=1, industry="4411", outlet_kind="air", limits=LIMITS)
CITY = [PointContext(f"D{i:02d}", 10 + i, "4411", "air", limits=LIMITS) for i in range(5)]
CONTEXTS = {c.mn: c for c in (COAL, *CITY)}


def wobble(when: datetime) -> float:
    """A little variation (constant values are a finding of their own)."""
    return (when.minute % 7) * 0.3 + (when.hour % 5) * 0.1


def upload(
    mn: str, cn: str, when: datetime, so2: float, *, received: datetime | None = None
) -> Upload:
    so2 += wobble(when)
    field = {"rtd": so2} if cn == "2011" else {"avg": so2}
    values = {
        "a21026": Values(**field, flag="N"),
        "a19001": Values(**{next(iter(field)): 6.0}, flag="N"),
    }
    return Upload(mn, cn, when, values, frame_id=None, received_at=received or when)


class City:
    """Five devices sending live every minute, and the engine that follows them."""

    def __init__(self) -> None:
        self.engine = RuleEngine(default_rule_set(), CONTEXTS)
        self.found: list[Finding] = []

    def minute(self, now: datetime, *extra: Upload) -> None:
        for context in CITY:
            self.found += self.engine.feed(upload(context.mn, "2011", now, 10.0))
        for item in extra:
            self.found += self.engine.feed(item)
        self.found += self.engine.advance_clock()

    def of(self, rule: str, mn: str = MN) -> list[Finding]:
        return [f for f in self.found if f.rule == rule and f.mn == mn]


def month_old_day(day: datetime, *, reverse: bool) -> list[Upload]:
    """A day of 2061 and 2051 data, SO2 10 mg/m³ but for two hours: 10:00 over
    the limit by its uploaded hour, 14:00 by its minute data (no 2061 for it)."""
    uploads = []
    for hour in range(24):
        start = day + timedelta(hours=hour)
        level = 60.0 if hour in (10, 14) else 10.0
        minutes = [
            upload(MN, "2051", start + timedelta(minutes=m), level) for m in range(0, 60, 10)
        ]
        uploads += minutes
        if hour != 14:  # its own hour: the mean of its minute data
            mean = sum(m.values["a21026"].avg or 0.0 for m in minutes) / len(minutes)
            uploads.append(upload(MN, "2061", start, mean - wobble(start)))
    return uploads[::-1] if reverse else uploads


@pytest.mark.parametrize("reverse", [False, True], ids=["oldest-first", "newest-first"])
def test_a_month_old_day_back_filled_over_three_hours_is_judged_once_in_data_time_order(
    reverse: bool,
) -> None:
    city = City()
    now = T0
    for _ in range(60):  # live for an hour
        city.minute(now, upload(MN, "2011", now, 10.0))
        now += timedelta(minutes=1)
    for _ in range(120):  # then silent for two
        city.minute(now)
        now += timedelta(minutes=1)
    assert len(city.of("offline")) == 1
    # Back: live again, and the day of a month ago re-sent beside, over three hours.
    history = month_old_day(datetime(2026, 10, 29), reverse=reverse)
    per_minute = len(history) // 180 + 1
    for minute in range(180):
        batch = history[minute * per_minute : (minute + 1) * per_minute]
        late = [replace(item, received_at=now) for item in batch]
        city.minute(now, upload(MN, "2011", now, 10.0), *late)
        now += timedelta(minutes=1)
    for _ in range(30):  # the back-fill is over; the device stays live
        city.minute(now, upload(MN, "2011", now, 10.0))
        now += timedelta(minutes=1)

    assert len(city.of("offline")) == 1, "the back-fill is an arrival, not a new outage"
    (report,) = city.of("backfill")
    assert report.window_start == datetime(2026, 10, 29)
    assert report.window_end == datetime(2026, 10, 30)
    assert report.evidence["uploads"] == len(history)
    assert report.severity == "notice" and "补传" in report.explanation
    exceeded = sorted(f.window_start for f in city.of("exceedance"))
    assert exceeded == [datetime(2026, 10, 29, 10), datetime(2026, 10, 29, 14)]
    assert not [f for f in city.found if f.mn != MN], "the rest of the city is quiet"
    assert len(city.found) <= 5, [f.rule for f in city.found]


def test_a_replay_judges_a_back_fill_still_open_at_its_end() -> None:
    engine = RuleEngine(default_rule_set(), CONTEXTS)
    day = datetime(2026, 10, 29)
    history = [u for u in month_old_day(day, reverse=True)
               if day + timedelta(hours=13) <= u.data_time < day + timedelta(hours=16)]  # fmt: skip
    found: list[Finding] = []
    for item in history:
        found += engine.feed(replace(item, received_at=T0))
    found += engine.advance_clock()
    assert found == []  # held, to be judged in data-time order
    found += engine.finish()
    assert [f.window_start for f in found if f.rule == "exceedance"] == [day + timedelta(hours=14)]
    assert [f.rule for f in found].count("backfill") == 1


def test_a_logger_clock_running_behind_is_judged_live() -> None:
    """Data that arrive late but in order (a slow clock, or history re-sent
    oldest first before anything newer) go to the rules at once."""
    engine = RuleEngine(default_rule_set(), CONTEXTS)
    found: list[Finding] = []
    for hour in range(4):
        start = T0 + timedelta(hours=hour)
        level = 60.0 if hour == 2 else 10.0
        found += engine.feed(upload(MN, "2061", start, level, received=start + timedelta(hours=3)))
    assert [f.window_start for f in found if f.rule == "exceedance"] == [T0 + timedelta(hours=2)]


def test_silence_is_measured_by_arrival_not_by_data_time() -> None:
    """A device whose clock runs two hours behind arrives every minute: it is
    online, however old its data times look against the city's."""
    city = City()
    now = T0
    for _ in range(90):
        city.minute(now, upload(MN, "2011", now - timedelta(hours=2), 10.0, received=now))
        now += timedelta(minutes=1)
    assert city.of("offline") == []
