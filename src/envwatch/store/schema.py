"""The database schema (SQLAlchemy 2). Migrations in ``migrations/`` create it.

Times of HJ 212 data (``data_time``) are China Standard Time as the logger
states them, stored without zone; times envwatch takes itself
(``received_at``) are UTC with zone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    exists,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

# SQLite only auto-increments INTEGER PRIMARY KEY columns.
BigId = BigInteger().with_variant(Integer(), "sqlite")


# The largest ids the columns hold (INTEGER is 32 bits on PostgreSQL, BIGINT
# 64): past them a request is invalid, never a database error.
MAX_ID = 2**31 - 1
MAX_BIG_ID = 2**63 - 1


class Base(DeclarativeBase):
    pass


class County(Base):
    """A county, district or development zone of the city (区县、开发区)."""

    __tablename__ = "county"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(16), default="county")
    host_code: Mapped[str | None] = mapped_column(String(12), default=None)
    """For a development zone: the district it lies in (zones have no map polygon)."""
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)


class PositiveListEntry(Base):
    """An enterprise's time on a positive list (正面清单): the EIA-approval list
    (环评审批, kind ``eia``) or the enforcement list (监督执法, ``enforcement``).
    An entry is open while ``removed_on`` is empty; removal closes it, a
    re-admission is a new entry, so the history keeps every spell. At most one
    open entry per enterprise and kind."""

    __tablename__ = "positive_list_entry"
    __table_args__ = (
        Index("ix_positive_list_entry_enterprise", "enterprise_id", "kind"),
        Index("ux_positive_list_entry_open", "enterprise_id", "kind", unique=True,
              sqlite_where=text("removed_on IS NULL"),
              postgresql_where=text("removed_on IS NULL")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """eia (环评审批正面清单) or enforcement (监督执法正面清单)."""
    criteria_version: Mapped[str] = mapped_column(String(32))
    """The version of ``ledger/criteria.toml`` the criteria codes are of."""
    criteria: Mapped[list[str]] = mapped_column(JSON)
    """The codes of the criteria the enterprise met when admitted."""
    reason: Mapped[str] = mapped_column(Text)
    added_on: Mapped[date] = mapped_column(Date)
    decided_by: Mapped[str] = mapped_column(String(200))
    """Who decided the admission (a body, a meeting, a document number)."""
    removed_on: Mapped[date | None] = mapped_column(Date, default=None)
    removal_reason: Mapped[str] = mapped_column(Text, default="")
    removed_by: Mapped[str] = mapped_column(String(200), default="")
    """Who decided the removal."""


class Enterprise(Base):
    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    industry_code: Mapped[str] = mapped_column(String(8), default="")
    key_categories: Mapped[str] = mapped_column(String(128), default="")
    """Comma-separated: air, water, chemical_park, acid, hazardous_waste, medical."""
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    positive_list: Mapped[bool] = column_property(
        exists()
        .where(PositiveListEntry.enterprise_id == id, PositiveListEntry.kind == "enforcement",
               PositiveListEntry.removed_on.is_(None))
        .correlate_except(PositiveListEntry)
        .label("positive_list")
    )  # fmt: skip
    """On the enforcement positive list (监督执法正面清单): checked off-site first.
    No column: it follows from the register (an open ``positive_list_entry``)."""
    performance_grade: Mapped[str] = mapped_column(String(4), default="")
    """Heavy-pollution-weather performance grade (绩效分级): A+, A, B, C, D; empty: none."""
    emergency_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    """Exempt from heavy-pollution-weather cuts (e.g. 民生保障类, as the emergency list says)."""
    work_shifts: Mapped[str] = mapped_column(String(64), default="")
    """Declared production hours, e.g. ``08:00-16:00,16:00-24:00`` (empty: not declared)."""


class Outlet(Base):
    """A discharge outlet (排放口): air stack or wastewater outfall."""

    __tablename__ = "outlet"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    height_m: Mapped[float | None] = mapped_column(Float, default=None)
    reheated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Flue gas reheated after wet desulfurisation (MGGH, GGH): it leaves hot."""


class PointFactor(Base):
    """A factor a monitoring point measures, in its unit."""

    __tablename__ = "point_factor"

    mn: Mapped[str] = mapped_column(ForeignKey("monitoring_point.mn"), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(16), primary_key=True)
    unit: Mapped[str] = mapped_column(String(16), default="")


class PermitLimit(Base):
    """A limit of a discharge permit (排污许可) for one pollutant at one outlet."""

    __tablename__ = "permit_limit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlet.id"), default=None)
    pollutant: Mapped[str] = mapped_column(String(16))
    limit_value: Mapped[float] = mapped_column(Float)
    """The upper bound (for pH 6-9: 9)."""
    lower_value: Mapped[float | None] = mapped_column(Float, default=None)
    """The lower bound of a two-sided limit (pH 6-9: 6); None for most."""
    averaging_period: Mapped[str | None] = mapped_column(String(8), default=None)
    """What the limit is judged on: 1h, 24h or instant (``registry/limits.py``);
    None: the outlet kind's usual period."""
    unit: Mapped[str] = mapped_column(String(16))
    reference_o2: Mapped[float | None] = mapped_column(Float, default=None)
    basis: Mapped[str] = mapped_column(String(64), default="")
    annual_tonnes: Mapped[float | None] = mapped_column(Float, default=None)
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_to: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    permit_id: Mapped[int | None] = mapped_column(ForeignKey("permit.id"), default=None)
    """The permit version the limit belongs to (``permit``); None: a limit of a
    standard outside any permit. Only the newest version's limits are in force."""
    monthly_tonnes: Mapped[float | None] = mapped_column(Float, default=None)
    """The permit's monthly cap [t] where it sets one."""
    seasonal_tonnes: Mapped[float | None] = mapped_column(Float, default=None)
    """The permit's cap [t] for a season of every year (``season_from`` to
    ``season_to``, e.g. the heating season 11-15 to 03-15) where it sets one."""
    season_from: Mapped[str | None] = mapped_column(String(5), default=None)
    """The season's first day, MM-DD."""
    season_to: Mapped[str | None] = mapped_column(String(5), default=None)
    """The season's last day, MM-DD (inclusive; before ``season_from``: it
    runs over the new year)."""


