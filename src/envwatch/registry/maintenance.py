"""Declared maintenance windows (运维时段) and heavy-pollution-weather warning
periods (重污染天气预警), checked and stored.

Start and end are data times: China Standard Time, naive, like the data they
cover. ``reported_at`` and ``declared_at`` are stored as UTC (as every
timezone-aware column of envwatch) and given back as China Standard Time.

Every problem a person can fix raises ``PeerError`` with a stable code and a
message in Chinese and English that names it; a caller in a transaction
(``engine.begin()``) then stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from sqlalchemy import Connection, select

from envwatch.alerts.scope import sees_device, viewer_of
from envwatch.audit.log import Actor, record
from envwatch.auth.sessions import active_user
from envwatch.errors import PeerError, UsageError
from envwatch.glossary import factor
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.rules.model import CalibrationSchedule, Period
from envwatch.store.schema import (
    County,
    DeclaredCalibration,
    EmergencyPeriod,
    MaintenanceWindow,
    MonitoringPoint,
)
from envwatch.times import as_utc

MAX_MAINTENANCE_WINDOW: Final = timedelta(days=30)
"""The longest maintenance window one declaration may cover."""
EMERGENCY_LEVELS: Final = ("blue", "yellow", "orange", "red")
"""Warning levels, mildest first (蓝色、黄色、橙色、红色预警)."""
WINDOW_KINDS: Final = {
    "maintenance": ("运维", "maintenance"),
    "out_of_control": ("失控", "out of control"),
    "startup_shutdown": ("启停", "start-up or shut-down"),
}
"""What a declared window of a device says about its data (``MaintenanceWindow.kind``)."""
MAX_CALIBRATION_MINUTES: Final = 120.0
"""The longest daily calibration one declaration may cover."""
MAX_USER_LENGTH: Final = 64  # reported_by, declared_by
MAX_REFERENCE_LENGTH: Final = 200


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A stored maintenance window."""

    id: int
    mn: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    reported_by: str
    reported_at: datetime
    """Timezone-aware, China Standard Time."""
    kind: str = "maintenance"


@dataclass(frozen=True, slots=True)
class Emergency:
    """A stored warning period; ``county_code`` None for the whole city."""

    id: int
    level: str
    starts_at: datetime
    ends_at: datetime
    county_code: str | None
    reference: str
    declared_by: str
    declared_at: datetime
    """Timezone-aware, China Standard Time."""


def _check_point(connection: Connection, mn: str) -> None:
    if connection.scalar(select(MonitoringPoint.mn).where(MonitoringPoint.mn == mn)) is None:
        raise PeerError(
            "unknown_mn",
            f"no monitoring point with MN {mn!r} in the registry",
            f"登记库中没有设备编码（MN）为 {mn!r} 的监测点",
        )


def declare_maintenance(
    connection: Connection,
    *,
    mn: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    reported_by: str,
    actor: Actor | None = None,
    kind: str = "maintenance",
) -> int:
    """Store a window of device ``mn`` over [starts_at, ends_at) of ``kind``
    (``WINDOW_KINDS``); its id. With ``actor``, the declaration goes to the
    audit log."""
    if kind not in WINDOW_KINDS:
        raise PeerError("unknown_kind",
                        f"unknown kind of window {kind!r}: one of {', '.join(WINDOW_KINDS)}",
                        f"时段类型 {kind!r} 无效，应为 {', '.join(WINDOW_KINDS)} 之一")  # fmt: skip
    _check_period(starts_at, ends_at)
    if ends_at - starts_at > MAX_MAINTENANCE_WINDOW:
        days = MAX_MAINTENANCE_WINDOW.days
        start, end = f"{starts_at:%Y-%m-%d %H:%M:%S}", f"{ends_at:%Y-%m-%d %H:%M:%S}"
        raise PeerError(
            "window_too_long",
            f"a maintenance window may last at most {days} days; {start} to {end} is longer: "
            "declare it in parts",
            f"运维时段最长{days}天，{start} 至 {end} 超过了{days}天：请分段登记",
        )
    reason = reason.strip()
    if not reason:
        raise PeerError(
            "empty_reason", "the reason of the maintenance is empty", "运维原因不能为空"
        )
    reported_by = _check_user(reported_by)
    _check_point(connection, mn)
    table = MaintenanceWindow.__table__
    new_id = connection.execute(
        table.insert().returning(table.c.id),  # type: ignore[attr-defined]
        {
            "mn": mn,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "reason": reason,
            "reported_by": reported_by,
            "reported_at": datetime.now(UTC),
            "kind": kind,
        },
    ).scalar_one()
    if actor is not None:
        declared = {"mn": mn, "starts_at": starts_at, "ends_at": ends_at, "reason": reason,
                    "kind": kind}  # fmt: skip
        record(connection, actor, "maintenance.declare", "maintenance_window", new_id,
               after=declared)  # fmt: skip
    return int(new_id)


