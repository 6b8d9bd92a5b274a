"""The measurement API over real HTTP on SQLite and PostgreSQL: real HJ 212
frames go through admission into the archive, and their values come back raw
and O2-corrected (golden arithmetic), hourly days computed where the logger
sent no daily upload, raw frames as evidence, meter readings on one time
axis; every read scoped like the alerts and bounded in time."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, insert, select, update

from envwatch.gateway.admission import admit, connection_options
from envwatch.gateway.server import load_devices
from envwatch.hj212 import Decoder, Packet, encode_packet
from envwatch.store.archive import Archive
from envwatch.store.schema import AuditEntry, Enterprise, MonitoringPoint, PermitLimit
from envwatch.web.api_measurements import frame_text, missing_days
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]

# Enterprise 1 of the demo city (冠县, a coal power plant: ultra-low limits at 6 % O2).
MN = "371525000000000101000000"
COUNTY = "371525"
PRODUCTION_METER_MN, TREATMENT_METER_MN = "371525000000000101E00000", "371525000000000102E00000"
# Enterprise 2, in another county (a zone of 东昌府区).
OTHER_MN, OTHER_COUNTY = "371573000000000201000000", "371573"
DAY = datetime(2026, 11, 29)
SO2, O2, FLOW = "a21026", "a19001", "a00000"
INVALID_HOUR = 20  # marked D (instrument fault): not a valid hour


def frame(
    mn: str, cn: str, data_time: datetime, values: Iterable[tuple[str, str]], *, pw: str
) -> bytes:
    """One HJ 212-2017 upload as a data logger sends it (Flag 5: answer wanted)."""
    groups: list[tuple[tuple[str, str], ...]] = [(("DataTime", f"{data_time:%Y%m%d%H%M%S}"),)]
    by_code: dict[str, list[tuple[str, str]]] = {}
    for key, value in values:
        by_code.setdefault(key.split("-")[0], []).append((key, value))
    groups += [tuple(items) for items in by_code.values()]
    packet = Packet.from_groups(cn, qn=f"{data_time:%Y%m%d%H%M%S}000", st="31", pw=pw, mn=mn,
                                flag="5", cp=groups)  # fmt: skip
    return encode_packet(packet)


def hourly_so2(hour: int) -> float:
    return 20.0 + hour


def uploads(engine: Engine) -> list[bytes]:
    """What enterprise 1's loggers sent on 28 and 29 November 2026."""
    pw = {mn: device.pw for mn, device in load_devices(engine).items()}
    sent = [
        # A daily upload for the 28th (the logger's own 2031).
        frame(MN, "2031", DAY - timedelta(days=1),
              [(f"{SO2}-Avg", "30.0"), (f"{SO2}-Min", "25.0"), (f"{SO2}-Max", "35.0"),
               (f"{SO2}-Cou", "950.0"), (f"{SO2}-Flag", "N"),
               (f"{O2}-Avg", "8.0"), (f"{O2}-Flag", "N")], pw=pw[MN]),
    ]  # fmt: skip
    for hour in range(24):
        flag = "D" if hour == INVALID_HOUR else "N"
        sent.append(
            frame(MN, "2061", DAY + timedelta(hours=hour),
                  [(f"{SO2}-Avg", f"{hourly_so2(hour):.1f}"), (f"{SO2}-Flag", flag),
                   (f"{O2}-Avg", "9.0"), (f"{O2}-Flag", "N"),
                   (f"{FLOW}-Avg", "100.0"), (f"{FLOW}-Flag", "N")], pw=pw[MN])
        )  # fmt: skip
    # Real-time data every 30 s from 10:00: one value while maintained (M), one
    # at 19.5 % O2 (above the ceiling: no corrected value).
    real_time = [("12.0", "N", "9.0"), ("12.5", "N", "9.0"), ("13.0", "M", "9.0"),
                 ("14.0", "N", "19.5")]  # fmt: skip
    for index, (so2, flag, o2) in enumerate(real_time):
        sent.append(
            frame(MN, "2011", DAY + timedelta(hours=10, seconds=30 * index),
                  [(f"{SO2}-Rtd", so2), (f"{SO2}-Flag", flag), (f"{O2}-Rtd", o2),
                   (f"{O2}-Flag", "N")], pw=pw[MN])
        )  # fmt: skip
    for minute in range(2):
        moment = DAY + timedelta(hours=10, minutes=minute)
        sent.append(frame(PRODUCTION_METER_MN, "2011", moment,
                          [("e10001-Rtd", f"{800 + minute:.1f}"), ("e10001-Flag", "N"),
                           ("e10002-Rtd", f"{5000 + minute:.1f}"), ("e10002-Flag", "N")],
                          pw=pw[PRODUCTION_METER_MN]))  # fmt: skip
    # The treatment circuit sends only at 10:01: the axis still has 10:00.
    sent.append(frame(TREATMENT_METER_MN, "2011", DAY + timedelta(hours=10, minutes=1),
                      [("e10001-Rtd", "3.5"), ("e10001-Flag", "N")],
                      pw=pw[TREATMENT_METER_MN]))  # fmt: skip
    # A frame with the wrong password: refused, but archived on the point's chain.
    sent.append(frame(MN, "2011", DAY + timedelta(hours=11), [(f"{SO2}-Rtd", "99.0")],
                      pw="000000"))  # fmt: skip
    return sent


