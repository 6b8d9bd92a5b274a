"""The demo city, its profiles and faults, and the simulated loggers end to end."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from envwatch.demo.city import load_city
from envwatch.demo.emergency_week import WARNING_DAY
from envwatch.demo.profiles import (
    LOGGER_FAULTS,
    Fault,
    FaultKind,
    MeterProfile,
    Reading,
    analyser_slope,
    daily_level,
    line_current,
    meter_power,
    sample,
)
from envwatch.demo.seed import DemoAlreadySeededError, demo_rows, seed_demo
from envwatch.demo.simulator import (
    build_frame,
    choose_faults,
    load_points,
    never_connecting,
    simulate,
)
from envwatch.gateway.committer import GroupCommitter
from envwatch.gateway.server import Gateway, load_devices
from envwatch.hj212 import DecodeOptions, ProtocolVersion, decode_frame, interpret
from envwatch.hj212.model import DataUpload
from envwatch.registry.emergency_lists import daily_compliance, daily_emissions
from envwatch.settings import Settings
from envwatch.store.archive import Archive, verify
from envwatch.store.schema import (
    ArchivedFrame,
    ControlUnit,
    ElectricityReading,
    EmergencyLine,
    Enterprise,
    Measurement,
    MonitoringPoint,
)
from envwatch.zoning.store import mismatches

COUNTY_CODES = {"371502", "371503", "371521", "371522", "371524", "371525", "371526", "371581"}


def test_the_demo_city_has_liaocheng_and_fictional_enterprises() -> None:
    rows = demo_rows(load_city())
    counties = {row["code"]: row for row in rows["county"]}
    assert set(counties) >= COUNTY_CODES
    zones = [row for row in rows["county"] if row["kind"] == "zone"]
    assert len(zones) == 3 and all(zone["host_code"] in COUNTY_CODES for zone in zones)
    enterprises = rows["enterprise"]
    assert 110 <= len(enterprises) <= 130
    assert all("示例" in row["name"] for row in enterprises)
    assert len({row["name"] for row in enterprises}) == len(enterprises)
    assert len({row["credit_code"] for row in enterprises}) == len(enterprises)
    industries = Counter(row["industry_code"] for row in enterprises)
    assert set(industries) == {"4411", "2614", "2221", "1713", "3120", "2710", "4620"}


def test_demo_points_are_valid_for_their_edition() -> None:
    points = demo_rows(load_city())["monitoring_point"]
    assert len({p["mn"] for p in points}) == len(points)
    editions = Counter(p["protocol_version"] for p in points)
    assert set(editions) == {"2005", "2017", "2025"}
    for point in points:
        assert len(point["mn"]) == (14 if point["protocol_version"] == "2005" else 24)
        assert len(point["pw"]) == 6


def test_some_key_enterprises_lack_a_monitor_or_a_meter() -> None:
    rows = demo_rows(load_city())
    meter_mns = {m["mn"] for m in rows["meter"]}
    monitored = {p["enterprise_id"] for p in rows["monitoring_point"] if p["mn"] not in meter_mns}
    metered = {m["enterprise_id"] for m in rows["meter"]}
    ids = {e["id"] for e in rows["enterprise"]}
    assert 0 < len(ids - monitored) < 15
    assert 0 < len(ids - metered) < 20


def test_seeding_twice_is_refused(engine: Engine) -> None:
    counts = seed_demo(engine)
    assert counts["enterprise"] == 120
    with pytest.raises(DemoAlreadySeededError):
        seed_demo(engine)


NOON = datetime(2026, 11, 29, 15, 0)
DAWN = datetime(2026, 11, 29, 3, 0)
FACTORS = {"a21026": (18.0, 0.3), "a21002": (32.0, 0.25), "a19001": (6.5, 0.1)}
LIMITS = {"a21026": 35.0, "a21002": 50.0}


def test_daily_profile_peaks_in_the_afternoon() -> None:
    assert daily_level(10.0, 0.3, NOON) > 12.5
    assert daily_level(10.0, 0.3, DAWN) < 7.5


def test_a_tampered_slope_scales_the_pollutants_down() -> None:
    fault = Fault(FaultKind.PARAMETER_CHANGE, DAWN)
    clean = sample(FACTORS, LIMITS, NOON, random.Random(1))
    tampered = sample(FACTORS, LIMITS, NOON, random.Random(1), fault=fault)
    assert tampered["a21026"].value == pytest.approx(clean["a21026"].value * 0.8, rel=1e-3)
    assert tampered["a19001"] == clean["a19001"]
    assert analyser_slope(NOON, fault) == 0.8
    assert analyser_slope(DAWN - timedelta(hours=1), fault) == 1.0


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        (FaultKind.EXCEEDANCE, lambda r: r["a21026"].value > 35 and r["a21026"].flag == "N"),
        (FaultKind.FLAG_ABUSE, lambda r: r["a21026"].value > 35 and r["a21026"].flag in "MCD"),
        (FaultKind.ZEROS, lambda r: r["a21026"].value == 0 and r["a19001"].value > 0),
        (FaultKind.PINNED, lambda r: 0.9 * 35 < r["a21026"].value < 35),
        (FaultKind.O2_DILUTION, lambda r: r["a19001"].value > 18 and r["a21026"].value < 18),
        (FaultKind.UNDECLARED_MARKS, lambda r: {x.flag for x in r.values()} == {"C"}),
    ],
)
def test_faults_shape_the_readings(kind: FaultKind, check: object) -> None:
    fault = Fault(kind, DAWN)
    readings = sample(FACTORS, LIMITS, NOON, random.Random(1), fault=fault)
    assert callable(check) and check(readings)
    before = sample(FACTORS, LIMITS, DAWN - timedelta(hours=1), random.Random(1), fault=fault)
    assert all(r.flag == "N" for r in before.values()) and before["a21026"].value < 35


def test_constant_fault_repeats_itself() -> None:
    fault = Fault(FaultKind.CONSTANT, DAWN)
    frozen: dict[str, Reading] = {}
    first = sample(FACTORS, LIMITS, NOON, random.Random(1), fault=fault, frozen=frozen)
    later = sample(
        FACTORS, LIMITS, NOON + timedelta(hours=2), random.Random(2), fault=fault, frozen=frozen
    )
    assert first == later


def test_every_edition_builds_frames_the_codec_accepts(engine: Engine) -> None:
    seed_demo(engine)
    points = load_points(engine)
    editions = {point.edition: point for point in points}
    assert set(editions) == set(ProtocolVersion)
    for edition, point in editions.items():
        readings = sample(point.factors, point.limits, NOON, random.Random(3))
        for cn in ("2011", "2051", "2061"):
            frame = build_frame(point, cn, NOON, readings, "20261129150000001")
            decoded = decode_frame(frame, DecodeOptions(version=edition))
            assert decoded.warnings == ()
            message = interpret(decoded.packet, edition)
            assert isinstance(message, DataUpload)
            # 2005 short codes come back as the 2017 codes of the registry.
            assert set(message.values) == set(readings)


def test_simulated_loggers_feed_the_gateway(engine: Engine) -> None:
    seed_demo(engine)
    # Every 6th device: pollutant loggers and meters of many enterprises.
    points = load_points(engine)[::6]
    assert any(point.meter for point in points) and any(not point.meter for point in points)

    async def scenario() -> Counter[str]:
        committer = GroupCommitter(Archive(engine).write_batch)
        committer.start()
        # Every simulated logger connects from this one address.
        settings = Settings(database_url="unused", max_connections_per_peer=100_000)
        gateway = Gateway(settings, committer, load_devices(engine))
        await gateway.start("127.0.0.1", 0)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(3.0, stop.set)
        stats = await simulate(
            points,
            "127.0.0.1",
            gateway.port,
            scale=600.0,
            stop=stop,
            start=DAWN - timedelta(minutes=5),
        )
        await gateway.stop()
        await committer.close()
        return stats.counts

    counts = asyncio.run(scenario())
    assert counts["acknowledged"] > 100
    assert counts["gave_up"] == 0
    with engine.connect() as connection:
        archived = connection.execute(select(func.count()).select_from(ArchivedFrame)).scalar()
        rejected = connection.execute(
            select(func.count())
            .select_from(ArchivedFrame)
            .where(ArchivedFrame.verdict != "accepted")
        ).scalar()
        cns = set(connection.execute(select(Measurement.cn).distinct()).scalars())
        readings = connection.execute(
            select(func.count(ElectricityReading.meter_id.distinct())).where(
                ElectricityReading.source == "hj212", ElectricityReading.power_kw > 0
            )
        ).scalar()
        enterprises = connection.execute(
            select(func.count(Enterprise.id.distinct()))
            .join(MonitoringPoint, MonitoringPoint.enterprise_id == Enterprise.id)
            .join(ArchivedFrame, ArchivedFrame.mn == MonitoringPoint.mn)
        ).scalar()
    assert archived and archived >= counts["acknowledged"]
    assert rejected == 0
    assert cns == {"2011", "2051", "2061"}
    assert enterprises and enterprises > 20
    assert readings == sum(1 for point in points if point.meter)
    assert verify(engine).broken == ()


def test_a_few_registered_points_never_connect_in_the_demo(engine: Engine) -> None:
    seed_demo(engine)
    points = load_points(engine)
    silent = never_connecting(points, seed=7)
    assert 0 < len(silent) < len(points) // 10
    assert silent == never_connecting(points, seed=7)  # the same every run


def test_a_treatment_meter_switched_off_draws_almost_nothing_while_production_runs() -> None:
    rng = random.Random(1)
    shift = (8, 20)
    production = MeterProfile("production", 1000.0, shift)
    treatment = MeterProfile("treatment", 400.0, shift)
    off = Fault(FaultKind.TREATMENT_OFF, NOON - timedelta(hours=1))
    assert meter_power(production, NOON, rng) >= 650.0
    assert meter_power(treatment, NOON, rng) >= 0.55 * 400
    assert meter_power(treatment, NOON, rng, off) <= 0.01 * 400
    # Outside the shift both stand still, fault or not: nothing to catch there.
    assert meter_power(production, DAWN, rng) <= 0.05 * 1000
    assert meter_power(treatment, DAWN, rng, off) >= 0.02 * 400
    assert line_current(100.0) == pytest.approx(168.8, abs=0.1)


def test_faults_go_to_loggers_and_treatment_off_only_to_treatment_meters(engine: Engine) -> None:
    seed_demo(engine)
    points = load_points(engine)
    faults = choose_faults(points, NOON, seed=7)
    by_mn = {point.mn: point for point in points}
    off = [mn for mn, fault in faults.items() if fault.kind is FaultKind.TREATMENT_OFF]
    assert off
    for mn in off:
        meter = by_mn[mn].meter
        assert meter is not None and meter.kind == "treatment"
    others = [mn for mn, fault in faults.items() if fault.kind is not FaultKind.TREATMENT_OFF]
    assert {faults[mn].kind for mn in others} == set(LOGGER_FAULTS)
    assert all(by_mn[mn].meter is None for mn in others)


def test_clean_demo_loggers_stay_below_the_early_warning_share(engine: Engine) -> None:
    """Without a fault, no point's daily peak (noise and O2 correction at their
    worst) reaches the share of its limit that early warnings fire at: the
    demo's alerts are its faults'."""
    from envwatch.rules.engine import default_rule_set  # noqa: PLC0415

    share = default_rule_set().params["early_warning"].share_of_limit  # type: ignore[attr-defined]
    seed_demo(engine)
    worst = 0.0
    for point in load_points(engine):
        o2 = point.factors.get("a19001")
        factor = 1.0
        if o2 is not None and point.reference_o2 is not None:
            highest_o2 = o2[0] * (1 + o2[1]) * 1.05
            factor = (21 - point.reference_o2) / (21 - highest_o2)
        for code, limit in point.limits.items():
            if code in point.factors:
                mean, swing = point.factors[code]
                worst = max(worst, mean * (1 + swing) * 1.05 * factor / limit)
    assert 0.3 < worst < share


def test_the_demo_zoning_has_every_unit_type_and_a_few_enterprises_break_their_lists(
    engine: Engine,
) -> None:
    seed_demo(engine)
    with engine.connect() as connection:
        types = Counter(connection.scalars(select(ControlUnit.unit_type)))
        found = mismatches(connection)
        lines = connection.execute(select(func.count()).select_from(EmergencyLine)).scalar_one()
    assert set(types) == {"优先保护", "重点管控", "一般管控"}
    assert types["一般管控"] == 8  # one per county on the map
    verdicts = Counter(m.verdict.verdict for m in found)
    assert 3 <= verdicts["forbidden"] <= 15 and verdicts["restricted"] >= 1
    assert lines > 20


def test_the_demo_orange_warning_has_lines_that_comply_and_lines_that_do_not(
    engine: Engine,
) -> None:
    counts = seed_demo(engine, emergency=True)
    assert counts["electricity_reading"] > 10_000
    with engine.connect() as connection:
        report = daily_compliance(connection, WARNING_DAY)
    statuses = Counter(row.verdict.status for row in report)
    assert statuses["complied"] > statuses["not_complied"] >= 3
    assert statuses["no_data"] >= 1
    assert {row.level for row in report} == {"orange"}
    stopped = [r for r in report if r.required is not None and r.required.kind == "stop"]
    assert {r.verdict.status for r in stopped} >= {"complied", "not_complied"}
    # A-grade lines take transport limits only: not measurable by electricity.
    transport = [r for r in report if r.required is not None and r.required.kind == "transport"]
    assert transport and {r.verdict.status for r in transport} == {"not_measurable"}
    # The second view: the stacks' emissions follow the lines; an enterprise
    # whose line kept running did not cut its emissions either.
    with engine.connect() as connection:
        emissions = daily_emissions(connection, WARNING_DAY)
    by_status = Counter(row.verdict.status for row in emissions)
    assert by_status["complied"] > by_status["not_complied"] >= 1
    running = {r.enterprise_id for r in report if r.verdict.status == "not_complied"}
    for row in emissions:
        if row.enterprise_id in running and row.required_cut > 0:
            assert row.verdict.status == "not_complied", row
        assert row.verdict.evidence["baseline_days"]  # earlier days: no warning on them
