"""A small registry for rectification tests: two counties, an enterprise in
each, a user of every role, and a feedback list to import."""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import Engine, insert

from envwatch.store.schema import AppUser, County, Enterprise, NotificationTarget

DONGCHANGFU, GUANXIAN = "371502", "371525"
CREDIT_1, CREDIT_2 = "91371500000000001X", "91371500000000002X"

USERS = [
    ("admin", "city_admin", "", None),
    ("supervisor", "city_supervisor", "", None),
    ("enforcer", "enforcement_officer", "", None),
    ("viewer", "viewer", "", None),
    ("county-dcf", "county_officer", DONGCHANGFU, None),
    ("county-gx", "county_officer", GUANXIAN, None),
    ("enterprise-1", "enterprise_user", "", 1),
    ("enterprise-2", "enterprise_user", "", 2),
]


def registry(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(County),
            [
                {
                    "code": DONGCHANGFU,
                    "name_zh": "东昌府区",
                    "name_en": "Dongchangfu",
                    "kind": "district",
                },
                {"code": GUANXIAN, "name_zh": "冠县", "name_en": "Guanxian", "kind": "county"},
            ],
        )
        connection.execute(
            insert(Enterprise),
            [
                {
                    "id": 1,
                    "name": "聊城示例热电有限公司",
                    "credit_code": CREDIT_1,
                    "county_code": DONGCHANGFU,
                },
                {
                    "id": 2,
                    "name": "冠县示例化工有限公司",
                    "credit_code": CREDIT_2,
                    "county_code": GUANXIAN,
                },
            ],
        )
        connection.execute(
            insert(AppUser),
            [
                {
                    "username": name,
                    "display_name": name,
                    "role": role,
                    "county_codes": counties,
                    "enterprise_id": enterprise,
                    "active": True,
                }
                for name, role, counties, enterprise in USERS
            ],
        )
        connection.execute(
            insert(NotificationTarget),
            [
                {
                    "county_code": DONGCHANGFU,
                    "role": "county_officer",
                    "channel": "webhook",
                    "address": "http://127.0.0.1:9/dcf",
                    "active": True,
                },
                {
                    "county_code": DONGCHANGFU,
                    "role": "county_head",
                    "channel": "webhook",
                    "address": "http://127.0.0.1:9/dcf-head",
                    "active": True,
                },
                {
                    "county_code": None,
                    "role": "city_bureau",
                    "channel": "webhook",
                    "address": "http://127.0.0.1:9/city",
                    "active": True,
                },
            ],
        )


HEADER = [
    "来源",
    "批次",
    "序号",
    "问题",
    "问题描述",
    "类别",
    "区县",
    "牵头责任单位",
    "配合责任单位",
    "整改措施",
    "整改时限",
    "涉及企业",
    "关联预警",
    "关联案件",
]
BATCH = "第二轮中央生态环境保护督察反馈（2026）"


def feedback_rows(deadline: date = date(2027, 3, 31)) -> list[list[str]]:
    return [
        [
            "中央生态环境保护督察",
            BATCH,
            "1",
            "热电厂脱硫设施运行不正常，二氧化硫超标排放",
            "群众反映夜间烟囱冒黄烟",
            "大气",
            "东昌府区",
            "东昌府区人民政府",
            "市生态环境局东昌府分局",
            "完成脱硫改造；加密监测",
            deadline.isoformat(),
            CREDIT_1,
            "",
            "",
        ],
        [
            "中央生态环境保护督察",
            BATCH,
            "2",
            "化工园区雨污管网混接，废水直排河道",
            "",
            "水",
            "371525",
            "冠县人民政府",
            "冠县住建局、冠县生态环境分局",
            "完成管网排查和改造",
            deadline.isoformat(),
            CREDIT_2,
            "",
            "",
        ],
        [
            "省生态环境保护督察",
            "省第三轮督察",
            "7",
            "建筑工地夜间施工噪声扰民",
            "",
            "噪声",
            "东昌府区",
            "东昌府区住建局",
            "",
            "限定施工时间",
            deadline.isoformat(),
            "",
            "",
            "",
        ],
    ]


def as_csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
