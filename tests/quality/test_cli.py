"""The ``envwatch quality`` contract: JSON on stdout and exit 0, or a JSON
error and exit 1 (real processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from envwatch.demo.quality_profiles import quality_demo
from envwatch.demo.seed import seed_demo
from tests.quality.test_targets import month_of_days


def envwatch(*args: str) -> tuple[int, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "envwatch", "quality", *args],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout)


def test_iaqi_by_edition() -> None:
    expected = {"pollutant": "PM2_5", "window": "24h", "value": 80, "edition": "2012", "iaqi": 107}
    assert envwatch(
        "iaqi", "--pollutant", "PM2_5", "--window", "24h", "--value", "80", "--date", "2026-02-28"
    ) == (0, expected)  # fmt: skip
    code, document = envwatch("iaqi", "--pollutant", "SO2", "--window", "1h", "--value", "900",
                              "--date", "2026-03-01")  # fmt: skip
    assert (code, document["edition"], document["iaqi"]) == (0, "2026", 200)
    code, error = envwatch("iaqi", "--pollutant", "PM25", "--window", "24h", "--value", "80")
    assert code == 1 and error["error"]["code"] == "unknown_pollutant"


def test_day_from_a_csv_of_hours(tmp_path: Path) -> None:
    lines = ["hour,PM2_5,PM10,SO2,NO2,CO,O3"]
    for hour in range(24):
        o3 = 170 if 10 <= hour < 18 else 60
        pm = "" if hour == 3 else "80"  # one missing hour: 23 remain
        lines.append(f"{hour},{pm},120,9,35,0.9,{o3}")
    source = tmp_path / "day.csv"
    source.write_text("\n".join(lines) + "\n")
    code, old = envwatch("day", "--input", str(source), "--date", "2026-02-10")
    assert code == 0
    assert (old["edition"], old["aqi"], old["level"], old["category"]) == (
        "2012",
        110,
        3,
        "轻度污染",
    )
    assert old["primary"] == ["O3_8h"]
    assert old["iaqi"]["PM2_5"] == 107 and old["iaqi"]["O3_8h"] == 110
    assert old["means"]["PM2_5"] == 80 and old["means"]["O3_8h"] == 170
    assert "O3_1h" in old["means"]  # the 2012 daily report's seventh indicator
    assert all(old["valid"].values())
    code, new = envwatch("day", "--input", str(source), "--date", "2026-03-10")
    assert (new["edition"], new["aqi"], new["primary"]) == ("2026", 119, ["PM2_5"])
    assert "O3_1h" not in new["means"]
    # Too few hours: the mean is invalid, the AQI NA in 2026 when the rest is ≤ 100.
    sparse = tmp_path / "sparse.csv"
    sparse.write_text("hour,PM2_5,PM10,SO2,NO2,CO,O3\n" + "".join(
        f"{h},20,40,5,20,0.5,{'' if h > 14 else 50}\n" for h in range(24)))  # fmt: skip
    code, na = envwatch("day", "--input", str(sparse), "--date", "2026-05-01")
    assert (code, na["aqi"], na["valid"]["O3_8h"], na["means"]["O3_8h"]) == (0, None, False, None)
    bad = tmp_path / "bad.csv"
    bad.write_text("hour,PM2_5,PM10,SO2,NO2,CO,O3\n25,1,1,1,1,1,1\n")
    code, error = envwatch("day", "--input", str(bad), "--date", "2026-05-01")
    assert code == 1 and error["error"]["code"] == "bad_hour"


def test_water_class(tmp_path: Path) -> None:
    source = tmp_path / "section.csv"
    source.write_text("item,value\npH,7.8\nDO,4.2\nCODMn,5.5\nNH3_N,1.6\nTP,0.18\n")
    code, document = envwatch("water-class", "--input", str(source))
    assert (code, document) == (
        0,
        {"class": "V", "worst": [{"item": "NH3_N", "value": 1.6, "class": "V"}]},
    )
    lake = tmp_path / "lake.csv"
    lake.write_text("item,value\nTP,0.05\nTN,0.4\n")
    assert envwatch("water-class", "--input", str(lake), "--lake")[1]["class"] == "III"
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("item,value\nHg,0.001\n")
    code, error = envwatch("water-class", "--input", str(unknown))
    assert code == 1 and error["error"]["code"] == "unknown_water_item"


def test_rank_reads_the_stored_days(engine: Engine, database_url: str) -> None:
    seed_demo(engine)
    demo = quality_demo()
    # Two counties' stations through November of both years, one cleaner.
    clean = [s.code for s in demo.stations if s.county == "371526"]
    dirty = [s.code for s in demo.stations if s.county == "371503"]
    for year, factor in ((2025, 1.0), (2026, 0.9)):
        month_of_days(engine, clean, year, 11, pm2_5=40.0 * factor, frame=1)
        month_of_days(engine, dirty, year, 11, pm2_5=70.0 * factor, frame=1)
    code, ranked = envwatch("rank", "--db", database_url, "--month", "2026-11", "--json")
    assert code == 0
    keys = {"county", "composite_index", "pm2_5", "o3_8h_p90", "good_day_ratio", "rank",
            "yoy_change"}  # fmt: skip
    assert all(set(row) == keys for row in ranked)
    by_county = {row["county"]: row for row in ranked}
    assert (by_county["371526"]["rank"], by_county["371503"]["rank"]) == (1, 2)
    assert by_county["371526"]["pm2_5"] == 36 and by_county["371526"]["good_day_ratio"] == 100
    before = 40 / 35 + 1 + 8 / 60 + 30 / 40 + 0.8 / 4 + 90 / 160
    after = 36 / 35 + 1 + 8 / 60 + 30 / 40 + 0.8 / 4 + 90 / 160
    assert by_county["371526"]["yoy_change"] == round(after / before - 1, 4)
    assert by_county["371581"]["rank"] is None  # no data: listed, unranked
    code, error = envwatch("rank", "--db", database_url, "--month", "2026-13", "--json")
    assert code == 1 and error["error"]["code"] == "bad_month"