def feed(engine: Engine, frames: list[bytes]) -> None:
    """Through the gateway's decoder and admission into the archive, as a
    connection's read would."""
    devices = load_devices(engine)
    decoder = Decoder(connection_options())
    items = decoder.feed(b"".join(frames)) + decoder.close()
    received = datetime.now(UTC)
    records = [admit(item, devices, peer="127.0.0.1:50000", received_at=received).record
               for item in items]  # fmt: skip
    Archive(engine).write_batch(records)


@dataclass
class City:
    base_url: str
    engine: Engine


@pytest.fixture
def city(base_url: str, engine: Engine) -> City:
    feed(engine, uploads(engine))
    return City(base_url, engine)


def get(client: httpx.Client, path: str, **params: Any) -> tuple[int, Any]:
    response = client.get(path, params=params)
    return response.status_code, response.json()


def test_hourly_values_come_back_raw_and_o2_corrected(city: City) -> None:
    officer, _ = session(city.base_url, f"county-{COUNTY}")
    status, body = get(officer, f"/api/v1/points/{MN}/measurements", cn="2061", pollutant=SO2,
                       since="2026-11-29T00:00:00", until="2026-11-30T00:00:00")  # fmt: skip
    assert status == 200, body
    assert (body["since"], body["until"]) == ("2026-11-29T00:00:00+08:00",
                                              "2026-11-30T00:00:00+08:00")  # fmt: skip
    assert body["total"] == 24
    (so2,) = body["pollutants"]
    assert (so2["code"], so2["name_zh"], so2["unit"]) == (SO2, "二氧化硫", "mg/m³")
    assert so2["limits"][0] == {"value": 35.0, "lower": None, "period": "1h", "unit": "mg/m³",
                                "basis": "超低排放（燃煤电厂）",
                                "reference_o2": 6.0}  # fmt: skip
    first = body["items"][0]
    assert first["data_time"] == "2026-11-29T00:00:00+08:00"
    assert first["source"] == "uploaded"
    assert set(first["values"]) == {SO2}  # only the pollutant asked for
    for hour, item in enumerate(body["items"]):
        values = item["values"][SO2]
        assert values["avg"] == hourly_so2(hour)
        # 20 + h mg/m³ at 9 % O2, at the reference 6 %: × (21 − 6) / (21 − 9) = × 1.25.
        assert values["corrected"] == pytest.approx(hourly_so2(hour) * 1.25)
        assert values["flag"] == ("D" if hour == INVALID_HOUR else "N")
        assert values["valid"] is (hour != INVALID_HOUR)
    everything = get(officer, f"/api/v1/points/{MN}/measurements", cn="2061",
                     since="2026-11-29T00:00:00", until="2026-11-29T01:00:00")[1]  # fmt: skip
    (hour_zero,) = everything["items"]
    assert set(hour_zero["values"]) == {SO2, O2, FLOW}
    assert hour_zero["values"][O2]["corrected"] is None  # O2 has no limit to be corrected for
    officer.close()