class Meter(Base):
    """An electricity meter (分表计电) on a production or treatment circuit."""

    __tablename__ = "meter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    """production, treatment or total."""
    rated_kw: Mapped[float | None] = mapped_column(Float, default=None)
    mn: Mapped[str | None] = mapped_column(String(32), default=None)
    """Set when the meter reports over HJ 212 as a monitoring point."""
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlet.id"), default=None)


class MeterLink(Base):
    """A treatment circuit serving a production circuit (产治关联) of one enterprise:
    the treatment must run while that production runs."""

    __tablename__ = "meter_link"

    treatment_meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    production_meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)


class Contractor(Base):
    """An operation contractor (运维单位): runs the monitoring devices it is
    contracted for, across enterprises; its users see those devices only."""

    __tablename__ = "contractor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)


class MonitoringPoint(Base):
    """A data logger, identified by its MN and authenticated by its PW."""

    __tablename__ = "monitoring_point"

    mn: Mapped[str] = mapped_column(String(32), primary_key=True)
    pw: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlet.id"), default=None)
    st: Mapped[str] = mapped_column(String(2), default="32")
    protocol_version: Mapped[str] = mapped_column(String(4), default="2017")
    lenient: Mapped[bool] = mapped_column(Boolean, default=True)
    verify_crc: Mapped[bool] = mapped_column(Boolean, default=True)
    verify_length: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractor.id"), default=None)
    """The operation contractor that runs this device, if any."""


class ArchivedFrame(Base):
    """Every received frame, accepted or rejected: append-only, hash-chained per chain.

    ``chain`` is the device's MN, or ``-`` for input no device can be named for.
    ``hash`` = SHA-256 over the previous link's hash and this row's content, so
    editing or deleting a row breaks every later link of its chain.
    """

    __tablename__ = "archived_frame"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        # Device information (3020) by data time: which devices sent any in a
        # replay's window (``processing/inputs.devices_with_info``); partial, so
        # only those few frames cost the archive's inserts.
        Index("ix_archived_frame_device_info", "data_time", "mn",
              sqlite_where=text("cn = '3020'"), postgresql_where=text("cn = '3020'")),
    )  # fmt: skip

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    peer: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    verdict: Mapped[str] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    warnings: Mapped[str] = mapped_column(Text, default="")
    mn: Mapped[str | None] = mapped_column(String(32))
    cn: Mapped[str | None] = mapped_column(String(4))
    qn: Mapped[str | None] = mapped_column(String(20))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    data_time: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    """The DataTime of the upload whose measurements this frame stored (not
    hashed: it is read from ``raw``, which is); how the rules find them."""


class Measurement(Base):
    """One factor's values in one data upload, keyed so that resends are idempotent."""

    __tablename__ = "measurement"
    # No index but the key: a device's time ranges use it, the rules reach an
    # upload's rows through its frame's (MN, CN, DataTime); another index would
    # cost every insert.

    mn: Mapped[str] = mapped_column(String(32), primary_key=True)
    cn: Mapped[str] = mapped_column(String(4), primary_key=True)
    data_time: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(16), primary_key=True)
    rtd: Mapped[float | None] = mapped_column(Float)
    avg: Mapped[float | None] = mapped_column(Float)
    min: Mapped[float | None] = mapped_column(Float)
    max: Mapped[float | None] = mapped_column(Float)
    cou: Mapped[float | None] = mapped_column(Float)
    zs_rtd: Mapped[float | None] = mapped_column(Float)
    zs_avg: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str | None] = mapped_column(String(8))
    eflag: Mapped[str | None] = mapped_column(String(8))
    frame_id: Mapped[int] = mapped_column(ForeignKey("archived_frame.id"))


class ValueBlock(Base):
    """A device's uploads of one closed China Standard Time day in column form
    (``processing/blocks.py``): what the columnar replay reads instead of the
    measurement rows. Built by the compactor (``processing/compaction.py``),
    deleted by the archive writer when a late frame of its day is stored."""

    __tablename__ = "value_block"
    __table_args__ = (Index("ix_value_block_day", "day"),)

    mn: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    uploads: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    max_frame_id: Mapped[int] = mapped_column(BigInteger)
    """The newest frame the block holds."""
    body: Mapped[bytes] = mapped_column(LargeBinary)
    built_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ElectricityReading(Base):
    """One reading of an electricity meter, keyed so that resends are idempotent."""

    __tablename__ = "electricity_reading"
    __table_args__ = (Index("ix_electricity_reading_batch", "batch_id"),)

    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)
    time: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    """China Standard Time, as the meter or its collector states it."""
    power_kw: Mapped[float | None] = mapped_column(Float)
    energy_kwh: Mapped[float | None] = mapped_column(Float)
    current_a: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    """batch (HTTP or file) or hj212."""
    batch_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    """The batch that brought it (None for HJ 212 readings, which the archive holds)."""


class ElectricityBatch(Base):
    """A batch of meter readings as stored: the rules follow batches in id order,
    and a batch's id is taken under a table lock, so ids commit in order."""

    __tablename__ = "electricity_batch"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    readings: Mapped[int] = mapped_column(Integer)


