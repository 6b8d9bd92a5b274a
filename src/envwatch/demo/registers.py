"""The demo city's bottom-line registers, imported from CSV as a bureau would
(``registry/register_entries.py``): hazardous-waste producers and licensed
disposal units with last year's and this year's transfer manifests (some of
them failing the checks: a receiver unlicensed for the category, one over its
capacity, a producer that never transferred, one far above its declaration),
medical institutions, chemical parks with their enterprises, heavy-metal
enterprises. Everything fictional ("示例")."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from envwatch.audit.log import Actor, record
from envwatch.registry.register_entries import import_register
from envwatch.store.schema import County, Enterprise

ACTOR = Actor("admin", "city_admin", "demo")


def _csv(header: list[str], rows: Sequence[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([["" if cell is None else str(cell) for cell in row] for row in rows])
    return out.getvalue().encode("utf-8")


def _disposer_code(number: int) -> str:
    return f"91371500MA{number:08d}"


def register_files(engine: Engine, today: date) -> list[tuple[str, str, bytes]]:
    """The demo's files in import order: (kind, file name, content)."""
    with engine.connect() as connection:
        counties = connection.execute(
            select(County.code, County.name_zh, County.longitude, County.latitude)
            .where(County.kind != "zone").order_by(County.code)
        ).all()  # fmt: skip
        firms = connection.execute(
            select(Enterprise.credit_code, Enterprise.name, Enterprise.county_code)
            .order_by(Enterprise.id).limit(12)
        ).all()  # fmt: skip
    year = today.year - 1
    last = date(year, 1, 1)

    def county(n: int) -> Any:
        return counties[n % len(counties)]

    # Licensed disposal units (危废经营单位): categories, capacity [t/a].
    disposers = [
        ("示例环保处置中心", "HW08,HW17,HW49", 500, 0),
        ("示例医疗废物处置站", "HW01", 100, 1),
        ("示例废酸再生公司", "HW34,HW35", 50, 2),
    ]
    units = [
        [name, _disposer_code(n + 1), "经营单位", county(where).code,
         f"{county(where).name_zh}环保路{n + 1}号",
         round((county(where).longitude or 115.98) + 0.05, 4),
         round((county(where).latitude or 36.45) - 0.03, 4),
         f"鲁危证{15 + n:02d}号", date(today.year + 2, 6, 30).isoformat(), cats, capacity, ""]
        for n, (name, cats, capacity, where) in enumerate(disposers)
    ]  # fmt: skip
    # Producers (产生单位): the first enterprises, with their declarations [t/a].
    declared = ["HW08:20,HW49:5", "HW17:40,HW34:10", "HW08:30", "HW34:10", "HW49:12"]
    producers = firms[: len(declared)]
    units += [
        [firm.name, firm.credit_code, "产生单位", firm.county_code, "", None, None, "", "", "",
         "", amounts]
        for firm, amounts in zip(producers, declared, strict=False)
    ]  # fmt: skip
    unit_header = [
        "单位名称",
        "统一社会信用代码",
        "类型",
        "区县代码",
        "地址",
        "经度",
        "纬度",
        "许可证编号",
        "许可证有效期至",
        "许可类别",
        "许可年经营规模",
        "年申报产生量",
    ]
    d1, _, d3 = (_disposer_code(n) for n in (1, 2, 3))
    recent = today - timedelta(days=30)
    # Manifests (转移联单): (producer, receiver, HW code, t, day).
    moves = [
        (0, d1, "HW08", 18.0, last + timedelta(days=120)),
        (0, d1, "HW49", 5.0, last + timedelta(days=200)),
        (0, d1, "HW08", 9.5, recent),
        (1, d1, "HW17", 38.0, last + timedelta(days=150)),
        (1, d1, "HW34", 8.0, last + timedelta(days=160)),  # D1 holds no HW34 licence
        (1, d1, "HW17", 12.0, recent),
        (3, d3, "HW34", 30.0, last + timedelta(days=90)),  # 60 t of 10 declared, D3 over 50 t/a
        (3, d3, "HW34", 30.0, last + timedelta(days=250)),
        (4, "91371500MA99999999", "HW49", 11.0, last + timedelta(days=300)),  # unlicensed
        (4, d1, "HW49", 4.0, recent),
    ]  # producer 2 declares HW08 and never transfers it
    transfers = [
        [f"{year}3715{n + 1:06d}" if day.year == year else f"{today.year}3715{n + 1:06d}",
         producers[p].credit_code, receiver, "", code, quantity, day.isoformat(),
         "示例危货运输公司"]
        for n, (p, receiver, code, quantity, day) in enumerate(moves) if p < len(producers)
    ]  # fmt: skip
    transfer_header = [
        "联单编号",
        "产生单位信用代码",
        "接收单位信用代码",
        "接收单位名称",
        "废物类别",
        "数量",
        "转移日期",
        "运输单位",
    ]
    medical = [
        [f"{county(n).name_zh}示例人民医院", county(n).code, grade, beds, facility, method,
         online, _disposer_code(2), f"YF{year}-{n + 1:03d}", until,
         round((county(n).longitude or 115.98) - 0.02, 4),
         round((county(n).latitude or 36.45) + 0.02, 4)]
        for n, (grade, beds, facility, method, online, until) in enumerate([
            ("三级", 1200, "是", "二氧化氯", "是", date(today.year + 1, 12, 31).isoformat()),
            ("二级", 400, "是", "液氯/次氯酸钠", "否", date(today.year, 1, 31).isoformat()),
            ("一级", 60, "否", "无", "否", ""),
        ])
    ]  # fmt: skip
    medical_header = [
        "机构名称",
        "区县代码",
        "等级",
        "床位数",
        "污水处理设施",
        "消毒工艺",
        "在线监测",
        "医废处置单位信用代码",
        "医废处置合同编号",
        "合同有效期至",
        "经度",
        "纬度",
    ]
    parks = []
    for n in range(2):
        c = county(3 + n)
        lon, lat = (c.longitude or 115.98) + 0.08, (c.latitude or 36.45) + 0.06
        corners = ((-0.03, -0.02), (0.03, -0.02), (0.035, 0.02), (-0.025, 0.025))
        ring = ";".join(f"{lon + dx:.4f} {lat + dy:.4f}" for dx, dy in corners)
        parks.append([f"{c.name_zh}示例化工园区", c.code, "省级认定" if n == 0 else "市级",
                      round(lon, 4), round(lat, 4), ring, 8.5 + n])  # fmt: skip
    park_header = ["园区名称", "区县代码", "认定级别", "中心经度", "中心纬度", "边界", "面积"]
    chemical = [
        [firms[5].credit_code, "化工企业", parks[0][0], "硫酸:120,盐酸:40"],
        [firms[6].credit_code, "化工企业", parks[1][0], "硝酸:30"],
        [firms[7].credit_code, "涉酸企业", "", "盐酸:15,混酸:5"],
    ] if len(firms) >= 8 else []  # fmt: skip
    metals = [
        [firms[n].credit_code, symbols, industry, flag]
        for n, symbols, industry, flag in (
            (8, "Pb,Cd", "铅蓄电池制造", "是"), (9, "Cr", "电镀", "是"),
            (10, "As,Hg", "有色金属冶炼", "否"))
        if n < len(firms)
    ]  # fmt: skip
    return [
        ("hazardous_waste_unit", "危废单位.csv", _csv(unit_header, units)),
        ("waste_transfer", "转移联单.csv", _csv(transfer_header, transfers)),
        ("medical_institution", "医疗机构.csv", _csv(medical_header, medical)),
        ("chemical_park", "化工园区.csv", _csv(park_header, parks)),
        ("chemical_enterprise", "化工涉酸企业.csv",
         _csv(["统一社会信用代码", "类型", "所在园区", "用酸及贮存量"], chemical)),
        ("heavy_metal_enterprise", "涉重金属企业.csv",
         _csv(["统一社会信用代码", "重金属", "行业", "重点监管"], metals)),
    ]  # fmt: skip


def seed_registers(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """Import the demo's register files, each entry audited; counts by kind."""
    today = (now or datetime.now(UTC)).date()
    counts: dict[str, int] = {}
    for kind, name, content in register_files(engine, today):
        with engine.begin() as connection:
            ids, errors = import_register(connection, kind, name, content)
            if errors:
                raise ValueError(f"the demo's {name} does not import: {errors[:3]}")
            for key in ids:
                record(connection, ACTOR, f"registry.{kind}.import", kind, key,
                       after={"file": name})  # fmt: skip
        counts[kind] = len(ids)
    return counts