def declare_emergency(
    connection: Connection,
    *,
    level: str,
    starts_at: datetime,
    ends_at: datetime,
    county_code: str | None = None,
    reference: str = "",
    declared_by: str,
    actor: Actor | None = None,
) -> int:
    """Store a warning period of ``level`` over [starts_at, ends_at), for the
    whole city or for county ``county_code``; its id."""
    if level not in EMERGENCY_LEVELS:
        raise PeerError(
            "unknown_level",
            f"unknown warning level {level!r}: one of {', '.join(EMERGENCY_LEVELS)}",
            f"预警级别 {level!r} 无效，应为 {', '.join(EMERGENCY_LEVELS)} 之一"
            "（蓝色、黄色、橙色、红色）",
        )
    _check_period(starts_at, ends_at)
    declared_by = _check_user(declared_by)
    reference = reference.strip()
    if len(reference) > MAX_REFERENCE_LENGTH:
        raise PeerError(
            "reference_too_long",
            f"the reference may have at most {MAX_REFERENCE_LENGTH} characters",
            f"文号最多{MAX_REFERENCE_LENGTH}个字符",
        )
    if (
        county_code is not None
        and connection.scalar(select(County.code).where(County.code == county_code)) is None
    ):
        raise PeerError(
            "unknown_county",
            f"no county with code {county_code!r} in the registry",
            f"登记库中没有区县代码为 {county_code!r} 的区县",
        )
    table = EmergencyPeriod.__table__
    new_id = connection.execute(
        table.insert().returning(table.c.id),  # type: ignore[attr-defined]
        {
            "level": level,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "county_code": county_code,
            "reference": reference,
            "declared_by": declared_by,
            "declared_at": datetime.now(UTC),
        },
    ).scalar_one()
    if actor is not None:
        record(connection, actor, "emergency.declare", "emergency_period", new_id,
               after={"level": level, "starts_at": starts_at, "ends_at": ends_at,
                      "county_code": county_code, "reference": reference})  # fmt: skip
    return int(new_id)


def change_emergency(
    connection: Connection,
    period_id: int,
    *,
    at: datetime,
    level: str | None,
    declared_by: str,
    actor: Actor | None = None,
) -> int | None:
    """The lifecycle of a warning after its declaration: from ``at`` on it is
    lifted (``level`` None) or upgraded or downgraded to ``level``. The period
    ends at ``at``; a new level continues as a new period from ``at`` to the old
    end, with the same area and reference (so each level's hours are judged by
    their own measures). The new period's id, or None for a lift."""
    row = connection.execute(
        select(EmergencyPeriod).where(EmergencyPeriod.id == period_id)
    ).one_or_none()
    if row is None:
        raise PeerError("unknown_warning", f"no warning period {period_id}",
                        f"没有编号为{period_id}的预警时段")  # fmt: skip
    if at.tzinfo is not None:
        raise UsageError("data times are naive China Standard Time")
    if not row.starts_at < at < row.ends_at:
        raise PeerError(
            "not_in_warning",
            f"{at:%Y-%m-%d %H:%M:%S} is not inside warning {period_id} "
            f"({row.starts_at:%Y-%m-%d %H:%M} to {row.ends_at:%Y-%m-%d %H:%M})",
            f"{at:%Y-%m-%d %H:%M:%S} 不在预警时段{period_id}之内",
        )
    if level is not None and level == row.level:
        raise PeerError("same_level", f"warning {period_id} is already {level}",
                        f"预警时段{period_id}已是该级别")  # fmt: skip
    new_id = None
    if level is not None:
        new_id = declare_emergency(connection, level=level, starts_at=at, ends_at=row.ends_at,
                                   county_code=row.county_code, reference=row.reference,
                                   declared_by=declared_by, actor=actor)  # fmt: skip
    connection.execute(
        EmergencyPeriod.__table__.update()  # type: ignore[attr-defined]
        .where(EmergencyPeriod.id == period_id)
        .values(ends_at=at)
    )
    if actor is not None:
        action = "emergency.lift" if level is None else "emergency.change_level"
        record(connection, actor, action, "emergency_period", period_id,
               before={"level": row.level, "ends_at": row.ends_at},
               after={"ends_at": at, "continued_as": new_id, "level": level})  # fmt: skip
    return new_id