class ChainHead(Base):
    """The newest link of each archive chain, written in the same transaction as
    the link: without it, cutting a chain's newest links off would leave no trace."""

    __tablename__ = "chain_head"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token of a machine client (a meter collector, a vendor's platform).

    Only the token's SHA-256 is stored: the token itself is shown once, when
    it is made. ``enterprise_id`` limits the client to that enterprise's data.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(200))
    """Space-separated, e.g. ``electricity:write``."""
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class FindingRecord(Base):
    """A rule's finding, with its evidence. One per (rule, MN, pollutant, window
    start): streaming and replay store the same finding once."""

    __tablename__ = "finding"
    __table_args__ = (
        UniqueConstraint("rule", "mn", "pollutant", "window_start"),
        Index("ix_finding_window", "window_start"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    mn: Mapped[str] = mapped_column(String(32))
    pollutant: Mapped[str] = mapped_column(String(16))
    """The factor code, or "" for a device-wide finding (offline, electricity)."""
    rule: Mapped[str] = mapped_column(String(32))
    rule_version: Mapped[int] = mapped_column(Integer)
    rule_set_version: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime] = mapped_column(DateTime)
    """China Standard Time, naive, like the data times it is about."""
    window_end: Mapped[datetime] = mapped_column(DateTime)
    severity: Mapped[str] = mapped_column(String(16))
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuarantinedUpload(Base):
    """An upload a rule failed on (or whose finding could not be stored): set
    aside with the error, for administrators; processing went on past it."""

    __tablename__ = "quarantined_upload"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    mn: Mapped[str] = mapped_column(String(32))
    cn: Mapped[str | None] = mapped_column(String(4), default=None)
    data_time: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    frame_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    rule: Mapped[str] = mapped_column(String(32))
    error: Mapped[str] = mapped_column(Text)
    quarantined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ProcessingCursor(Base):
    """How far a processing worker got through the archive (by frame id)."""

    __tablename__ = "processing_cursor"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_frame_id: Mapped[int] = mapped_column(BigInteger)


class MaintenanceWindow(Base):
    """A maintenance window an operation contractor declared for a device in
    advance (运维时段): data inside it are excluded from validity, and M/C
    marks inside it are explained. It never explains an exceedance away."""

    __tablename__ = "maintenance_window"
    __table_args__ = (Index("ix_maintenance_window_mn", "mn", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mn: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    """China Standard Time, naive, like the data times it covers."""
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text)
    reported_by: Mapped[str] = mapped_column(String(64))
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16), default="maintenance",
                                      server_default="maintenance")  # fmt: skip
    """maintenance (运维: explains M/C marks), out_of_control (失控: from the last
    passing calibration to the failed check, its hours invalid and substituted
    as such) or startup_shutdown (启停: its hours judged by the start-up rules,
    not against the limits); ``registry/maintenance.py``."""


class DeclaredCalibration(Base):
    """An analyser's recurring automatic calibration (自动校准), declared once (or
    a learned one a person confirmed): every day at ``starts`` (HH:MM, China
    Standard Time) for ``minutes``; C marks inside it are explained."""

    __tablename__ = "calibration_schedule"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mn: Mapped[str] = mapped_column(String(32), index=True)
    pollutant: Mapped[str | None] = mapped_column(String(16), default=None)
    """The analyser's factor code; None: every analyser of the point."""
    starts: Mapped[str] = mapped_column(String(5))
    minutes: Mapped[float] = mapped_column(Float)
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmergencyPeriod(Base):
    """A heavy-pollution-weather warning in force (重污染天气预警): the city's,
    or one county's when ``county_code`` is set."""

    __tablename__ = "emergency_period"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    """A level of the rules file's emergency table (blue, yellow, orange, red)."""
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    county_code: Mapped[str | None] = mapped_column(String(12), default=None)
    reference: Mapped[str] = mapped_column(String(200), default="")
    """The notice that declared it (文号)."""
    declared_by: Mapped[str] = mapped_column(String(64))
    declared_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AppUser(Base):
    """A person using envwatch, with one role; county officers are scoped to
    their counties, enterprise users to their enterprise."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    county_codes: Mapped[str] = mapped_column(String(200), default="")
    """Comma-separated county codes a county officer covers."""
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    contractor_id: Mapped[int | None] = mapped_column(ForeignKey("contractor.id"), default=None)
    """The operation contractor a contractor user works for."""
    email: Mapped[str | None] = mapped_column(String(200), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    """scrypt, self-describing (auth/passwords.py); None: cannot log in."""
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    """The latest lockout of the account from any address (for administrators;
    the lockouts themselves: ``login_throttle``)."""


class LoginThrottle(Base):
    """Failed logins of an account from an address (``auth/throttle.py``);
    ``user_id`` 0: an address over every account; ``peer`` "*": an account
    over the addresses it is not trusted from."""

    __tablename__ = "login_throttle"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    peer: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    first_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    lockouts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class WebSession(Base):
    """A person's login session: only the SHA-256 of its token is kept."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    peer: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Alert(Base):
    """One (device, pollutant, rule) episode of findings as a piece of work."""

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_episode", "mn", "pollutant", "rule", "last_finding_at"),
        Index("ix_alert_county_state", "county_code", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mn: Mapped[str] = mapped_column(String(32))
    pollutant: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[int | None] = mapped_column(Integer, default=None)
    county_code: Mapped[str | None] = mapped_column(String(12), default=None)
    level: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    explanation: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    finding_count: Mapped[int] = mapped_column(Integer)
    first_finding_at: Mapped[datetime] = mapped_column(DateTime)
    """Data time (China Standard Time, naive) the episode's first finding starts."""
    last_finding_at: Mapped[datetime] = mapped_column(DateTime)
    frame_received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the frame that completed the first finding arrived (SLA: frame to alert)."""
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    acknowledge_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handle_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    """Steps up the escalation chain so far (0: the county officer)."""
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    merged_into: Mapped[int | None] = mapped_column(Integer, default=None)
    case_id: Mapped[int | None] = mapped_column(Integer, default=None)


class AlertFinding(Base):
    __tablename__ = "alert_finding"

    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), primary_key=True)
    finding_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class AlertEvent(Base):
    """An alert's history: each action, who took it, from where, and why."""

    __tablename__ = "alert_event"
    __table_args__ = (Index("ix_alert_event_alert", "alert_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    attachments: Mapped[list[str]] = mapped_column(JSON, default=list)


class EnforcementCase(Base):
    """An inspection opened from alerts (现场检查 or 非现场检查) and its outcome."""

    __tablename__ = "enforcement_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    kind: Mapped[str] = mapped_column(String(16))  # onsite / offsite
    state: Mapped[str] = mapped_column(String(16))  # open / closed
    opened_by: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    findings: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    penalty_reference: Mapped[str] = mapped_column(String(200), default="")
    """The penalty decision's reference (处罚决定书文号)."""
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationTarget(Base):
    """Who hears of alerts: a webhook or a mailbox, per county (None: the city) and role."""

    __tablename__ = "notification_target"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str | None] = mapped_column(String(12), default=None)
    role: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # webhook / email
    address: Mapped[str] = mapped_column(String(400))
    secret: Mapped[str | None] = mapped_column(String(200), default=None)
    """The HMAC key webhook deliveries are signed with."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    """An enterprise's own target: it hears of the warnings that concern it
    (with its required measures), not of alerts."""


class Notification(Base):
    """A message to a target about an alert, and how its delivery went (the outbox)."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alert.id"))
    """The alert it is about (None: a warning notice, ``emergency_id``, or a
    rectification problem's, ``problem_id``)."""
    emergency_id: Mapped[int | None] = mapped_column(
        ForeignKey("emergency_period.id"), default=None
    )
    """The heavy-pollution-weather warning a warning notice is about."""
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectification_problem.id"), default=None
    )
    listing_id: Mapped[int | None] = mapped_column(Integer, default=None)
    """The county listing (挂牌督办) a notice is about."""
    target_id: Mapped[int] = mapped_column(ForeignKey("notification_target.id"))
    event: Mapped[str] = mapped_column(String(32))  # opened / escalated / ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))  # pending / sent / failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """The audit log: every action with who, when, from where and what changed,
    hash-chained like the raw archive (its head in ``chain_head`` as "audit")."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    peer: Mapped[str] = mapped_column(String(100))
    """From where: an IP address, or "cli@host"."""
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[str] = mapped_column(Text)
    """Canonical JSON of what changed, before and after."""
    after: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class RegistryJob(Base):
    """A registry import or export run as a job (名录导入导出任务): its state,
    progress and result survive a restart; a job a crashed process left
    queued or running is reported failed when next read."""

    __tablename__ = "registry_job"
    __table_args__ = (Index("ix_registry_job_created", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))
    """import or export."""
    kind: Mapped[str] = mapped_column(String(16))
    """What is imported (enterprises, outlets, points, limits, meters) or exported (all or one)."""
    file_format: Mapped[str] = mapped_column(String(8))
    """csv, xlsx or json."""
    file_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16))
    """queued, running, done or failed."""
    owner: Mapped[str] = mapped_column(String(64))
    runner: Mapped[str] = mapped_column(String(64))
    """The process that runs it: a job of a process that no longer beats is failed."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Counts of what was imported or exported."""
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Row and column errors of an import: ``{"row", "column", "reason"}``."""
    error_code: Mapped[str | None] = mapped_column(String(32), default=None)
    error_message: Mapped[str] = mapped_column(Text, default="")
    error_message_zh: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    """An export's file (uploads are not kept: they hold device passwords)."""