def test_measurements_download_as_csv(city: City) -> None:
    boss, _ = session(city.base_url, "supervisor")
    response = boss.get(f"/api/v1/points/{MN}/measurements",
                        params={"cn": "2061", "pollutant": SO2, "since": "2026-11-29T00:00:00",
                                "until": "2026-11-29T02:00:00", "format": "csv"})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"{MN}-2061-2026-11-29.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # for spreadsheets set to Chinese
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["data_time"], r["pollutant"], r["avg"], r["flag"]) for r in rows] == [
        ("2026-11-29T00:00:00+08:00", SO2, "20.0", "N"),
        ("2026-11-29T01:00:00+08:00", SO2, "21.0", "N"),
    ]
    assert float(rows[1]["corrected"]) == pytest.approx(21.0 * 1.25)
    boss.close()


def test_old_data_is_shown_against_the_limit_of_its_time(city: City) -> None:
    # The permit tightened on 1 December 2026: 20 mg/m³ SO2 from then on.
    with city.engine.begin() as connection:
        limit = connection.execute(
            select(PermitLimit).where(PermitLimit.outlet_id == 1, PermitLimit.pollutant == SO2)
        ).one()
        connection.execute(insert(PermitLimit).values(
            enterprise_id=1, outlet_id=1, pollutant=SO2, limit_value=20.0, unit="mg/m³",
            reference_o2=6.0, basis="排污许可证（2026年12月变更）",
            valid_from=datetime(2026, 12, 1), valid_to=None))  # fmt: skip
        connection.execute(update(PermitLimit).where(PermitLimit.id == limit.id)
                           .values(valid_to=datetime(2026, 12, 1)))  # fmt: skip
    boss, _ = session(city.base_url, "supervisor")
    body = get(boss, f"/api/v1/points/{MN}/measurements", cn="2061", pollutant=SO2,
               since="2026-11-29T00:00:00", until="2026-11-30T00:00:00")[1]  # fmt: skip
    assert [limit["value"] for limit in body["pollutants"][0]["limits"]] == [35.0]
    point = get(boss, f"/api/v1/points/{MN}")[1]
    so2 = next(f for f in point["factors"] if f["code"] == SO2)
    assert [limit["value"] for limit in so2["limits"]] == [20.0]  # in force now
    boss.close()


def test_real_time_values_in_china_standard_time_with_flags(city: City) -> None:
    owner, _ = session(city.base_url, "enterprise-1")
    # 02:00 UTC is 10:00 in China Standard Time.
    status, body = get(owner, f"/api/v1/points/{MN}/measurements", cn="2011", pollutant=SO2,
                       since="2026-11-29T02:00:00Z", until="2026-11-29T02:05:00Z")  # fmt: skip
    assert status == 200, body
    times = [item["data_time"] for item in body["items"]]
    assert times == ["2026-11-29T10:00:00+08:00", "2026-11-29T10:00:30+08:00",
                     "2026-11-29T10:01:00+08:00", "2026-11-29T10:01:30+08:00"]  # fmt: skip
    values = [item["values"][SO2] for item in body["items"]]
    assert [v["rtd"] for v in values] == [12.0, 12.5, 13.0, 14.0]
    assert [v["flag"] for v in values] == ["N", "N", "M", "N"]
    assert [v["valid"] for v in values] == [True, True, False, True]
    assert values[0]["corrected"] == pytest.approx(15.0)  # 12 × 15 / 12
    assert values[3]["corrected"] is None  # 19.5 % O2: at or above the ceiling
    # The refused frame (wrong PW) stored no value at 11:00.
    later = get(owner, f"/api/v1/points/{MN}/measurements", cn="2011",
                since="2026-11-29T10:30:00", until="2026-11-29T12:00:00")[1]  # fmt: skip
    assert later["items"] == []
    owner.close()