# Who may declare what: contractors and enterprises their own devices' windows,
# county officers those of their counties; warnings the city (or a county
# officer for the county). [I]
MAINTENANCE_ROLES = frozenset(
    {"contractor", "enterprise_user", "county_officer", "city_supervisor", "city_admin"}
)
EMERGENCY_ROLES = frozenset({"county_officer", "city_supervisor", "city_admin"})


def declarer(
    connection: Connection,
    username: str,
    peer: str,
    *,
    mn: str | None = None,
    county_code: str | None = None,
) -> Actor:
    """The registered user ``username`` as the declaring actor, if their role and
    scope allow declaring a window for ``mn`` (or a warning for ``county_code``,
    None: the city); else PeerError."""
    user = active_user(connection, username)
    if user is None:
        raise PeerError("unknown_user", f"no active user {username!r}",
                        f"没有有效用户“{username}”")  # fmt: skip
    roles = MAINTENANCE_ROLES if mn is not None else EMERGENCY_ROLES
    allowed = user.role in roles
    counties = {c for c in user.county_codes.split(",") if c}
    if allowed and mn is not None and user.role != "city_admin":
        # The one scope rule: a contractor declares for the devices its
        # contractor runs, an enterprise for its own, a county for its county's.
        allowed = sees_device(connection, viewer_of(user), mn)
    if allowed and mn is None and user.role == "county_officer":
        allowed = county_code is not None and county_code in counties
    if not allowed:
        what = f"a maintenance window of {mn}" if mn else "a heavy-pollution-weather warning"
        what_zh = f"{mn}的运维时段" if mn else "重污染天气预警"
        raise PeerError("not_allowed", f"user {username!r} ({user.role}) may not declare {what}",
                        f"用户“{username}”无权登记{what_zh}")  # fmt: skip
    return Actor(user.username, user.role, peer)


def list_maintenance(connection: Connection, *, mn: str | None = None) -> list[Maintenance]:
    """The maintenance windows (of device ``mn`` only, when given), earliest first."""
    query = select(
        MaintenanceWindow.id,
        MaintenanceWindow.mn,
        MaintenanceWindow.starts_at,
        MaintenanceWindow.ends_at,
        MaintenanceWindow.reason,
        MaintenanceWindow.reported_by,
        MaintenanceWindow.reported_at,
        MaintenanceWindow.kind,
    ).order_by(MaintenanceWindow.starts_at, MaintenanceWindow.id)
    if mn is not None:
        query = query.where(MaintenanceWindow.mn == mn)
    return [
        Maintenance(
            id=row.id,
            mn=row.mn,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            reason=row.reason,
            reported_by=row.reported_by,
            reported_at=_stored_moment(row.reported_at),
            kind=row.kind,
        )
        for row in connection.execute(query)
    ]


def list_emergencies(connection: Connection) -> list[Emergency]:
    """The warning periods, earliest first."""
    query = select(
        EmergencyPeriod.id,
        EmergencyPeriod.level,
        EmergencyPeriod.starts_at,
        EmergencyPeriod.ends_at,
        EmergencyPeriod.county_code,
        EmergencyPeriod.reference,
        EmergencyPeriod.declared_by,
        EmergencyPeriod.declared_at,
    ).order_by(EmergencyPeriod.starts_at, EmergencyPeriod.id)
    return [
        Emergency(
            id=row.id,
            level=row.level,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            county_code=row.county_code,
            reference=row.reference,
            declared_by=row.declared_by,
            declared_at=_stored_moment(row.declared_at),
        )
        for row in connection.execute(query)
    ]


def _check_period(starts_at: datetime, ends_at: datetime) -> None:
    if starts_at.tzinfo is not None or ends_at.tzinfo is not None:
        raise UsageError("data times are naive China Standard Time")
    if ends_at <= starts_at:
        raise PeerError(
            "bad_period",
            f"the end {ends_at:%Y-%m-%d %H:%M:%S} is not after "
            f"the start {starts_at:%Y-%m-%d %H:%M:%S}",
            f"结束时间 {ends_at:%Y-%m-%d %H:%M:%S} 必须晚于开始时间 {starts_at:%Y-%m-%d %H:%M:%S}",
        )