class AirStation(Base):
    """An ambient air-quality monitoring station (环境空气质量监测站点): national
    (国控), provincial (省控) or county (县控) level. Its logger reports over
    HJ 212 (ST 22) as the monitoring point ``mn``, which belongs to no enterprise."""

    __tablename__ = "air_station"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    """national, provincial or county."""
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    mn: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WaterSection(Base):
    """A surface-water monitoring section (地表水监测断面) of a river or lake,
    controlled at national (国控), provincial (省控) or city (市控) level, with
    the class it must reach; its automatic station reports over HJ 212 (ST 21)."""

    __tablename__ = "water_section"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    river: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    """national, provincial or city."""
    target_class: Mapped[str] = mapped_column(String(4))
    """I, II, III, IV, V (GB 3838)."""
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    lake: Mapped[bool] = mapped_column(Boolean, default=False)
    """A lake or reservoir: its TP and TN limits differ (GB 3838)."""
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    mn: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class QualityDay(Base):
    """A station's or section's day, computed from its stored hourly data
    (``quality/days.py``): air statistics with the day's AQI by the edition in
    force, or water items' means; recomputed whenever that day's data change."""

    __tablename__ = "quality_day"
    __table_args__ = (Index("ix_quality_day_day", "day"),)

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    """air or water."""
    site: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The station's or section's code."""
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    edition: Mapped[str] = mapped_column(String(16))
    """The air edition (2012, 2026) or the water standard's version."""
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Valid statistics by key (air: PM2_5 … O3_8h, O3_1h; water: items), null where invalid."""
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    valid: Mapped[dict[str, Any]] = mapped_column(JSON)
    aqi: Mapped[int | None] = mapped_column(Integer, default=None)
    primary_pollutants: Mapped[str] = mapped_column(String(64), default="")
    """Comma-separated indicators with the highest IAQI (AQI > 50)."""
    newest_frame_id: Mapped[int] = mapped_column(BigInteger)
    """The newest stored frame behind the day: a figure names its data."""


class QualityTarget(Base):
    """A year's target of the city or a county (PM2.5 annual mean, good-day
    ratio, composite index), set by city administrators."""

    __tablename__ = "quality_target"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    area: Mapped[str] = mapped_column(String(12), primary_key=True)
    """A county code, or ``city``."""
    indicator: Mapped[str] = mapped_column(String(24), primary_key=True)
    """PM2_5 [µg/m³], good_day_ratio [%] or composite_index."""
    value: Mapped[float] = mapped_column(Float)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProvinceMonthly(Base):
    """A month's figures of a city of the province, or of the province itself
    (``全省``), imported from the province's publication."""

    __tablename__ = "province_monthly"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    """The month's first day."""
    area: Mapped[str] = mapped_column(String(32), primary_key=True)
    composite_index: Mapped[float | None] = mapped_column(Float, default=None)
    pm2_5: Mapped[float | None] = mapped_column(Float, default=None)
    good_day_ratio: Mapped[float | None] = mapped_column(Float, default=None)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Permit(Base):
    """One version of a discharge permit (排污许可证): a change of the permit is
    a new row with the next version, so an audit of the past reads the version
    it was made under; rows are never rewritten."""

    __tablename__ = "permit"
    __table_args__ = (UniqueConstraint("number", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    """Management category: key (重点管理), simplified (简化管理) or registration (登记管理)."""
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_to: Mapped[datetime] = mapped_column(DateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="")


class PermitMonitoring(Base):
    """An item of a permit version's self-monitoring plan (自行监测方案): what
    is monitored at an outlet, automatically or by hand, and how often. For an
    automatic item, the untreated concentration and design flow the permit
    application declares are what direct discharge (按直排核算) is counted with
    where no device monitors it."""

    __tablename__ = "permit_monitoring"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    permit_id: Mapped[int] = mapped_column(ForeignKey("permit.id"), index=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlet.id"))
    pollutant: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    """automatic (自动监测) or manual (手工监测)."""
    frequency: Mapped[str] = mapped_column(String(32))
    """continuous, or a count per period: 1/day, 1/month, 1/quarter, 1/year."""
    untreated_concentration: Mapped[float | None] = mapped_column(Float, default=None)
    """[the factor's unit] before treatment (产生浓度)."""
    design_flow_m3h: Mapped[float | None] = mapped_column(Float, default=None)
    """[m³/h] the outlet's design flow (设计风量 / 设计水量)."""


class HourlyEmission(Base):
    """The emission of one pollutant of one device in one clock hour, as the
    permit accounting counts it (``permits/accounting.py``), kept current as
    uploads arrive (``permits/materialise.py``). Direct discharge of an outlet
    without a device has the device ``outlet:<id>``."""

    __tablename__ = "hourly_emission"
    __table_args__ = (Index("ix_hourly_emission_enterprise", "enterprise_id", "pollutant", "hour"),)

    mn: Mapped[str] = mapped_column(String(32), primary_key=True)
    pollutant: Mapped[str] = mapped_column(String(16), primary_key=True)
    hour: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    """The hour's start, China Standard Time, naive."""
    enterprise_id: Mapped[int | None] = mapped_column(Integer, default=None)
    outlet_id: Mapped[int | None] = mapped_column(Integer, default=None)
    validity: Mapped[str] = mapped_column(String(8))
    cause: Mapped[str | None] = mapped_column(String(32), default=None)
    concentration: Mapped[float | None] = mapped_column(Float, default=None)
    """The measured hourly mean (not O2-corrected); None when the hour is not valid."""
    flow_m3: Mapped[float | None] = mapped_column(Float, default=None)
    """The volume through the outlet in the hour [m³]."""
    measured_kg: Mapped[float | None] = mapped_column(Float, default=None)
    """The emission the measurement gives (the original, kept beside a substitute)."""
    emission_kg: Mapped[float | None] = mapped_column(Float, default=None)
    """The emission accounted [kg]; None when nothing accounts for it."""
    method: Mapped[str] = mapped_column(String(12))
    """measured, substituted, direct, manual, stopped or missing."""
    rule: Mapped[str | None] = mapped_column(String(160), default=None)
    """The substitution rule or direct-discharge reason."""


class ManualResult(Base):
    """A manual monitoring result (手工监测) of one pollutant at one outlet,
    as the laboratory reported it (imported from CSV/XLSX,
    ``permits/manual_store.py``); the accounting fills with it what the method
    order allows (``permits/manual.py``). Never rewritten."""

    __tablename__ = "manual_result"
    __table_args__ = (
        UniqueConstraint("outlet_id", "pollutant", "sampled_from"),
        Index("ix_manual_result_enterprise", "enterprise_id", "sampled_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlet.id"))
    pollutant: Mapped[str] = mapped_column(String(16))
    sampled_from: Mapped[datetime] = mapped_column(DateTime)
    """Sampling start, China Standard Time, naive."""
    sampled_to: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    """Sampling end (a composite sample's period); None: a grab sample."""
    concentration: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    """As reported: mg/m³, µg/m³, mg/L, µg/L (ASCII spellings read too)."""
    flow_m3h: Mapped[float | None] = mapped_column(Float, default=None)
    """[m³/h] the flow measured with the sample (dry standard flue gas, or water)."""
    volume_m3: Mapped[float | None] = mapped_column(Float, default=None)
    """[m³] the volume discharged over the sampling period (e.g. a day's water)."""
    laboratory: Mapped[str] = mapped_column(String(100))
    report_number: Mapped[str] = mapped_column(String(64))
    source_file: Mapped[str] = mapped_column(String(200))
    imported_by: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EmissionMonth(Base):
    """The hourly emissions of one device, pollutant, method and owner summed
    over a calendar month (``permits/rollup.py``), kept current with
    ``hourly_emission`` by everything that writes it: a year's totals read a
    few hundred rows, not millions of hours."""

    __tablename__ = "emission_month"
    __table_args__ = (
        Index("ix_emission_month_device", "mn", "pollutant", "month"),
        # Covering a year's totals (permits/report.py year_totals): the index alone.
        Index(
            "ix_emission_month_enterprise",
            "enterprise_id",
            "month",
            "pollutant",
            "method",
            "emission_kg",
            "newest",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mn: Mapped[str] = mapped_column(String(32))
    pollutant: Mapped[str] = mapped_column(String(16))
    month: Mapped[datetime] = mapped_column(DateTime)
    """The month's first hour, China Standard Time, naive."""
    method: Mapped[str] = mapped_column(String(12))
    enterprise_id: Mapped[int | None] = mapped_column(Integer, default=None)
    outlet_id: Mapped[int | None] = mapped_column(Integer, default=None)
    emission_kg: Mapped[float | None] = mapped_column(Float, default=None)
    """The sum of the hours' accounted emissions (math.fsum); None when none has one."""
    hours: Mapped[int] = mapped_column(Integer)
    newest: Mapped[datetime] = mapped_column(DateTime)
    """The newest of the hours."""


class ControlUnit(Base):
    """An environmental control unit (生态环境管控单元, 三线一单) with its polygon."""

    __tablename__ = "control_unit"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_type: Mapped[str] = mapped_column(String(8))
    """优先保护, 重点管控 or 一般管控."""
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    """A GeoJSON Polygon or MultiPolygon, longitude-latitude (WGS 84 / CGCS2000)."""
    west: Mapped[float] = mapped_column(Float)
    south: Mapped[float] = mapped_column(Float)
    east: Mapped[float] = mapped_column(Float)
    north: Mapped[float] = mapped_column(Float)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessClause(Base):
    """A clause of a control unit's access list (生态环境准入清单)."""

    __tablename__ = "access_clause"
    __table_args__ = (Index("ix_access_clause_unit", "unit_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("control_unit.code"))
    dimension: Mapped[str] = mapped_column(String(16))
    """空间布局约束, 污染物排放管控, 环境风险防控 or 资源开发效率."""
    effect: Mapped[str] = mapped_column(String(16))
    """forbidden or restricted."""
    industries: Mapped[str] = mapped_column(String(200))
    """GB/T 4754 code prefixes, comma-separated, or ``*``."""
    text: Mapped[str] = mapped_column(Text)
    pollutants: Mapped[str] = mapped_column(String(200), default="", server_default="")
    """HJ 212 codes, comma-separated: the clause applies only to a project or
    enterprise emitting one of them (empty: to every one its industries name)."""


class EmergencyLine(Base):
    """A production line of an enterprise's emergency list (应急减排清单) in one
    season's version, with the measure it takes at each warning level."""

    __tablename__ = "emergency_line"
    __table_args__ = (UniqueConstraint("enterprise_id", "season", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    season: Mapped[str] = mapped_column(String(16))
    """The list's version, e.g. ``2026-2027`` (autumn and winter)."""
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    """Exclusive."""
    name: Mapped[str] = mapped_column(String(100))
    process: Mapped[str] = mapped_column(String(100), default="")
    """The process (工序) the line runs."""
    measures: Mapped[dict[str, str]] = mapped_column(JSON)
    """By warning level, the measure: ``stop``, ``cut:0.3``, ``staggered`` (or absent: none)."""


class EmergencyLineMeter(Base):
    """A meter on an emergency-list line's production circuit."""

    __tablename__ = "emergency_line_meter"

    line_id: Mapped[int] = mapped_column(ForeignKey("emergency_line.id"), primary_key=True)
    meter_id: Mapped[int] = mapped_column(ForeignKey("meter.id"), primary_key=True)


class RectificationProblem(Base):
    """A problem to rectify (整改事项): fed back by an inspection round, a
    complaint, an alert or case, or found by the bureau itself (rules.md §4.2)."""

    __tablename__ = "rectification_problem"
    __table_args__ = (
        UniqueConstraint("source", "batch", "item_no", name="uq_rectification_item"),
        Index("ix_rectification_county_state", "county_code", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # central / provincial / city / complaint ...
    batch: Mapped[str] = mapped_column(String(100))
    """The round, e.g. 第二轮中央生态环境保护督察 (with its feedback date)."""
    item_no: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(16))
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    """The enterprise the problem is (when it is one's): its users are the responsible unit."""
    lead_unit: Mapped[str] = mapped_column(String(200))
    cooperating_units: Mapped[str] = mapped_column(Text, default="")
    measures: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[datetime] = mapped_column(DateTime)
    """The last day of rectification (China Standard Time, midnight, naive)."""
    state: Mapped[str] = mapped_column(String(16))
    escalation: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notice_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text, default="")
    """What was done, as the public notice shows it (no personal data)."""


class RectificationLink(Base):
    """What a problem concerns: enterprises, alerts, enforcement cases, and the
    similar problems it was linked to (举一反三)."""

    __tablename__ = "rectification_link"

    problem_id: Mapped[int] = mapped_column(ForeignKey("rectification_problem.id"),
                                            primary_key=True)  # fmt: skip
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # enterprise/alert/case/problem
    ref_id: Mapped[int] = mapped_column(Integer, primary_key=True)


class RectificationEvent(Base):
    """A problem's history: each action, who took it, from where, why, with what files."""

    __tablename__ = "rectification_event"
    __table_args__ = (Index("ix_rectification_event_problem", "problem_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("rectification_problem.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class EvidenceFile(Base):
    """A stored file, by the SHA-256 of its content (content-addressed: the
    same file uploaded twice is kept once). Kept in the database, so a file and
    the action it backs commit together."""

    __tablename__ = "evidence_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProblemEvidence(Base):
    """A file backing a problem's action, under the name it was uploaded with."""

    __tablename__ = "problem_evidence"
    __table_args__ = (Index("ix_problem_evidence_problem", "problem_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("rectification_problem.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("rectification_event.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("evidence_file.sha256"))
    name: Mapped[str] = mapped_column(String(200))


class Complaint(Base):
    """A complaint (信访, 12345 hotline), noise and odour first: where and when,
    what; the reply to the complainant; the problem it became, if any. The
    complainant's contact is personal data: shown to supervisors only, never
    in the public notice."""

    __tablename__ = "complaint"
    __table_args__ = (
        UniqueConstraint("channel", "reference", name="uq_complaint_reference"),
        Index("ix_complaint_county_received", "county_code", "received_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    """The hotline's or office's own number for it (工单号)."""
    received_at: Mapped[datetime] = mapped_column(DateTime)
    """When it came in (China Standard Time, naive, as the hotline's export gives it)."""
    category: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    address: Mapped[str] = mapped_column(String(300), default="")
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    complainant: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16))  # open / replied
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectification_problem.id"), default=None
    )


class ContaminatedPlot(Base):
    """A contaminated or suspected plot of land (污染地块) of the bottom-line
    registers: where, what it was used for, who answers for it and its status
    (risk control, remediation, safe use, ...); its history is its audit trail."""

    __tablename__ = "contaminated_plot"
    __table_args__ = (Index("ix_contaminated_plot_county", "county_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    address: Mapped[str] = mapped_column(String(300), default="")
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    area_m2: Mapped[float | None] = mapped_column(Float, default=None)
    former_use: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(16))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    """The enterprise that answers for the plot, if any (its users see the plot)."""
    responsible: Mapped[str] = mapped_column(String(200), default="")


class HazardousWasteUnit(Base):
    """A unit of the hazardous-waste register (危险废物): a producer (产生单位,
    with its declared annual quantity per HW category) or a licensed disposal
    unit (经营/处置单位, with its licence, licensed HW categories and annual
    licensed capacity). One enterprise may be both: one row per role."""

    __tablename__ = "hazardous_waste_unit"
    __table_args__ = (
        UniqueConstraint("credit_code", "role", name="uq_hazardous_waste_unit_role"),
        Index("ix_hazardous_waste_unit_county", "county_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    role: Mapped[str] = mapped_column(String(16))
    """``producer`` or ``disposer``."""
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    address: Mapped[str] = mapped_column(String(300), default="")
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    licence_no: Mapped[str] = mapped_column(String(64), default="")
    licence_valid_until: Mapped[date | None] = mapped_column(Date, default=None)
    licensed_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    """HW codes the licence covers (a disposer's)."""
    licensed_capacity_t: Mapped[float | None] = mapped_column(Float, default=None)
    """The licence's annual capacity [t/a] (a disposer's)."""
    declared: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    """Declared annual production per HW code [t/a] (a producer's 年度申报)."""


class WasteTransfer(Base):
    """A hazardous-waste transfer manifest (转移联单): from a registered producer
    to a receiver named by its credit code (licensed or not: that is checked)."""

    __tablename__ = "waste_transfer"
    __table_args__ = (Index("ix_waste_transfer_producer", "producer_id", "transferred_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_no: Mapped[str] = mapped_column(String(32), unique=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("hazardous_waste_unit.id"))
    receiver_credit_code: Mapped[str] = mapped_column(String(18))
    receiver_name: Mapped[str] = mapped_column(String(200), default="")
    hw_code: Mapped[str] = mapped_column(String(8))
    quantity_t: Mapped[float] = mapped_column(Float)
    transferred_on: Mapped[date] = mapped_column(Date)
    transport: Mapped[str] = mapped_column(String(200), default="")
    """The carrier and vehicle (运输单位、车牌)."""


class MedicalInstitution(Base):
    """A medical institution (医疗机构): its wastewater treatment and who takes
    its medical waste under which contract."""

    __tablename__ = "medical_institution"
    __table_args__ = (Index("ix_medical_institution_county", "county_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    address: Mapped[str] = mapped_column(String(300), default="")
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    grade: Mapped[str] = mapped_column(String(16))
    beds: Mapped[int] = mapped_column(Integer, default=0)
    has_wastewater_facility: Mapped[bool] = mapped_column(Boolean, default=False)
    disinfection: Mapped[str] = mapped_column(String(16), default="none")
    online_monitoring: Mapped[bool] = mapped_column(Boolean, default=False)
    waste_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("hazardous_waste_unit.id"), default=None
    )
    """The licensed unit that takes its medical waste (HW01)."""
    waste_contract_no: Mapped[str] = mapped_column(String(64), default="")
    waste_contract_until: Mapped[date | None] = mapped_column(Date, default=None)


class ChemicalPark(Base):
    """A chemical park (化工园区): its centre and boundary (a ring of
    longitude-latitude pairs) in a county."""

    __tablename__ = "chemical_park"
    __table_args__ = (Index("ix_chemical_park_county", "county_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    level: Mapped[str] = mapped_column(String(16), default="")
    """Recognised by: ``provincial`` or ``city`` (认定级别)."""
    longitude: Mapped[float | None] = mapped_column(Float, default=None)
    latitude: Mapped[float | None] = mapped_column(Float, default=None)
    boundary: Mapped[list[list[float]] | None] = mapped_column(JSON, default=None)
    area_km2: Mapped[float | None] = mapped_column(Float, default=None)


class ChemicalEnterprise(Base):
    """A chemical or acid-using enterprise (化工企业、涉酸企业): the registered
    enterprise, its park if any, and the acids it uses with their storage."""

    __tablename__ = "chemical_enterprise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``chemical`` or ``acid_using``."""
    park_id: Mapped[int | None] = mapped_column(ForeignKey("chemical_park.id"), default=None)
    acids: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    """Storage of each acid used [t], by its code (``registry/registers.toml``)."""


class HeavyMetalEnterprise(Base):
    """An enterprise discharging heavy metals (涉重金属企业)."""

    __tablename__ = "heavy_metal_enterprise"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), unique=True)
    metals: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Element symbols: Pb, Hg, Cd, Cr, As, ..."""
    industry: Mapped[str] = mapped_column(String(100), default="")
    key_supervision: Mapped[bool] = mapped_column(Boolean, default=False)
    """On the key-supervision list (重点监管单位)."""


class FirePoint(Base):
    """A satellite fire point (卫星遥感火点) of straw burning, as the satellite
    export gives it, located to its county by point-in-polygon (None: outside
    the city); in a county, it became a problem to check (``problem_id``)."""

    __tablename__ = "fire_point"
    __table_args__ = (Index("ix_fire_point_county_observed", "county_code", "observed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fire_id: Mapped[str] = mapped_column(String(32), unique=True)
    """The export's own id of the point: a re-import of it changes nothing."""
    observed_at: Mapped[datetime] = mapped_column(DateTime)
    """When the satellite saw it (China Standard Time, naive, as the export gives it)."""
    longitude: Mapped[float] = mapped_column(Float)
    latitude: Mapped[float] = mapped_column(Float)
    confidence: Mapped[str] = mapped_column(String(16), default="")
    """0-100, or low/nominal/high, as the sensor's product states it."""
    frp: Mapped[float | None] = mapped_column(Float, default=None)
    """Fire radiative power [MW]."""
    satellite: Mapped[str] = mapped_column(String(32), default="")
    county_code: Mapped[str | None] = mapped_column(ForeignKey("county.code"), default=None)
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectification_problem.id"), default=None
    )
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Campaign(Base):
    """An inspection campaign (大排查大整治): a theme, a period, the counties
    it covers (empty: the whole city); its checklist, targets and results
    follow. Its name is the batch of the problems its failed items open."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    theme: Mapped[str] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    county_codes: Mapped[str] = mapped_column(Text, default="")
    """Comma-separated county codes (empty: every county)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))


class CampaignItem(Base):
    """One item of a campaign's checklist: what is checked, on what legal basis, how serious."""

    __tablename__ = "campaign_item"
    __table_args__ = (UniqueConstraint("campaign_id", "number", name="uq_campaign_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    legal_basis: Mapped[str] = mapped_column(String(500), default="")
    severity: Mapped[str] = mapped_column(String(16))


class CampaignTarget(Base):
    """What a campaign inspects: a row of a register by kind and id (an
    enterprise, a contaminated plot, ...), with its county and enterprise
    copied for scope, and when it was inspected."""

    __tablename__ = "campaign_target"
    __table_args__ = (
        UniqueConstraint("campaign_id", "kind", "ref_id", name="uq_campaign_target"),
        Index("ix_campaign_target_county", "campaign_id", "county_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    inspected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    inspected_by: Mapped[str] = mapped_column(String(64), default="")


class CampaignResult(Base):
    """The result of one checklist item at one target (pass, fail, not
    applicable), with a note and optional evidence from the evidence store; a
    failed item's rectification problem (once)."""

    __tablename__ = "campaign_result"

    target_id: Mapped[int] = mapped_column(ForeignKey("campaign_target.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("campaign_item.id"), primary_key=True)
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    evidence_sha256: Mapped[str | None] = mapped_column(
        ForeignKey("evidence_file.sha256"), default=None
    )
    evidence_name: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str] = mapped_column(String(64))
    problem_id: Mapped[int | None] = mapped_column(
        ForeignKey("rectification_problem.id"), default=None
    )


class QuotaEntry(Base):
    """An entry of a county's total-quantity ledger (总量指标台账) of one
    pollutant: capacity freed (``freed``: a closure 关停 or an upgrade 提标改造
    of an enterprise) or allocated to a new project (``allocated``, 腾笼换鸟),
    drawing on freed entries (``quota_draw``). Amounts are whole grams, so the
    balance is exact. Entries are never rewritten: a mistake is cancelled
    (``cancelled_on``, with its reason) and no longer counts."""

    __tablename__ = "quota_entry"
    __table_args__ = (Index("ix_quota_entry_county", "county_code", "pollutant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    pollutant: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    """freed or allocated."""
    cause: Mapped[str] = mapped_column(String(16))
    """freed: closure or upgrade; allocated: project."""
    grams: Mapped[int] = mapped_column(BigInteger)
    effective_on: Mapped[date] = mapped_column(Date)
    document_no: Mapped[str] = mapped_column(String(100))
    """The document that grants or records it (文号)."""
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), default=None)
    project: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_on: Mapped[date | None] = mapped_column(Date, default=None)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")


class QuotaDraw(Base):
    """What an allocation takes from one freed entry [g]."""

    __tablename__ = "quota_draw"

    allocation_id: Mapped[int] = mapped_column(ForeignKey("quota_entry.id"), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("quota_entry.id"), primary_key=True)
    grams: Mapped[int] = mapped_column(BigInteger)


class EnterpriseOutput(Base):
    """An enterprise's output in a year (产品产量), for emissions per unit of output."""

    __tablename__ = "enterprise_output"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    """The product's unit: t, 万m², MWh, ..."""


class EmissionDeclaration(Base):
    """An enterprise's emission of a pollutant in a month as its execution report
    (执行报告) declares it [t]: counted where the permits' hourly table has
    nothing of that enterprise, pollutant and month."""

    __tablename__ = "emission_declaration"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    """The month's first day."""
    pollutant: Mapped[str] = mapped_column(String(16), primary_key=True)
    tonnes: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(64), default="")


class EnergyDeclaration(Base):
    """An enterprise's electricity of a month as billed or declared (电费账单 /
    企业填报) [MWh]: counted instead of its meters for that month."""

    __tablename__ = "energy_declaration"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    """The month's first day."""
    total_mwh: Mapped[float] = mapped_column(Float)
    production_mwh: Mapped[float | None] = mapped_column(Float, default=None)
    """The production (产污) circuits' part, where known."""
    source: Mapped[str] = mapped_column(String(64), default="")


class ClusterLease(Base):
    """A lease of cluster mode (PostgreSQL): a partition a writer or worker
    holds, the single-active alert desk, or a member's heartbeat
    (``member:<role>:<name>``). Held until ``expires_at`` (database time)
    unless renewed."""

    __tablename__ = "cluster_lease"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRun(Base):
    """One permit audit file of an enterprise and period (审计式监管,
    ``permits/audit_file.py``): the parameters it was made with, the newest
    archived frame the data held then, and the document, which the PDF and
    XLSX are rendered from byte for byte (their SHA-256 kept beside)."""

    __tablename__ = "audit_run"
    __table_args__ = (Index("ix_audit_run_enterprise", "enterprise_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    period: Mapped[str] = mapped_column(String(16))
    """2026, 2026-Q3 or 2026-07."""
    as_of: Mapped[datetime] = mapped_column(DateTime)
    """The moment (China Standard Time, naive) the file judges the period at."""
    newest_frame_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class JudgementSnapshot(Base):
    """A week's county judgement (每周分析研判), immutable: the inputs read
    from the platform, the parameters (and their version) they were scored
    with, and the result; scoring the inputs again gives the same numbers."""

    __tablename__ = "judgement_snapshot"
    __table_args__ = (UniqueConstraint("week", "parameters_version",
                                       name="uq_judgement_week_version"),)  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    week: Mapped[str] = mapped_column(String(8))
    """ISO week, ``YYYY-Www`` (China Standard Time)."""
    first_day: Mapped[date] = mapped_column(Date, index=True)
    parameters_version: Mapped[str] = mapped_column(String(80))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    computed_by: Mapped[str] = mapped_column(String(64))


class CountyListing(Base):
    """A county listed for supervision (挂牌督办): why, what it must do, by
    when, and what lifts it; its state follows ``judgement/workflow.toml``."""

    __tablename__ = "county_listing"
    __table_args__ = (Index("ix_county_listing_county", "county_code", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    week: Mapped[str] = mapped_column(String(8))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("judgement_snapshot.id"))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    required_actions: Mapped[list[str]] = mapped_column(JSON)
    lifting_criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    deadline: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ListingEvent(Base):
    """A listing's history: each action, who took it, and why."""

    __tablename__ = "listing_event"
    __table_args__ = (Index("ix_listing_event_listing", "listing_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey("county_listing.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class AccountabilityInterview(Base):
    """An accountability interview (约谈问责) of a county's leaders."""

    __tablename__ = "accountability_interview"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    listing_id: Mapped[int | None] = mapped_column(ForeignKey("county_listing.id"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("judgement_snapshot.id"))
    held_on: Mapped[date] = mapped_column(Date)
    interviewees: Mapped[str] = mapped_column(Text)
    problems: Mapped[str] = mapped_column(Text)
    commitments: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """``{"text", "deadline", "done"}``."""
    follow_up: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(16))
    """pending, fulfilled or escalated."""
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EcoCompensation(Base):
    """A county's quarterly eco-compensation (生态补偿) with its computation."""

    __tablename__ = "eco_compensation"
    __table_args__ = (UniqueConstraint("county_code", "quarter", "parameters_version",
                                       name="uq_eco_compensation"),)  # fmt: skip

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("county.code"))
    quarter: Mapped[str] = mapped_column(String(7))
    """``YYYY-Qn``."""
    parameters_version: Mapped[str] = mapped_column(String(80))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount_wan: Mapped[float | None] = mapped_column(Float, default=None)
    """[万元] receivable (positive) or payable (negative); None without the data."""
    computation: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WeeklyReport(Base):
    """A weekly report as generated from its snapshot: page, PDF and XLSX."""

    __tablename__ = "weekly_report"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("judgement_snapshot.id"), unique=True)
    week: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