def test_days_uploaded_or_computed_from_valid_hours(city: City) -> None:
    boss, _ = session(city.base_url, "supervisor")
    status, body = get(boss, f"/api/v1/points/{MN}/measurements", cn="2031", pollutant=SO2,
                       since="2026-11-28T00:00:00", until="2026-11-30T00:00:00")  # fmt: skip
    assert status == 200, body
    uploaded, computed = body["items"]
    assert (uploaded["data_time"], uploaded["source"]) == ("2026-11-28T00:00:00+08:00",
                                                           "uploaded")  # fmt: skip
    day = uploaded["values"][SO2]
    assert (day["avg"], day["min"], day["max"], day["cou"]) == (30.0, 25.0, 35.0, 950.0)
    assert day["corrected"] == pytest.approx(30.0 * 15 / 13)  # at 8 % O2
    assert (computed["data_time"], computed["source"]) == ("2026-11-29T00:00:00+08:00",
                                                           "computed")  # fmt: skip
    day = computed["values"][SO2]
    valid = [hourly_so2(h) for h in range(24) if h != INVALID_HOUR]
    assert (day["valid_hours"], day["hours"], day["valid"]) == (23, 24, True)
    assert day["avg"] == pytest.approx(sum(valid) / 23)  # 716 / 23
    assert day["corrected"] == pytest.approx(sum(valid) / 23 * 1.25)
    assert (day["min"], day["max"]) == (20.0, 43.0)
    # 100 m³/s for an hour is 360,000 m³; (20 + h) mg/m³ of it, over the valid hours.
    assert day["emission_kg"] == pytest.approx(sum(valid) * 360_000 * 1e-6)
    # A window cut inside a day still answers for whole days.
    cut = get(boss, f"/api/v1/points/{MN}/measurements", cn="2031", pollutant=SO2,
              since="2026-11-29T06:00:00", until="2026-11-29T07:00:00")[1]  # fmt: skip
    assert [item["data_time"] for item in cut["items"]] == ["2026-11-29T00:00:00+08:00"]
    boss.close()


def test_only_the_days_without_a_daily_upload_are_read_from_hours() -> None:
    days = [datetime(2026, 11, d) for d in range(1, 8)]
    uploaded = {days[1], days[2], days[5]}
    assert missing_days(days[0], days[6], uploaded) == [
        (days[0], days[1]), (days[3], days[5])
    ]  # fmt: skip
    assert missing_days(days[0], days[3], {days[0], days[1], days[2]}) == []


def test_without_a_window_the_newest_data_is_shown(city: City) -> None:
    boss, _ = session(city.base_url, "supervisor")
    body = get(boss, f"/api/v1/points/{MN}/measurements", cn="2061", pollutant=SO2)[1]
    # The default week ending at the newest hour, 23:00 on the 29th.
    assert body["items"][-1]["data_time"] == "2026-11-29T23:00:00+08:00"
    assert body["total"] == 24
    boss.close()


def test_windows_are_bounded_and_bad_values_are_422(city: City) -> None:
    boss, _ = session(city.base_url, "supervisor")
    path = f"/api/v1/points/{MN}/measurements"
    for cn, since, until in (
        ("2011", "2026-11-28T00:00:00", "2026-11-29T00:00:01"),  # over a day
        ("2051", "2026-11-20T00:00:00", "2026-11-29T00:00:00"),  # over 7 days
        ("2061", "2026-10-01T00:00:00", "2026-11-29T00:00:00"),  # over 31 days
        ("2031", "2025-01-01T00:00:00", "2026-11-29T00:00:00"),  # over 366 days
        ("2061", "2026-11-29T00:00:00", "2026-11-28T00:00:00"),  # backwards
    ):
        status, body = get(boss, path, cn=cn, since=since, until=until)
        assert (status, body["error"]["code"]) == (422, "bad_window"), (cn, since, until)
        assert body["error"]["message_zh"]
    for params in ({"cn": "9999"}, {"since": "yesterday"}, {"cn": "2061", "until": "x"}):
        status, body = get(boss, path, **params)
        assert (status, body["error"]["code"]) == (422, "invalid_request"), params
    status, body = get(boss, f"/api/v1/points/{MN}/frames", since="2026-10-01T00:00:00",
                       until="2026-11-29T00:00:00")  # fmt: skip
    assert (status, body["error"]["code"]) == (422, "bad_window")
    status, body = get(boss, "/api/v1/enterprises/1/electricity", since="2026-10-01T00:00:00",
                       until="2026-11-29T00:00:00")  # fmt: skip
    assert (status, body["error"]["code"]) == (422, "bad_window")
    assert get(boss, "/api/v1/points", limit="0")[0] == 422
    assert get(boss, f"/api/v1/points/{MN}/frames", verdict="maybe")[0] == 422
    boss.close()