def _check_user(user: str) -> str:
    user = user.strip()
    if not user:
        raise PeerError("empty_user", "who declares it is not given", "登记人不能为空")
    if len(user) > MAX_USER_LENGTH:
        raise PeerError(
            "user_too_long",
            f"the declaring user's name may have at most {MAX_USER_LENGTH} characters",
            f"登记人最多{MAX_USER_LENGTH}个字符",
        )
    return user


def _stored_moment(moment: datetime) -> datetime:
    return as_utc(moment).astimezone(CHINA_STANDARD_TIME)


@dataclass(frozen=True, slots=True)
class Calibration:
    """A stored daily calibration of a device's analyser (or of all of them)."""

    id: int
    mn: str
    pollutant: str | None
    starts: time
    minutes: float
    declared_by: str
    declared_at: datetime
    """Timezone-aware, China Standard Time."""

    @property
    def schedule(self) -> CalibrationSchedule:
        return CalibrationSchedule(self.starts, self.minutes, self.pollutant)


def declare_calibration(
    connection: Connection,
    *,
    mn: str,
    starts: time,
    minutes: float,
    pollutant: str | None,
    declared_by: str,
    actor: Actor | None = None,
) -> int:
    """Store that device ``mn``'s analyser of ``pollutant`` (None: every one)
    calibrates itself every day at ``starts`` for ``minutes``; its id. This is
    how a person confirms the schedule the rules learned (rule
    ``calibration_schedule``). With ``actor``, it goes to the audit log."""
    if not 0 < minutes <= MAX_CALIBRATION_MINUTES:
        raise PeerError(
            "bad_minutes",
            f"a daily calibration lasts more than 0 and at most {MAX_CALIBRATION_MINUTES:g} "
            f"minutes, not {minutes:g}",
            f"每日校准时长须大于0且不超过{MAX_CALIBRATION_MINUTES:g}分钟（而非{minutes:g}）",
        )
    if pollutant is not None and factor(pollutant) is None:
        raise PeerError("unknown_pollutant", f"{pollutant!r} is no HJ 212-2017 factor code",
                        f"{pollutant!r}不是HJ 212-2017的监测因子编码")  # fmt: skip
    declared_by = _check_user(declared_by)
    _check_point(connection, mn)
    table = DeclaredCalibration.__table__
    values = {"mn": mn, "pollutant": pollutant, "starts": f"{starts:%H:%M}", "minutes": minutes}
    new_id = connection.execute(
        table.insert().returning(table.c.id),  # type: ignore[attr-defined]
        {**values, "declared_by": declared_by, "declared_at": datetime.now(UTC)},
    ).scalar_one()
    if actor is not None:
        record(connection, actor, "calibration.declare", "calibration_schedule", new_id,
               after=values)  # fmt: skip
    return int(new_id)


def list_calibrations(connection: Connection, *, mn: str | None = None) -> list[Calibration]:
    """The declared daily calibrations (of device ``mn`` only, when given)."""
    query = select(DeclaredCalibration).order_by(DeclaredCalibration.mn, DeclaredCalibration.id)
    if mn is not None:
        query = query.where(DeclaredCalibration.mn == mn)
    return [
        Calibration(
            id=row.id,
            mn=row.mn,
            pollutant=row.pollutant,
            starts=time.fromisoformat(row.starts),
            minutes=row.minutes,
            declared_by=row.declared_by,
            declared_at=_stored_moment(row.declared_at),
        )
        for row in connection.execute(query)
    ]


def calibration_schedules(connection: Connection) -> Mapping[str, tuple[CalibrationSchedule, ...]]:
    """Every device's declared daily calibrations, by MN, for the rules."""
    found: dict[str, list[CalibrationSchedule]] = {}
    for calibration in list_calibrations(connection):
        found.setdefault(calibration.mn, []).append(calibration.schedule)
    return {mn: tuple(schedules) for mn, schedules in found.items()}


def declared_periods(
    connection: Connection, kind: str, *, mn: str | None = None
) -> dict[str, list[Period]]:
    """The declared windows of ``kind``, by MN (of ``mn`` only, when given), earliest first."""
    query = select(MaintenanceWindow.mn, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at)
    query = query.where(MaintenanceWindow.kind == kind).order_by(MaintenanceWindow.starts_at)
    if mn is not None:
        query = query.where(MaintenanceWindow.mn == mn)
    found: dict[str, list[Period]] = {}
    for row in connection.execute(query):
        found.setdefault(row.mn, []).append(Period(row.starts_at, row.ends_at))
    return found
