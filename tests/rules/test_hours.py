"""A device's hours as HJ 75 counts them, with substitutes beside the
originals: golden values (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from envwatch.demo.seed import seed_demo
from envwatch.rules.engine import default_rule_set
from envwatch.rules.hours import hours_of, with_substitutes
from envwatch.rules.model import Upload, Values
from envwatch.rules.validity import Validity
from envwatch.store.archive import Archive, MeasurementRow, ReceivedFrame
from envwatch.store.schema import MonitoringPoint, Outlet, PermitLimit
from tests.test_cli_contract import envwatch

RULES = default_rule_set()
T0 = datetime(2026, 11, 29, 0, 0)
MN = "371502000000001001000000"


def hourly(hour: int, so2: float, flag: str = "N") -> Upload:
    values = {"a21026": Values(avg=so2, flag=flag), "a19001": Values(avg=6.0, flag="N"),
              "a00000": Values(avg=100.0, flag="N")}  # fmt: skip
    return Upload(MN, "2061", T0 + timedelta(hours=hour), values)


def minute(hour: int, index: int, so2: float, flag: str = "N") -> Upload:
    values = {"a21026": Values(avg=so2, flag=flag), "a19001": Values(avg=9.0, flag="N"),
              "a00000": Values(avg=100.0, cou=60_000.0, flag="N")}  # fmt: skip
    return Upload(MN, "2051", T0 + timedelta(hours=hour, minutes=10 * index), values)


def series() -> list[Upload]:
    uploads = [hourly(h, 10.0 + h) for h in range(20)] + [hourly(20, 55.0, flag="D")]
    # Hour 21: 50 valid minutes (one record marked M): valid. Hour 22: only 40.
    uploads += [minute(21, i, 20.0, "M" if i == 5 else "N") for i in range(6)]
    uploads += [minute(22, i, 20.0) for i in range(4)]
    return uploads


def test_uploaded_and_computed_hours_with_validity_and_o2_correction() -> None:
    hours = hours_of(series(), "a21026", RULES, reference_o2=6.0)
    assert [h.source for h in hours] == ["uploaded"] * 21 + ["computed"] * 2
    assert [h.validity for h in hours[19:]] == [Validity.VALID, Validity.INVALID,
                                                Validity.VALID, Validity.INVALID]  # fmt: skip
    first = hours[0]
    # 10 mg/m³ at the reference O2; 100 m³/s for an hour; 10 × 360,000 × 1e-6 kg.
    assert (first.mean, first.corrected, first.volume_m3) == (10.0, 10.0, 360_000.0)
    assert first.emission_kg == pytest.approx(3.6)
    computed = hours[21]
    assert computed.mean == 20.0 and computed.o2 == 9.0
    assert computed.corrected == pytest.approx(25.0)  # 20 × (21 − 6) / (21 − 9)
    assert computed.volume_m3 == pytest.approx(360_000.0)  # Cou 60,000 m³ per 10 minutes
    assert computed.emission_kg == pytest.approx(7.2)
    assert hours[20].mean is None and hours[20].emission_kg is None  # D-marked: not valid


def test_invalid_hours_get_the_hj75_substitute_beside_the_original() -> None:
    hours = with_substitutes(hours_of(series(), "a21026", RULES, reference_o2=6.0), "a21026",
                             RULES)  # fmt: skip
    # α = 21/23 ≥ 90 % and gaps of one hour: the largest of the last 180 valid
    # hourly emissions before the gap, 29 mg/m³ × 360,000 m³ = 10.44 kg.
    for gap in (hours[20], hours[22]):
        assert gap.substituted_kg == pytest.approx(10.44)
        assert gap.substitution == "max of the last 180 valid hours"
        assert gap.emission_kg is None  # the original stays as it was
    assert all(h.substituted_kg is None for h in hours if h.validity is Validity.VALID)
    # Not a substituted pollutant: unchanged.
    o2 = hours_of(series(), "a19001", RULES)
    assert with_substitutes(o2, "a19001", RULES) == o2


def test_below_75_percent_capture_the_data_are_unusable() -> None:
    uploads = [hourly(h, 10.0) for h in range(3)] + [hourly(h, 10.0, "D") for h in range(3, 5)]
    hours = with_substitutes(hours_of(uploads, "a21026", RULES), "a21026", RULES)
    assert hours[3].substituted_kg is None
    assert hours[3].substitution is not None and "unusable" in hours[3].substitution


def test_the_hours_command_reads_stored_uploads(engine: Engine, database_url: str) -> None:
    seed_demo(engine)
    with engine.connect() as connection:
        mn = connection.execute(
            select(MonitoringPoint.mn).join(Outlet, MonitoringPoint.outlet_id == Outlet.id)
            .join(PermitLimit, PermitLimit.outlet_id == Outlet.id)
            .where(PermitLimit.pollutant == "a21026", MonitoringPoint.mn.not_like("%E%"))
            .order_by(MonitoringPoint.mn)
        ).scalars().first()  # fmt: skip
    assert mn is not None
    frames = []
    for upload in series():
        rows = tuple(
            MeasurementRow(mn, upload.cn, upload.data_time, code, avg=v.avg, cou=v.cou,
                           flag=v.flag)
            for code, v in upload.values.items()
        )  # fmt: skip
        frames.append(ReceivedFrame(datetime.now(UTC), "test", b"##", "accepted", mn=mn,
                                    cn=upload.cn, measurements=rows))  # fmt: skip
    Archive(engine).write_batch(frames)
    done = envwatch("data", "hours", "--db", database_url, "--mn", mn, "--pollutant", "a21026",
                    "--since", "2026-11-29T00:00", "--until", "2026-11-30T00:00")  # fmt: skip
    assert done.returncode == 0, done.stderr
    hours = [json.loads(line) for line in done.stdout.splitlines()]
    # Every clock hour: the one with no upload at all is missing.
    assert len(hours) == 24 and hours[0]["hour"] == "2026-11-29T00:00:00+08:00"
    assert (hours[23]["source"], hours[23]["cause"]) == ("none", "missing")
    assert (hours[20]["validity"], hours[20]["mean"], hours[20]["cause"]) == (
        "invalid", None, "fault")  # fmt: skip
    # α is the quarter's: silent since 2026-11-29 23:00, the device's quarter
    # is below 75 % and the table does not cover it.
    assert hours[20]["substituted_kg"] is None and "unusable" in hours[20]["substitution"]
    assert (hours[21]["source"], hours[21]["mean"]) == ("computed", 20.0)
    window = ("--since", "20261129000000", "--until", "20261130000000")
    unknown = envwatch("data", "hours", "--db", database_url, "--mn", "NOPE", "--pollutant",
                       "a21026", *window)  # fmt: skip
    assert unknown.returncode == 1 and "unknown_mn" in unknown.stderr