def test_hostile_values_are_422_never_500(city: City) -> None:
    boss, _ = session(city.base_url, "supervisor")
    huge = str(10**30)
    for path, params in (
        (f"/api/v1/points/{MN}/measurements", {"since": "9999-12-31T23:59:59"}),
        (f"/api/v1/points/{MN}/measurements", {"until": "0001-01-01T00:00:00"}),
        (f"/api/v1/points/{MN}/measurements", {"cn": "2031", "since": "9999-12-31T00:00:00"}),
        (f"/api/v1/points/{MN}/frames", {"until": "0001-01-01T00:30:00+08:00"}),
        (f"/api/v1/points/{MN}/frames", {"frame": huge}),
        (f"/api/v1/points/{MN}/frames", {"offset": huge}),
        ("/api/v1/points", {"enterprise_id": huge}),
        ("/api/v1/points", {"offset": huge}),
        (f"/api/v1/enterprises/{huge}/electricity", {}),
        ("/api/v1/enterprises/1/electricity", {"since": "1999-12-31T00:00:00"}),
        # PostgreSQL's text holds no NUL: refused before any query.
        (f"/api/v1/points/{MN}%00", {}),
        (f"/api/v1/points/{MN}%00/measurements", {}),
        (f"/api/v1/points/{MN}%00/frames", {}),
        (f"/api/v1/points/{MN}/measurements", {"pollutant": "a21026\x00"}),
        ("/api/v1/points", {"county": "\x00", "q": "\x00"}),
    ):
        status, body = get(boss, path, **params)
        assert status == 422, (path, params, body)
        assert body["error"]["code"] in {"bad_window", "invalid_request"}
    browser = httpx.Client(base_url=city.base_url, cookies=boss.cookies)
    for path in (f"/points/{MN}?since=9999-12-31T23:59", f"/enterprises/{huge}",
                 f"/enterprises?offset={'9' * 5000}", "/enterprises?county=%00&q=%00",
                 f"/points/{MN}%00", f"/points/{MN}?pollutant=%00&since=%00"):  # fmt: skip
        assert browser.get(path).status_code in {200, 404, 422}, path
    browser.close()
    boss.close()


