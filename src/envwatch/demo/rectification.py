"""The demo city's rectification (集中整改): an inspection feedback list of
fictional problems in the demo counties, imported as a real list would be
(``rectification/importing.py``), and taken through the workflow by the demo
users so the pages show problems in every state: assigned, rectifying,
applied, checked, signed, in notice, closed, reopened, and overdue ones; and
hotline complaints around three enterprises (a hotspot), one replied to and
one made a problem; contaminated plots in several statuses, with their history;
and the bottom line's sources: a satellite fire-point export (points in
several counties, one outside the city) and an inspection campaign whose
failed items became problems."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from sqlalchemy import Engine, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.demo.registers import seed_registers
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.rectification.campaign_desk import create_campaign, record_results
from envwatch.rectification.campaigns import CampaignSpec
from envwatch.rectification.complaint_desk import reply, take_complaints, to_problem
from envwatch.rectification.desk import RectificationDesk
from envwatch.rectification.evidence import Upload
from envwatch.rectification.fire_desk import import_fire_points
from envwatch.rectification.fires import FIRE_COLUMNS
from envwatch.rectification.importing import COLUMNS, import_problems
from envwatch.store.schema import ContaminatedPlot, County, Enterprise, RectificationProblem
from envwatch.web.mapsvg import COUNTIES_FILE

CENTRAL = "第三轮中央生态环境保护督察反馈问题（2026年）"
PROVINCIAL = "第二轮省级生态环境保护督察交办问题（2026年）"
# (source, batch, title, category, measures, with an enterprise, days to the deadline)
PROBLEMS = (
    ("中央生态环境保护督察", CENTRAL, "热电企业脱硫设施运行不正常，二氧化硫排放浓度偏高", "大气",
     "完成脱硫系统改造，安装备用循环泵，加密在线监测比对", True, 60),
    ("中央生态环境保护督察", CENTRAL, "工业园区污水处理厂超负荷运行，出水氨氮超标", "水",
     "扩建二期工程，实施雨污分流改造", True, -20),
    ("中央生态环境保护督察", CENTRAL, "化工企业危险废物贮存不规范，台账不全", "危险废物",
     "规范建设危废贮存库，完善转移联单和台账", True, 30),
    ("中央生态环境保护督察", CENTRAL, "城区建筑工地扬尘管控不到位", "大气",
     "落实六个百分百，安装视频监控和在线监测", False, 90),
    ("省生态环境保护督察", PROVINCIAL, "铸造企业无组织排放，周边群众反映异味", "恶臭",
     "密闭车间，建设集气收集和处理设施", True, -5),
    ("省生态环境保护督察", PROVINCIAL, "河道两岸垃圾堆放，影响水体", "固体废物",
     "清理垃圾，建立河长巡查长效机制", False, 45),
    ("省生态环境保护督察", PROVINCIAL, "夜间施工噪声扰民", "噪声",
     "限定施工时段，加强夜间巡查", False, 15),
    ("省生态环境保护督察", PROVINCIAL, "畜禽养殖场粪污处理设施不完善", "水",
     "配套建设粪污处理设施，实施资源化利用", False, 120),
)  # fmt: skip
# Where each problem is taken to (by its index), and by whom: (action, user, note).
START = ("start", "{county}", "已制定整改方案，开始整改")
APPLY = ("apply", "{county}", "整改措施已全部完成，申请验收")
CHECK = ("check", "enforcer", "现场核查，整改到位")
SIGN = ("sign", "supervisor", "审核同意")
PUBLISH = ("publish", "supervisor", "整改完成，达标排放，现予公示")
CLOSE = ("close", "supervisor", "公示期满无异议，予以销号")
REBOUND = ("rebound", "{county}", "群众再次投诉，问题反弹")
PATHS = {
    0: (START, APPLY, CHECK, SIGN, PUBLISH),  # in notice
    2: (START, APPLY, CHECK, SIGN, PUBLISH, CLOSE),  # closed
    3: (START, APPLY),  # applied for acceptance
    4: (START,),  # rectifying, overdue
    5: (START, APPLY, CHECK),  # checked on site
    6: (START, APPLY, CHECK, SIGN, PUBLISH, CLOSE, REBOUND),  # reopened
}
REPORT = b"%PDF-1.4\n% envwatch demo: rectification report\n%%EOF\n"


def feedback_list(engine: Engine, today: date) -> bytes:
    """The demo feedback list as CSV, over the demo counties and enterprises."""
    with engine.connect() as connection:
        counties = connection.execute(
            select(County.code, County.name_zh).where(County.kind != "zone").order_by(County.code)
        ).all()
        enterprises = {
            county: credit
            for county, credit in connection.execute(
                select(Enterprise.county_code, Enterprise.credit_code).order_by(Enterprise.id)
            )
            if credit
        }
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for number, (source, batch, title, category, measures, firm, days) in enumerate(PROBLEMS):
        code, name = counties[number % len(counties)]
        credit = enterprises.get(code, "") if firm else ""
        writer.writerow([source, batch, str(number + 1), title, "", category, name,
                         f"{name}人民政府", f"{name}生态环境分局", measures,
                         (today + timedelta(days=days)).isoformat(), credit, "", ""])  # fmt: skip
    return out.getvalue().encode("utf-8")


def seed_rectification(engine: Engine, now: datetime | None = None) -> int:
    """Import the demo feedback list and move its problems along; how many problems."""
    now = now or datetime.now(UTC)
    desk = RectificationDesk(engine)
    # Imported 60 days ago, so some deadlines have passed and notices have run out.
    start = now - timedelta(days=60)
    ids, errors = import_problems(desk, "督察反馈问题清单.csv",
                                  feedback_list(engine, start.date() + timedelta(days=60)),
                                  now=start)  # fmt: skip
    if errors:
        raise ValueError(f"the demo feedback list does not import: {errors[:3]}")
    with engine.connect() as connection:
        county_of = dict(
            connection.execute(
                select(RectificationProblem.id, RectificationProblem.county_code)
            ).all()
        )
    for index, steps in PATHS.items():
        problem = ids[index]
        # A day apart, the last a day ago; closing waits for the notice period (7 days).
        gaps = [timedelta(days=9 if action == "close" else 1) for action, _, _ in steps]
        at = now - sum(gaps, timedelta()) - timedelta(days=1)
        for (action, user, note), gap in zip(steps, gaps, strict=True):
            at += gap
            files = [Upload("整改报告.pdf", REPORT)] if action == "apply" else []
            desk.act(problem, action, user.format(county=f"county-{county_of[problem]}"),
                     peer="demo",
                     note=note, files=files, now=at)  # fmt: skip
    desk.sweep(now)  # the overdue ones escalated (督办)
    seed_complaints(desk, now)
    seed_plots(engine, now)
    seed_registers(engine, now)
    return len(ids)


# The demo's contaminated plots (污染地块): (name, former use, status history).
PLOTS = (
    ("原化肥厂地块", "化肥生产", ("suspected", "investigating", "risk_control")),
    ("原农药厂地块", "农药生产", ("suspected", "investigating", "remediation")),
    ("原电镀园区地块", "电镀", ("suspected", "investigating", "remediation", "safe_use")),
    ("原焦化厂地块", "焦化", ("suspected",)),
    ("原制革厂地块", "制革", ("suspected", "investigating", "safe_use", "delisted")),
)


def seed_plots(engine: Engine, now: datetime) -> list[int]:
    """The demo plots, each taken through its statuses as the registry's API
    records changes (audited as ``registry.contaminated_plot.*``, their history)."""
    actor = Actor("admin", "city_admin", "demo")
    ids = []
    with engine.begin() as connection:
        counties = connection.execute(
            select(County.code, County.name_zh, County.kind).order_by(County.code)
        ).all()
        districts = [c for c in counties if c.kind != "zone"]
        for number, (name, use, statuses) in enumerate(PLOTS):
            county = districts[(number * 3) % len(districts)]
            values = {"name": f"{county.name_zh}{name}", "county_code": county.code,
                      "address": f"{county.name_zh}工业路{number + 1}号", "former_use": use,
                      "area_m2": 20_000.0 + 7_500 * number, "status": statuses[0],
                      "responsible": f"{county.name_zh}政府", "enterprise_id": None}  # fmt: skip
            inserted = insert(ContaminatedPlot).values(**values).returning(ContaminatedPlot.id)
            plot = int(connection.execute(inserted).scalar_one())
            at = now - timedelta(days=400 - 60 * number)
            record(connection, actor, "registry.contaminated_plot.create", "contaminated_plot",
                   plot, after={**values, "id": plot}, at=at)  # fmt: skip
            for before, after in pairwise(statuses):
                at += timedelta(days=90)
                connection.execute(update(ContaminatedPlot).where(ContaminatedPlot.id == plot)
                                   .values(status=after))  # fmt: skip
                record(connection, actor, "registry.contaminated_plot.update",
                       "contaminated_plot", plot, before={"status": before},
                       after={"status": after}, at=at)  # fmt: skip
            ids.append(plot)
    return ids


# Complaints of the demo (信访/12345): around three enterprises, most near the
# first (a hotspot of night noise), with odour near the second.
COMPLAINTS = (
    ("噪声", "夜间厂区机器轰鸣，严重影响休息"),
    ("噪声", "凌晨还在施工，噪声很大"),
    ("噪声", "工厂风机噪声扰民"),
    ("噪声", "夜里装卸货物声音太大"),
    ("恶臭", "厂区附近有刺鼻气味"),
    ("恶臭", "傍晚异味明显，开不了窗"),
    ("大气", "烟囱冒黑烟"),
)


def seed_complaints(desk: RectificationDesk, now: datetime) -> list[int]:
    """A hotline export of the demo's complaints, imported; one replied to and
    one made a problem."""
    with desk.engine.connect() as connection:
        firms = connection.execute(
            select(Enterprise.id, Enterprise.longitude, Enterprise.latitude, County.name_zh)
            .join(County, County.code == Enterprise.county_code)
            .where(Enterprise.longitude.is_not(None))
            .order_by(Enterprise.id)
            .limit(3)
        ).all()
    rows = []
    for number, (category, content) in enumerate(COMPLAINTS):
        firm = firms[0] if number < 4 else firms[min(1 + (number - 4) // 2, len(firms) - 1)]
        received = (now - timedelta(days=10 - number, hours=number)).astimezone(CHINA_STANDARD_TIME)
        rows.append({
            "渠道": "12345", "工单号": f"DEMO-12345-{number + 1:04d}",
            "受理时间": received.replace(tzinfo=None).isoformat(timespec="minutes"),
            "类别": category, "诉求内容": content, "地址": f"{firm.name_zh}某小区",
            "经度": f"{firm.longitude + 0.001 * (number % 3):.6f}",
            "纬度": f"{firm.latitude + 0.001 * (number % 2):.6f}",
            "区县": firm.name_zh, "联系方式": "演示用户（不公开）",
        })  # fmt: skip
    ids, errors = take_complaints(desk, rows, source="demo", now=now)
    if errors:
        raise ValueError(f"the demo complaints do not import: {errors[:3]}")
    reply(desk, ids[0], "supervisor", "已责令企业夜间停止高噪声作业，并安装隔声屏障", peer="demo",
          now=now)  # fmt: skip
    to_problem(desk, ids[1], "supervisor", lead_unit=f"{firms[0].name_zh}住建局",
               deadline=(now + timedelta(days=30)).date(), measures="限定施工时段，夜间巡查",
               peer="demo", now=now)  # fmt: skip
    return ids


# The bottom line's sources (底线): a satellite fire-point export of the
# autumn straw-burning season, and one inspection campaign (大排查大整治).
# Fire points: (hours before now, county index or None for outside the city,
# offset east and north of the county's centroid [degrees], satellite, confidence, FRP).
FIRES = (
    (30, 0, (0.02, 0.01), "FY-3D", "85", 12.5),
    (28, 2, (-0.03, 0.02), "NPP", "nominal", 8.1),
    (26, 2, (0.01, -0.02), "NOAA-20", "high", 21.0),
    (20, 5, (0.0, 0.03), "FY-3D", "70", 6.4),
    (6, None, (0.0, 0.0), "NPP", "low", 3.2),
)
OUTSIDE_CITY = (117.02, 36.67)
"""A point in Jinan, outside Liaocheng: recorded, no problem."""


def fire_export(engine: Engine, now: datetime) -> bytes:
    """The demo's satellite export as CSV: points near the centroids of the
    demo counties' boundaries (so each lies in its county), one outside."""
    features = json.loads(COUNTIES_FILE.read_text(encoding="utf-8"))["features"]
    with engine.connect() as connection:
        registered = set(connection.execute(select(County.code)).scalars())
    centroids = [f["properties"]["centroid"] for f in features
                 if str(f["properties"]["adcode"]) in registered]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(FIRE_COLUMNS)
    for number, (hours, county, (east, north), satellite, confidence, frp) in enumerate(FIRES):
        lon, lat = OUTSIDE_CITY if county is None else centroids[county % len(centroids)]
        seen = (now - timedelta(hours=hours)).astimezone(CHINA_STANDARD_TIME)
        writer.writerow(
            [
                f"DEMO-{seen:%Y%m%d}-{number + 1:04d}",
                seen.replace(tzinfo=None).isoformat(timespec="minutes"),
                f"{lon + east:.5f}",
                f"{lat + north:.5f}",
                confidence,
                frp,
                satellite,
            ]
        )
    return out.getvalue().encode("utf-8")  # fmt: skip