def test_points_in_scope_with_their_factors_limits_and_status(city: City) -> None:
    owner, _ = session(city.base_url, "enterprise-1")
    status, body = get(owner, "/api/v1/points")
    assert status == 200
    assert {item["mn"] for item in body["items"]} == {
        MN,
        PRODUCTION_METER_MN,
        TREATMENT_METER_MN,
        "371525000000000103E00000",
    }
    assert body["total"] == 4 and (body["limit"], body["offset"]) == (50, 0)
    outlets = get(owner, "/api/v1/points", kind="outlet")[1]["items"]
    assert [item["mn"] for item in outlets] == [MN]
    meters = get(owner, "/api/v1/points", kind="meter")[1]["items"]
    assert {m["meter"]["kind"] for m in meters} == {"production", "treatment"}
    status, point = get(owner, f"/api/v1/points/{MN}")
    assert status == 200
    assert point["enterprise"]["id"] == 1 and point["outlet"]["code"] == "DA001"
    assert point["status"] == "online"  # its frames were received just now
    # The newest accepted frame's DataTime (the refused one does not count).
    assert point["last_data_time"] == "2026-11-29T10:01:30+08:00"
    factors = {f["code"]: f for f in point["factors"]}
    assert factors[SO2]["name_en"] == "sulphur dioxide"
    assert factors[SO2]["limits"][0]["value"] == 35.0
    assert factors[O2]["limits"] == [] and factors[O2]["unit"] == "%"
    owner.close()

    officer, _ = session(city.base_url, f"county-{COUNTY}")
    listing = get(officer, "/api/v1/points", limit="500")[1]
    with city.engine.connect() as connection:
        in_county = connection.execute(
            select(func.count()).select_from(MonitoringPoint)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(Enterprise.county_code == COUNTY)
        ).scalar_one()  # fmt: skip
    assert listing["total"] == in_county > 4
    assert {item["enterprise"]["county"] for item in listing["items"]} == {COUNTY}
    page = get(officer, "/api/v1/points", limit="2", offset="2")[1]
    assert [item["mn"] for item in page["items"]] == [i["mn"] for i in listing["items"][2:4]]
    by_pollutant = get(officer, "/api/v1/points", pollutant=SO2, enterprise_id="1")[1]
    assert [item["mn"] for item in by_pollutant["items"]] == [MN]
    assert get(officer, "/api/v1/points", county=OTHER_COUNTY)[1]["total"] == 0
    by_name = get(officer, "/api/v1/points", q="泰和示例热电", kind="outlet")[1]["items"]
    assert [item["mn"] for item in by_name] == [MN]
    assert get(officer, "/api/v1/points", q="0101E")[1]["items"][0]["mn"] == PRODUCTION_METER_MN
    assert get(officer, "/api/v1/points", q="%")[1]["total"] == 0  # no wildcard
    officer.close()


def test_out_of_scope_answers_like_unknown(city: City) -> None:
    assert httpx.get(f"{city.base_url}/api/v1/points/{MN}").status_code == 401
    elsewhere, _ = session(city.base_url, f"county-{OTHER_COUNTY}")
    owner, _ = session(city.base_url, "enterprise-1")
    unknown = get(elsewhere, "/api/v1/points/000000000000000000000000")
    for client, mn in ((elsewhere, MN), (owner, OTHER_MN)):
        for suffix in ("", "/measurements", "/frames"):
            status, body = get(client, f"/api/v1/points/{mn}{suffix}")
            assert status == 404, (mn, suffix)
            assert body["error"]["code"] == unknown[1]["error"]["code"] == "unknown_point"
    assert get(owner, "/api/v1/enterprises/2/electricity")[0] == 404
    assert get(elsewhere, "/api/v1/enterprises/1/electricity")[0] == 404
    assert get(owner, "/api/v1/enterprises/99999/electricity")[1]["error"]["code"] == (
        "unknown_enterprise"
    )
    assert MN not in {i["mn"] for i in get(elsewhere, "/api/v1/points", limit="500")[1]["items"]}
    elsewhere.close()
    owner.close()


def test_raw_frames_as_evidence(city: City) -> None:
    enforcer, _ = session(city.base_url, "enforcer")
    status, body = get(enforcer, f"/api/v1/points/{MN}/frames", limit="500")
    assert status == 200, body
    assert body["total"] == 1 + 24 + 4 + 1
    newest = body["items"][0]  # newest first
    assert (newest["verdict"], newest["error_code"]) == ("rejected", "wrong_password")
    assert newest["warnings"][0]["code"] == "wrong_password"
    accepted = [item for item in body["items"] if item["verdict"] == "accepted"]
    hour_zero = next(i for i in accepted if i["data_time"] == "2026-11-29T00:00:00+08:00")
    assert hour_zero["cn"] == "2061" and hour_zero["encoding"] == "ascii"
    assert hour_zero["text"].startswith("##") and f"{SO2}-Avg=20.0" in hour_zero["text"]
    assert hour_zero["received_at"].endswith("+08:00")
    oldest = get(enforcer, f"/api/v1/points/{MN}/frames", order="asc", limit="1",
                 cn="2031")[1]  # fmt: skip
    assert oldest["total"] == 1 and oldest["items"][0]["seq"] == 1
    refused = get(enforcer, f"/api/v1/points/{MN}/frames", verdict="rejected")[1]
    assert refused["total"] == 1
    # The frames a finding cites, by id, wherever they are in time.
    cited = [hour_zero["id"], oldest["items"][0]["id"]]
    response = enforcer.get(f"/api/v1/points/{MN}/frames", params={"frame": cited})
    assert sorted(item["id"] for item in response.json()["items"]) == sorted(cited)
    enforcer.close()


def test_device_passwords_are_masked_unless_an_administrator_asks(
    city: City, engine: Engine
) -> None:
    enforcer, _ = session(city.base_url, "enforcer")
    admin, _ = session(city.base_url, "admin")
    try:
        with engine.connect() as connection:
            pw = connection.execute(
                select(MonitoringPoint.pw).where(MonitoringPoint.mn == MN)
            ).scalar_one()
        shown = get(enforcer, f"/api/v1/points/{MN}/frames", limit="500")[1]["items"]
        accepted = [item for item in shown if item["verdict"] == "accepted"]
        assert accepted and all(item["passwords_masked"] for item in shown)
        for item in accepted:
            assert f"PW={'*' * len(pw)};" in item["text"] and f"PW={pw}" not in item["text"]
            assert f"PW={pw}".encode() not in base64.b64decode(item["raw_base64"])
        assert enforcer.get(f"/api/v1/points/{MN}/frames",
                            params={"reveal_passwords": "true"}).status_code == 403  # fmt: skip
        revealed = get(admin, f"/api/v1/points/{MN}/frames", limit="1", cn="2061",
                       reveal_passwords="true")[1]["items"][0]  # fmt: skip
        assert f"PW={pw};" in revealed["text"] and not revealed["passwords_masked"]
        with engine.connect() as connection:
            audited = connection.execute(
                select(AuditEntry.actor, AuditEntry.entity_id).where(
                    AuditEntry.action == "frames.reveal_passwords"
                )
            ).all()
        assert [tuple(row) for row in audited] == [("admin", MN)]
    finally:
        enforcer.close()
        admin.close()


def test_frames_are_read_as_ascii_utf8_or_gbk() -> None:
    assert frame_text(b"##0010QN=1") == ("##0010QN=1", "ascii")
    assert frame_text("##监测点".encode()) == ("##监测点", "utf-8")
    assert frame_text("##监测点".encode("gbk")) == ("##监测点", "gbk")
    text, encoding = frame_text(b"##\xff\xfe")
    assert encoding == "gbk" and text.startswith("##") and "\ufffd" in text


def test_electricity_of_production_and_treatment_on_one_axis(city: City) -> None:
    owner, _ = session(city.base_url, "enterprise-1")
    status, body = get(owner, "/api/v1/enterprises/1/electricity",
                       since="2026-11-29T10:00:00", until="2026-11-29T11:00:00")  # fmt: skip
    assert status == 200, body
    kinds = {meter["id"]: meter["kind"] for meter in body["meters"]}
    assert kinds == {1: "production", 2: "treatment", 3: "treatment"}
    assert [item["time"] for item in body["items"]] == ["2026-11-29T10:00:00+08:00",
                                                        "2026-11-29T10:01:00+08:00"]  # fmt: skip
    first, second = body["items"]
    assert set(first["meters"]) == {"1"}
    assert first["meters"]["1"]["power_kw"] == 800.0
    assert first["meters"]["1"]["energy_kwh"] == 5000.0
    assert second["meters"]["2"] == {"power_kw": 3.5, "energy_kwh": None, "current_a": None,
                                     "source": "hj212"}  # fmt: skip
    latest = get(owner, "/api/v1/enterprises/1/electricity")[1]
    assert latest["total"] == 2  # the last day of readings, without a window
    owner.close()