CAMPAIGN = "2026年危险废物专项大排查大整治"
CHECKLIST = (
    ("危险废物贮存设施防渗、防雨、防流失措施到位", "GB 18597-2023《危险废物贮存污染控制标准》",
     "较重"),
    ("危险废物识别标志和标签规范设置", "HJ 1276-2022《危险废物识别标志设置技术规范》", "一般"),
    ("危险废物管理台账完整，转移联单与实际一致", "《危险废物转移管理办法》", "严重"),
)  # fmt: skip


def seed_bottom_line(engine: Engine, now: datetime | None = None) -> dict[str, int]:
    """Import the demo's satellite fire points and run one campaign over four
    enterprises of two counties, with results whose failed items become
    problems; the counts."""
    now = now or datetime.now(UTC)
    desk = RectificationDesk(engine)
    done, errors = import_fire_points(desk, "卫星火点.csv", fire_export(engine, now), now=now)
    if errors:
        raise ValueError(f"the demo fire points do not import: {errors[:3]}")
    with engine.connect() as connection:
        firms = connection.execute(
            select(Enterprise.id, Enterprise.county_code).order_by(Enterprise.id)
        ).all()
    counties = sorted({firm.county_code for firm in firms})[:2]
    # Two enterprises in each of two counties.
    targets = [firm for county in counties
               for firm in [f for f in firms if f.county_code == county][:2]]  # fmt: skip
    start = (now - timedelta(days=20)).astimezone(CHINA_STANDARD_TIME).date()
    spec = CampaignSpec.model_validate({
        "name": CAMPAIGN, "theme": "危险废物", "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=90)).isoformat(), "counties": counties,
        "items": [{"text": t, "legal_basis": b, "severity": s} for t, b, s in CHECKLIST],
        "targets": [{"kind": "enterprise", "id": firm.id} for firm in targets],
    })  # fmt: skip
    campaign, errors = create_campaign(desk, spec, Actor("admin", "city_admin", "demo"),
                                       now=now - timedelta(days=20))  # fmt: skip
    if campaign is None:
        raise ValueError(f"the demo campaign is refused: {errors[:3]}")
    # The first three targets inspected: the first fails two items, the second one.
    verdicts = (("不合格", "合格", "不合格"), ("合格", "不合格", "合格"),
                ("合格", "合格", "不适用"))  # fmt: skip
    rows = [
        {"对象类型": "enterprise", "对象编号": str(firm.id), "检查项": str(item + 1),
         "结果": verdict, "说明": "现场检查发现问题，已拍照取证" if verdict == "不合格" else ""}
        for firm, row in zip(targets, verdicts, strict=False) for item, verdict in enumerate(row)
    ]  # fmt: skip
    opened, errors = record_results(desk, campaign, "enforcer", rows, peer="demo",
                                    now=now - timedelta(days=10))  # fmt: skip
    if errors:
        raise ValueError(f"the demo results are refused: {errors[:3]}")
    return {"fire_point": done.imported, "campaign_problem": len(opened)}
