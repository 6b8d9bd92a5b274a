"""Every route of the web app against every principal, over real HTTP on
SQLite and PostgreSQL: who gets what, in and out of their scope.

The expected answers are a table in data (``MATRIX``), written from the
issue's rules, not read off the code: city roles see everything, county
officers their counties, enterprise users their enterprise, contractors the
devices their contractor runs; out of scope answers 404 exactly like unknown;
anonymous API calls 401, anonymous pages go to the login; writes need the
session's CSRF token (403 without); alert actions follow the workflow table
(a role the table does not allow: 409); a read token may GET the /api/v1 read
endpoints within its scope, never write (403) and never open pages. The
token column is a token bound to enterprise 1; a city-wide read token is held
to the viewer's column on the API's GETs and to the token's elsewhere.

``test_every_route_has_a_row_in_the_matrix`` fails, naming the route, when the
app has a route the table does not cover, so a new endpoint cannot ship
untested.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import Connection, Engine, insert, select, update
from starlette.routing import Mount

from envwatch.alerts.desk import AlertDesk
from envwatch.audit.log import Actor
from envwatch.auth.tokens import create_token
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.ledger.positive import Admission, admit, open_entry, remove
from envwatch.ledger.quota_store import Freed, record_freed
from envwatch.permits.audit_store import create_audit_file
from envwatch.permits.parameters import load_parameters
from envwatch.rectification.campaign_desk import create_campaign, record_results, store_evidence
from envwatch.rectification.campaigns import CampaignSpec
from envwatch.rectification.complaint_desk import take_complaints
from envwatch.rectification.desk import RectificationDesk
from envwatch.rectification.evidence import Upload
from envwatch.rectification.fire_desk import take_fire_points
from envwatch.rectification.importing import import_problems
from envwatch.rules.engine import default_rule_set
from envwatch.store.schema import (
    AccessClause,
    Alert,
    AppUser,
    ChemicalEnterprise,
    ChemicalPark,
    ContaminatedPlot,
    Contractor,
    ControlUnit,
    County,
    EmergencyLine,
    EmergencyLineMeter,
    Enterprise,
    FirePoint,
    HazardousWasteUnit,
    HeavyMetalEnterprise,
    ManualResult,
    MedicalInstitution,
    Meter,
    MonitoringPoint,
    Outlet,
    PermitLimit,
    WasteTransfer,
)
from envwatch.web.app import create_app
from envwatch.web.mapsvg import COUNTIES_FILE
from envwatch.web.people import CSRF_HEADER, LOGIN_CSRF_COOKIE, LOGIN_CSRF_FIELD, SESSION_COOKIE
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.electricity.test_http_batch import base_url
from tests.rectification.helpers import as_csv
from tests.web.test_pages_and_api import alerts

__all__ = ["alerts", "base_url"]

# What a principal may get, beyond a bare status code.
TO_LOGIN: Final = "303 to /login"
LOGIN_PAGE: Final = "the login page"
SEEN: Final = "200 listing it"
UNSEEN: Final = "200 not listing it"
OPEN: Final = "any answer but 401, 422, a redirect or 5xx (the rules are silent)"
OPEN_ANSWERS: Final = frozenset({200, 201, 202, 204, 403, 404, 409, SEEN, UNSEEN})
REFUSED: Final = "403 or 404 (refused; the rules do not say which)"
Cell = int | str

# The principals, in the order of the table's columns.
PRINCIPALS: Final = (
    "anonymous",  # no cookie, no token
    "admin",  # city_admin
    "supervisor",  # city_supervisor
    "enforcer",  # enforcement_officer
    "viewer",  # viewer
    "county",  # county_officer of the county of the "in" objects
    "enterprise",  # enterprise_user of enterprise 1
    "contractor",  # contractor whose contractor runs the "in" device
    "token",  # machine bearer token, scope "read", enterprise 1
)
USERNAMES: Final = {
    "admin": "admin",
    "supervisor": "supervisor",
    "enforcer": "enforcer",
    "viewer": "viewer",
    "county": "county-{county_in}",
    "enterprise": "enterprise-1",
    "contractor": "contractor-1",
}
_L, _P, _S, _U, _O, _R = TO_LOGIN, LOGIN_PAGE, SEEN, UNSEEN, OPEN, REFUSED

HOURS: Final = "pollutant=a21026&since=2026-11-29T00:00:00&until=2026-11-30T00:00:00"
FRAME: Final = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)
UNKNOWN_ID: Final = "999999"
UNKNOWN_MN: Final = "NOSUCHMN0000000000000000"  # well formed (24 characters), registered nowhere


def row(*cells: Cell) -> dict[str, Cell]:
    """One line of the table: a cell per principal, in ``PRINCIPALS`` order."""
    return dict(zip(PRINCIPALS, cells, strict=True))


@dataclass(frozen=True)
class Case:
    """One request and what each principal must get for it.

    ``path`` and the bodies take placeholders filled from the fixture objects
    (``{alert_in}``, ``{mn_out}``, ...). ``lists`` names an item a 200 must
    list (``SEEN``) or leave out (``UNSEEN``): ``("id", "{alert_in}")`` for a
    JSON list's items, ``("html", text)`` for a page."""

    method: str
    path: str
    expect: Mapping[str, Cell]
    json: Any = None
    form: Mapping[str, str] | None = None
    content: bytes | None = None
    content_type: str | None = None
    csrf: bool = True  # send the session's CSRF token (header, and form field)
    fresh: bool = False  # a new session of the principal's user: the request ends it
    lists: tuple[str, str] | None = None
    stream: bool = False
    save: tuple[str, str] | None = None  # ("new_outlet", "id"): keep a created object's key
    poll_while: int | None = None  # ask again (bounded) while this status comes back
    login_form: bool = False  # posted from the login page: its CSRF token and cookie


def get(path: str, expect: Mapping[str, Cell], lists: tuple[str, str] | None = None) -> Case:
    return Case("GET", path, expect, lists=lists)


def write(
    method: str, path: str, json: Any = None, *, expect: Mapping[str, Cell], **more: Any
) -> Case:
    return Case(method, path, expect, json=json, **more)


REG: Final = "/api/v1/registry"
REPLAYS: Final = "/api/v1/processing/replays"
REPLAY: Final = {"since": "2026-11-29T00:00:00", "until": "2026-11-29T00:01:00",
                 "rules": ["negative"], "dry_run": True}  # fmt: skip
REPLAY_PAGE: Final = "/processing/replays"
REPLAY_FORM: Final = {"since": "2026-11-29T00:00", "until": "2026-11-29T00:01",
                      "rules": "negative", "dry_run": "1"}  # fmt: skip


COMMENT: Final = {"action": "comment", "note": "authorisation matrix"}
EXPLAIN: Final = {"action": "explain", "note": "authorisation matrix"}
MERGE_INTO_OUT: Final = {"action": "merge", "into": "#alert_out", "note": "authorisation matrix"}
AUDIT_FILE: Final = {"period": "2026-01"}
INTERVIEW: Final = {
    "county": "{county_in}",
    "held_on": "2026-11-20",
    "interviewees": "矩阵约谈对象",
    "problems": "矩阵测试问题",
}
GOOD_LOGIN: Final = {"username": "viewer", "password": DEMO_PASSWORD}
BAD_LOGIN: Final = {"username": "nobody-at-all", "password": "not-the-password"}

CITY_WARNING: Final = {
    "level": "orange",
    "starts_at": "2026-12-10T00:00:00",
    "ends_at": "2026-12-11T00:00:00",
    "reference": "authorisation matrix",
}
NEW_ENTERPRISE: Final = {
    "name": "矩阵测试企业",
    "credit_code": "91371500MA3MATRX01",
    "county_code": "{county_in}",
}
NEW_OUTLET: Final = {
    "enterprise_id": "#enterprise_out",
    "code": "DA987",
    "name": "矩阵排放口",
    "kind": "air",
}
NEW_POINT: Final = {
    "mn": "MTX000000000000000000001",
    "pw": "matrix-pw",
    "enterprise_id": "#enterprise_out",
}
NEW_LIMIT: Final = {
    "enterprise_id": "#enterprise_out",
    "pollutant": "a21026",
    "limit_value": 50,
    "unit": "mg/m3",
    "valid_from": "2026-01-01",
}
NEW_PERMIT: Final = {
    "number": "MTX-PERMIT-0001",
    "category": "key",
    "valid_from": "2026-01-01",
    "valid_to": "2031-01-01",
}
NEW_METER: Final = {"enterprise_id": "#enterprise_out", "name": "矩阵电表", "kind": "total"}
NEW_LINE: Final = {
    "enterprise_id": "#enterprise_in", "season": "2026-2027", "valid_from": "2026-10-01",
    "valid_until": "2027-03-16", "name": "矩阵生产线乙", "meters": ["矩阵生产电表"],
    "measures": {"orange": "限产30%+运输管控"},
}  # fmt: skip
EL: Final = "/api/v1/emergency"
NEW_CONTRACTOR: Final = {"name": "矩阵测试运维乙公司", "credit_code": "91371500MA3MATRX02"}
NEW_USER: Final = {
    "username": "matrix-user",
    "display_name": "矩阵用户",
    "role": "viewer",
    "password": "matrix-password-1",
}
NEW_USER_FORM: Final = {
    "username": "matrix-user-2",
    "display_name": "矩阵用户丙",
    "role": "viewer",
    "password": "matrix-password-1",
}
WRONG_CURRENT: Final = {"current": "not-the-password", "new": "matrix-password-9"}
WRONG_CURRENT_FORM: Final = {**WRONG_CURRENT, "confirm": "matrix-password-9"}
BAD_IMPORT: Final = "name\n矩阵\n".encode()
Q: Final = "/api/v1/quality"
NEW_STATION: Final = {"code": "MTX-A1", "name": "矩阵站点", "level": "county",
                      "county_code": "{county_in}"}  # fmt: skip
NEW_SECTION: Final = {"code": "MTX-W1", "name": "矩阵断面", "river": "矩阵河", "level": "city",
                      "target_class": "III", "county_code": "{county_in}"}  # fmt: skip
NEW_TARGET: Final = {"year": 2026, "area": "city", "indicator": "PM2_5", "value": 40}
PROVINCE_CSV: Final = (
    "month,area,composite_index,pm2_5,good_day_ratio\n2026-01,全省,5.1,60,55\n".encode()
)
PDF_FILE: Final = b"%PDF-1.4\n% authorisation matrix\n%%EOF\n"
NEW_CAMPAIGN: Final = {
    "name": "矩阵排查整治行动", "theme": "危险废物", "starts_on": "2026-11-01",
    "ends_on": "2026-12-31", "items": [{"text": "矩阵检查项", "severity": "一般"}],
}  # fmt: skip
NEW_CAMPAIGN_FORM: Final = {
    "name": "矩阵页面排查整治行动", "theme": "hazardous_waste", "starts_on": "2026-11-01",
    "ends_on": "2026-12-31", "counties": "", "items": "矩阵检查项 | 一般", "targets": "",
}  # fmt: skip
RESULT_IN: Final = {"results": [{"kind": "enterprise", "ref_id": "#enterprise_in", "item": 1,
                                 "result": "pass"}]}  # fmt: skip
RESULT_OUT: Final = {"results": [{"kind": "enterprise", "ref_id": "#enterprise_out", "item": 1,
                                  "result": "pass"}]}  # fmt: skip
RESULT_FORM_IN: Final = {"target": "enterprise:{enterprise_in}", "result_1": "pass"}
RESULT_FORM_OUT: Final = {"target": "enterprise:{enterprise_out}", "result_1": "pass"}
NEW_COMPLAINT: Final = {
    "channel": "12345", "reference": "MTX-1", "received_at": "2026-11-29T20:00:00+08:00",
    "category": "噪声", "content": "矩阵测试投诉：夜间噪声", "address": "矩阵小区",
    "county": "{county_in}",
}  # fmt: skip
REPLY: Final = {"text": "authorisation matrix"}
NEW_PROBLEM: Final = {
    "source": "self_found", "batch": "矩阵自查", "item_no": "1", "title": "矩阵自查问题",
    "category": "大气", "county": "{county_in}", "lead_unit": "矩阵责任单位",
    "deadline": "2099-12-31",
}  # fmt: skip
NEW_PLOT: Final = {"name": "矩阵测试地块", "county_code": "{county_in}", "status": "suspected"}
COMPLAINT_FORM: Final = {
    "channel": "12345", "reference": "MTX-F1", "received_at": "2026-11-29T20:00",
    "category": "noise", "content": "矩阵测试投诉：表单", "address": "矩阵小区",
    "county": "{county_in}",
}  # fmt: skip
TO_PROBLEM: Final = {"lead_unit": "矩阵责任单位", "deadline": "2099-12-31"}
NEW_LISTING: Final = {
    "enterprise_id": "#enterprise_out", "kind": "enforcement",
    "criteria": ["livelihood", "no_violation_24m"], "reason": "矩阵纳入", "added_on": "2026-01-01",
    "decided_by": "矩阵局务会",
}  # fmt: skip
NEW_FREED: Final = {
    "county_code": "{county_in}", "pollutant": "a21026", "cause": "closure", "tonnes": "1.5",
    "effective_on": "2026-01-01", "document_no": "矩阵文号", "enterprise_id": "#enterprise_in",
}  # fmt: skip
TOO_MUCH: Final = {
    "county_code": "{county_in}", "pollutant": "a21026", "tonnes": "999999",
    "effective_on": "2026-02-01", "document_no": "矩阵文号", "project": "矩阵项目",
}  # fmt: skip


def register_rows(
    collection: str, name: str, new: Any, patch: Any, *, enterprise_sees: bool = True
) -> dict[str, dict[str, Case]]:
    """The routes of a bottom-line register (web/api_bottom_line.py): read in
    scope by county and by the enterprise an entry answers for (a chemical park is
    no enterprise's: only the bureau and the county see it); changed and imported
    by city administrators, each audited."""
    path, item = REG + collection, REG + collection + "/{key}"
    mine = _S if enterprise_sees else _U
    found = 200 if enterprise_sees else 404
    key = {"/hazardous-waste-units": "unit_id", "/waste-transfers": "transfer_id",
           "/medical-institutions": "institution_id", "/chemical-parks": "park_id"}.get(
        collection, "entry_id")  # fmt: skip
    declared = REG + collection + "/{" + key + "}"
    return {
        f"GET {path}": {
            "in": get(path + "?limit=500", row(401, _S, _S, _S, _S, _S, mine, _U, mine),
                      lists=("id", "{" + name + "_in}")),
            "out": get(path + "?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                       lists=("id", "{" + name + "_out}")),
        },
        f"GET {declared}": {
            "in": get(item.replace("{key}", "{" + name + "_in}"),
                      row(401, 200, 200, 200, 200, 200, found, 404, found)),
            "out": get(item.replace("{key}", "{" + name + "_out}"),
                       row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
            "unknown": get(item.replace("{key}", UNKNOWN_ID),
                           row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
        },
        f"POST {path}": {
            "create": write("POST", path, new, save=("new_" + name, "id"),
                            expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
        },
        f"PATCH {declared}": {
            "change": write("PATCH", item.replace("{key}", "{new_" + name + "}"), patch,
                            expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        },
        f"DELETE {declared}": {
            "no csrf": write("DELETE", item.replace("{key}", "{new_" + name + "}"), csrf=False,
                             expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
            "delete": write("DELETE", item.replace("{key}", "{new_" + name + "}"),
                            expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
        },
        f"POST {path}/import": {
            "no csrf": write("POST", path + "/import?name=x.csv", content=BAD_IMPORT,
                             content_type="text/csv", csrf=False,
                             expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
            "bad file": write("POST", path + "/import?name=x.csv", content=BAD_IMPORT,
                              content_type="text/csv",
                              expect=row(401, 422, 403, 403, 403, 403, 403, 403, 403)),
        },
    }  # fmt: skip


REGISTER_ROWS: Final = {
    **register_rows("/hazardous-waste-units", "unit", {
        "name": "矩阵处置单位", "credit_code": "91371500MA3MATRX05", "role": "disposer",
        "county_code": "{county_in}", "licence_no": "矩阵证1", "licensed_categories": ["HW08"],
        "licensed_capacity_t": 100}, {"name": "矩阵处置单位乙"}),
    **register_rows("/waste-transfers", "transfer", {
        "manifest_no": "MTX-0001", "producer_id": "#unit_in",
        "receiver_credit_code": "91371500MA99999998", "hw_code": "HW08", "quantity_t": 1,
        "transferred_on": "2026-01-01"}, {"quantity_t": 2}),
    **register_rows("/medical-institutions", "medical", {
        "name": "矩阵医院", "county_code": "{county_in}", "grade": "secondary"}, {"beds": 10}),
    **register_rows("/chemical-parks", "park", {"name": "矩阵园区乙", "county_code": "{county_in}"},
                    {"area_km2": 2}, enterprise_sees=False),
    **register_rows("/chemical-enterprises", "chemical", {
        "enterprise_id": "#enterprise_third", "kind": "acid_using", "acids": {"sulfuric": 5}},
        {"acids": {"hydrochloric": 2}}),
    **register_rows("/heavy-metal-enterprises", "metals", {
        "enterprise_id": "#enterprise_third", "metals": ["Pb"]}, {"industry": "电镀"}),
    # A failing check made a rectification problem: the city administrator's.
    "POST /api/v1/registry/hazardous-waste/findings/problems": {
        "no csrf": write("POST", REG + "/hazardous-waste/findings/problems?year=2025", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "make": write("POST", REG + "/hazardous-waste/findings/problems?year=2025",
                      expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/hazardous-waste/findings": {
        "in": get(REG + "/hazardous-waste/findings?year=2025",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("unit_id", "{unit_in}")),
        "out": get(REG + "/hazardous-waste/findings?year=2025",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("unit_id", "{unit_out}")),
    },
}  # fmt: skip

# route ("METHOD /path" as the app declares it) -> scenario -> case.
#                  anon  admin super enforc viewer county enterp contra token
MATRIX: Final[dict[str, dict[str, Case]]] = {
    # --- public: health, schema, assets -----------------------------------
    "GET /healthz": {
        "any": get("/healthz", row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /openapi.json": {
        "any": get("/openapi.json", row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    # The API's documentation holds no data: public like the schema it shows.
    "GET /docs": {
        "any": get("/docs", row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "MOUNT /static": {
        "asset": get("/static/envwatch.css", row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
        "missing": get("/static/nope.css", row(404, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # --- sessions --------------------------------------------------------
    "POST /api/v1/session": {
        "bad password": Case(
            "POST", "/api/v1/session", json=BAD_LOGIN,
            expect=row(401, 401, 401, 401, 401, 401, 401, 401, 401),
        ),
        "good password": Case(
            "POST", "/api/v1/session", json=GOOD_LOGIN,
            expect=row(200, 200, 200, 200, 200, 200, 200, 200, 200),
        ),
    },
    "DELETE /api/v1/session": {
        "no csrf": Case(
            "DELETE", "/api/v1/session", csrf=False,
            expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403),
        ),
        "fresh session": Case(
            "DELETE", "/api/v1/session", fresh=True,
            expect=row(401, 200, 200, 200, 200, 200, 200, 200, 403),
        ),
    },
    "GET /login": {
        "any": get("/login", row(_P, _P, _P, _P, _P, _P, _P, _P, _P)),
    },
    "POST /login": {
        "bad password": Case(
            "POST", "/login", form=BAD_LOGIN, login_form=True,
            expect=row(401, 401, 401, 401, 401, 401, 401, 401, 401),
        ),
        "good password": Case(
            "POST", "/login", form=GOOD_LOGIN, login_form=True,
            expect=row(303, 303, 303, 303, 303, 303, 303, 303, 303),
        ),
    },
    "POST /logout": {
        "no csrf": Case(
            "POST", "/logout", form={}, csrf=False,
            expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L),
        ),
        "fresh session": Case(
            "POST", "/logout", form={}, fresh=True,
            expect=row(_L, _L, _L, _L, _L, _L, _L, _L, _L),
        ),
    },
    # --- alert API --------------------------------------------------------
    "GET /api/v1/alerts": {
        "in": get("/api/v1/alerts", row(401, _S, _S, _S, _S, _S, _S, _S, _S),
                  lists=("id", "{alert_in}")),
        "out": get("/api/v1/alerts", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{alert_out}")),
        "ent only": get("/api/v1/alerts", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                        lists=("id", "{alert_ent_only}")),
        "elsewhere": get("/api/v1/alerts", row(401, _S, _S, _S, _S, _U, _U, _S, _U),
                         lists=("id", "{alert_elsewhere}")),
        "bad paging": get("/api/v1/alerts?limit=0",
                          row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "GET /api/v1/alerts/{alert_id}": {
        "in": get("/api/v1/alerts/{alert_in}", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get("/api/v1/alerts/{alert_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "ent only": get("/api/v1/alerts/{alert_ent_only}",
                        row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "elsewhere": get("/api/v1/alerts/{alert_elsewhere}",
                         row(401, 200, 200, 200, 200, 404, 404, 200, 404)),
        "unknown": get("/api/v1/alerts/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/alerts/{alert_id}/actions": {
        "comment in": Case(
            "POST", "/api/v1/alerts/{alert_in}/actions", json=COMMENT,
            expect=row(401, 200, 200, 200, 409, 200, 409, 409, 403),
        ),
        "comment out": Case(
            "POST", "/api/v1/alerts/{alert_out}/actions", json=COMMENT,
            expect=row(401, 200, 200, 200, 409, 404, 404, 404, 403),
        ),
        "explain in": Case(
            "POST", "/api/v1/alerts/{alert_in}/actions", json=EXPLAIN,
            expect=row(401, 409, 409, 409, 409, 409, 200, 200, 403),
        ),
        "explain elsewhere": Case(
            "POST", "/api/v1/alerts/{alert_elsewhere}/actions", json=EXPLAIN,
            expect=row(401, 409, 409, 409, 409, 404, 404, 200, 403),
        ),
        "explain ent only": Case(
            "POST", "/api/v1/alerts/{alert_ent_only}/actions", json=EXPLAIN,
            expect=row(401, 409, 409, 409, 409, 409, 200, 404, 403),
        ),
        "explain out": Case(
            "POST", "/api/v1/alerts/{alert_out}/actions", json=EXPLAIN,
            expect=row(401, 409, 409, 409, 409, 404, 404, 404, 403),
        ),
        # Merging into an alert out of scope names an unknown alert.
        "merge into out": Case(
            "POST", "/api/v1/alerts/{alert_in}/actions", json=MERGE_INTO_OUT,
            expect={"anonymous": 401, "county": 404, "enterprise": 404, "contractor": 404,
                    "token": 403},
        ),
        "no csrf": Case(
            "POST", "/api/v1/alerts/{alert_in}/actions", json=COMMENT, csrf=False,
            expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403),
        ),
        "unknown": Case(
            "POST", f"/api/v1/alerts/{UNKNOWN_ID}/actions", json=COMMENT,
            expect=row(401, 404, 404, 404, 404, 404, 404, 404, 403),
        ),
    },
    "GET /api/v1/alerts/stream": {
        "any": Case("GET", "/api/v1/alerts/stream", stream=True,
                    expect=row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    # --- read APIs --------------------------------------------------------
    "GET /api/v1/findings": {
        "in": get("/api/v1/findings", row(401, _S, _S, _S, _S, _S, _S, _S, _S),
                  lists=("mn", "{mn_in}")),
        "out": get("/api/v1/findings", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("mn", "{mn_out}")),
        "ent only": get("/api/v1/findings", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                        lists=("mn", "{mn_ent_only}")),
        "elsewhere": get("/api/v1/findings", row(401, _S, _S, _S, _S, _U, _U, _S, _U),
                         lists=("mn", "{mn_elsewhere}")),
        "out by filter": get("/api/v1/findings?mn={mn_out}",
                             row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("mn", "{mn_out}")),
    },
    "GET /api/v1/points/{mn}/hours": {
        "in": get("/api/v1/points/{mn_in}/hours?" + HOURS,
                  row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get("/api/v1/points/{mn_out}/hours?" + HOURS,
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get("/api/v1/points/" + UNKNOWN_MN + "/hours?" + HOURS,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
        "elsewhere": get("/api/v1/points/{mn_elsewhere}/hours?" + HOURS,
                         row(401, 200, 200, 200, 200, 404, 404, 200, 404)),
        "bad window": get("/api/v1/points/{mn_in}/hours?pollutant=a21026&since=x",
                          row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "GET /api/v1/overview": {
        "any": get("/api/v1/overview", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/coverage": {
        "in": get("/api/v1/coverage", row(401, _S, _S, _S, _S, _S, 403, 403, 403),
                  lists=("county", "{county_in}")),
        "out": get("/api/v1/coverage", row(401, _S, _S, _S, _S, _U, 403, 403, 403),
                   lists=("county", "{county_out}")),
    },
    "GET /api/v1/sla": {
        "in": get("/api/v1/sla", row(401, _S, _S, _S, _S, _S, _S, _S, _S),
                  lists=("county", "{county_in}")),
        "out": get("/api/v1/sla", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("county", "{county_out}")),
    },
    "GET /api/v1/audit": {
        "any": get("/api/v1/audit", row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/processing/quarantine": {
        "any": get("/api/v1/processing/quarantine",
                   row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/processing/replays": {
        "no csrf": Case("POST", REPLAYS, csrf=False, json=REPLAY,
                        expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "dry run": write("POST", REPLAYS, REPLAY, save=("new_replay", "id"),
                         expect=row(401, 202, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/processing/replays/{job_id}": {
        "job": get(REPLAYS + "/{new_replay}", row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "unknown": get(REPLAYS + "/" + UNKNOWN_ID,
                       row(401, 404, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/processing/replays/{job_id}/cancel": {
        "unknown": write("POST", REPLAYS + "/" + UNKNOWN_ID + "/cancel",
                         expect=row(401, 404, 403, 403, 403, 403, 403, 403, 403)),
    },
    # --- measurement API ----------------------------------------------------
    "GET /api/v1/points": {
        "in": get("/api/v1/points?limit=500", row(401, _S, _S, _S, _S, _S, _S, _S, _S),
                  lists=("mn", "{mn_in}")),
        "out": get("/api/v1/points?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("mn", "{mn_out}")),
        "ent only": get("/api/v1/points?limit=500", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                        lists=("mn", "{mn_ent_only}")),
        "elsewhere": get("/api/v1/points?limit=500", row(401, _S, _S, _S, _S, _U, _U, _S, _U),
                         lists=("mn", "{mn_elsewhere}")),
        "out by filter": get("/api/v1/points?enterprise_id={enterprise_out}",
                             row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("mn", "{mn_out}")),
        "bad kind": get("/api/v1/points?kind=chimney",
                        row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "GET /api/v1/points/{mn}": {
        "in": get("/api/v1/points/{mn_in}", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get("/api/v1/points/{mn_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "ent only": get("/api/v1/points/{mn_ent_only}",
                        row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "elsewhere": get("/api/v1/points/{mn_elsewhere}",
                         row(401, 200, 200, 200, 200, 404, 404, 200, 404)),
        "unknown": get("/api/v1/points/" + UNKNOWN_MN,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "GET /api/v1/points/{mn}/measurements": {
        "in": get("/api/v1/points/{mn_in}/measurements",
                  row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get("/api/v1/points/{mn_out}/measurements?cn=2051",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "elsewhere": get("/api/v1/points/{mn_elsewhere}/measurements?cn=2031",
                         row(401, 200, 200, 200, 200, 404, 404, 200, 404)),
        "unknown": get("/api/v1/points/" + UNKNOWN_MN + "/measurements",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
        "bad kind": get("/api/v1/points/{mn_in}/measurements?cn=9999",
                        row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "GET /api/v1/points/{mn}/frames": {
        "in": get("/api/v1/points/{mn_in}/frames",
                  row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get("/api/v1/points/{mn_out}/frames",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "ent only": get("/api/v1/points/{mn_ent_only}/frames",
                        row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "unknown": get("/api/v1/points/" + UNKNOWN_MN + "/frames",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # An enterprise is no device: a contractor sees none.
    "GET /api/v1/enterprises/{enterprise_id}/electricity": {
        "in": get("/api/v1/enterprises/{enterprise_in}/electricity",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/enterprises/{enterprise_out}/electricity",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(f"/api/v1/enterprises/{UNKNOWN_ID}/electricity",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # Permits and emissions (排污审计): an enterprise is no device, a contractor sees none.
    "GET /api/v1/enterprises/{enterprise_id}/permits": {
        "in": get("/api/v1/enterprises/{enterprise_in}/permits?history=true",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/enterprises/{enterprise_out}/permits",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(f"/api/v1/enterprises/{UNKNOWN_ID}/permits",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # A permit version is recorded by city administrators (with their CSRF token) only.
    "POST /api/v1/enterprises/{enterprise_id}/permits": {
        "no csrf": write("POST", "/api/v1/enterprises/{enterprise_in}/permits", NEW_PERMIT,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "record": write("POST", "/api/v1/enterprises/{enterprise_in}/permits", NEW_PERMIT,
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
        "unknown": write("POST", f"/api/v1/enterprises/{UNKNOWN_ID}/permits", NEW_PERMIT,
                         expect=row(401, 404, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/enterprises/{enterprise_id}/emissions": {
        "in": get("/api/v1/enterprises/{enterprise_in}/emissions?year=2026",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/enterprises/{enterprise_out}/emissions",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(f"/api/v1/enterprises/{UNKNOWN_ID}/emissions",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
        "bad year": get("/api/v1/enterprises/{enterprise_in}/emissions?year=1",
                        row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    # --- registry API: reads in scope, changes by city administrators ------
    # An enterprise, its outlets, limits and meters are no devices: a contractor sees none.
    #                        anon  admin super enforc viewer county enterp contra token
    "GET /api/v1/registry/enterprises": {
        "in": get(REG + "/enterprises?limit=500", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("id", "{enterprise_in}")),
        "out": get(REG + "/enterprises?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{enterprise_out}")),
    },
    "GET /api/v1/registry/enterprises/{enterprise_id}": {
        "in": get(REG + "/enterprises/{enterprise_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get(REG + "/enterprises/{enterprise_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(REG + "/enterprises/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/enterprises": {
        "no csrf": write("POST", REG + "/enterprises", NEW_ENTERPRISE, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "create": write("POST", REG + "/enterprises", NEW_ENTERPRISE,
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403),
                        save=("new_enterprise", "id")),
    },
    "PATCH /api/v1/registry/enterprises/{enterprise_id}": {
        "in": write("PATCH", REG + "/enterprises/{new_enterprise}", {"name": "矩阵测试企业乙"},
                    expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "no csrf": write("PATCH", REG + "/enterprises/{new_enterprise}", {"name": "矩阵"},
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/outlets": {
        "in": get(REG + "/outlets?limit=500&enterprise_id={enterprise_in}",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("id", "{outlet_in}")),
        "out": get(REG + "/outlets?limit=500&enterprise_id={enterprise_out}",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("id", "{outlet_out}")),
    },
    "GET /api/v1/registry/outlets/{outlet_id}": {
        "in": get(REG + "/outlets/{outlet_in}", row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get(REG + "/outlets/{outlet_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(REG + "/outlets/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/outlets": {
        "no csrf": write("POST", REG + "/outlets", NEW_OUTLET, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "create": write("POST", REG + "/outlets", NEW_OUTLET, save=("new_outlet", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/registry/outlets/{outlet_id}": {
        "change": write("PATCH", REG + "/outlets/{new_outlet}", {"name": "矩阵排放口乙"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/outlets/{outlet_id}": {
        "no csrf": write("DELETE", REG + "/outlets/{new_outlet}", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", REG + "/outlets/{new_outlet}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/points": {
        "in": get(REG + "/points?limit=500", row(401, _S, _S, _S, _S, _S, _S, _S, _S),
                  lists=("mn", "{mn_in}")),
        "out": get(REG + "/points?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("mn", "{mn_out}")),
        "ent only": get(REG + "/points?enterprise_id={enterprise_in}",
                        row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("mn", "{mn_ent_only}")),
        "elsewhere": get(REG + "/points?limit=500", row(401, _S, _S, _S, _S, _U, _U, _S, _U),
                         lists=("mn", "{mn_elsewhere}")),
    },
    "GET /api/v1/registry/points/{mn}": {
        "in": get(REG + "/points/{mn_in}", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get(REG + "/points/{mn_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "ent only": get(REG + "/points/{mn_ent_only}",
                        row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "elsewhere": get(REG + "/points/{mn_elsewhere}",
                         row(401, 200, 200, 200, 200, 404, 404, 200, 404)),
        "unknown": get(REG + "/points/" + UNKNOWN_MN,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/points": {
        "no csrf": write("POST", REG + "/points", NEW_POINT, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "create": write("POST", REG + "/points", NEW_POINT, save=("new_point", "mn"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/registry/points/{mn}": {
        "change": write("PATCH", REG + "/points/{new_point}", {"verify_crc": True},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "no csrf": write("PATCH", REG + "/points/{mn_in}", {"verify_crc": True}, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/points/{mn}": {
        "delete": write("DELETE", REG + "/points/{new_point}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/limits": {
        "in": get(REG + "/limits?limit=500&enterprise_id={enterprise_in}",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("id", "{limit_in}")),
        "out": get(REG + "/limits?limit=500&enterprise_id={enterprise_out}",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("id", "{limit_out}")),
    },
    "GET /api/v1/registry/limits/{limit_id}": {
        "in": get(REG + "/limits/{limit_in}", row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get(REG + "/limits/{limit_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(REG + "/limits/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/limits": {
        "create": write("POST", REG + "/limits", NEW_LIMIT, save=("new_limit", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/registry/limits/{limit_id}": {
        "change": write("PATCH", REG + "/limits/{new_limit}", {"basis": "矩阵"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "no csrf": write("PATCH", REG + "/limits/{new_limit}", {"basis": "矩阵"}, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/limits/{limit_id}": {
        "delete": write("DELETE", REG + "/limits/{new_limit}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/meters": {
        "in": get(REG + "/meters?limit=500&enterprise_id={enterprise_in}",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("id", "{meter_in}")),
        "out": get(REG + "/meters?limit=500&enterprise_id={enterprise_out}",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("id", "{meter_out}")),
    },
    "GET /api/v1/registry/meters/{meter_id}": {
        "in": get(REG + "/meters/{meter_in}", row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get(REG + "/meters/{meter_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(REG + "/meters/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/meters": {
        "create": write("POST", REG + "/meters", NEW_METER, save=("new_meter", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/registry/meters/{meter_id}": {
        "change": write("PATCH", REG + "/meters/{new_meter}", {"name": "矩阵电表乙"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/meters/{meter_id}": {
        "no csrf": write("DELETE", REG + "/meters/{new_meter}", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", REG + "/meters/{new_meter}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    # Who besides the city may read the contractors' registry the rules do not say.
    "GET /api/v1/registry/contractors": {
        "in": get(REG + "/contractors?limit=500", row(401, _S, _S, _S, _S, _O, _O, _O, _O),
                  lists=("id", "{contractor_in}")),
        "out": get(REG + "/contractors?limit=500", row(401, _S, _S, _S, _S, _O, _O, _O, _O),
                   lists=("id", "{contractor_out}")),
    },
    "GET /api/v1/registry/contractors/{contractor_id}": {
        "in": get(REG + "/contractors/{contractor_in}",
                  row(401, 200, 200, 200, 200, _O, _O, _O, _O)),
        "out": get(REG + "/contractors/{contractor_out}",
                   row(401, 200, 200, 200, 200, _O, _O, _O, _O)),
        "unknown": get(REG + "/contractors/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/contractors": {
        "create": write("POST", REG + "/contractors", NEW_CONTRACTOR,
                        save=("new_contractor", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/registry/contractors/{contractor_id}": {
        "change": write("PATCH", REG + "/contractors/{new_contractor}", {"name": "矩阵运维乙"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/contractors/{contractor_id}": {
        "no csrf": write("DELETE", REG + "/contractors/{new_contractor}", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", REG + "/contractors/{new_contractor}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/enterprises/{enterprise_id}": {
        "no csrf": write("DELETE", REG + "/enterprises/{new_enterprise}", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", REG + "/enterprises/{new_enterprise}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    # Contaminated plots (污染地块), a bottom-line register: scoped by county and by
    # the enterprise that answers for the plot; changed by city administrators.
    "GET /api/v1/registry/contaminated-plots": {
        "in": get(REG + "/contaminated-plots?limit=500",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("id", "{plot_in}")),
        "out": get(REG + "/contaminated-plots?limit=500",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("id", "{plot_out}")),
    },
    "GET /api/v1/registry/contaminated-plots/{plot_id}": {
        "in": get(REG + "/contaminated-plots/{plot_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get(REG + "/contaminated-plots/{plot_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(REG + "/contaminated-plots/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/registry/contaminated-plots": {
        "create": write("POST", REG + "/contaminated-plots", NEW_PLOT, save=("new_plot", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/registry/contaminated-plots/{plot_id}": {
        "change": write("PATCH", REG + "/contaminated-plots/{new_plot}", {"status": "safe_use"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/registry/contaminated-plots/{plot_id}": {
        "no csrf": write("DELETE", REG + "/contaminated-plots/{new_plot}", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", REG + "/contaminated-plots/{new_plot}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/registry/contaminated-plots/import": {
        "no csrf": write("POST", REG + "/contaminated-plots/import?name=x.csv", content=BAD_IMPORT,
                         content_type="text/csv", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "bad file": write("POST", REG + "/contaminated-plots/import?name=x.csv",
                          content=BAD_IMPORT, content_type="text/csv",
                          expect=row(401, 422, 403, 403, 403, 403, 403, 403, 403)),
    },
    **REGISTER_ROWS,
    # Positive lists (正面清单): read in scope by enterprise; changed by city
    # administrators and supervisors. The supervisor asks before the
    # administrator, so the admission is the supervisor's and the administrator
    # finds the enterprise listed already (409: allowed, refused by the register).
    "GET /api/v1/positive-lists": {
        "in": get("/api/v1/positive-lists?limit=500&kind=eia",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("id", "{listed_in}")),
        "out": get("/api/v1/positive-lists?limit=500&kind=eia",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("id", "{listed_out}")),
    },
    "GET /api/v1/positive-lists/{entry_id}": {
        "in": get("/api/v1/positive-lists/{listed_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/positive-lists/{listed_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get("/api/v1/positive-lists/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "GET /api/v1/positive-lists/criteria": {
        "any": get("/api/v1/positive-lists/criteria",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "POST /api/v1/positive-lists": {
        "no csrf": write("POST", "/api/v1/positive-lists", NEW_LISTING, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "admit": write("POST", "/api/v1/positive-lists", NEW_LISTING, save=("new_listing", "id"),
                       expect=row(401, 409, 201, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/positive-lists/{entry_id}": {
        "change": write("PATCH", "/api/v1/positive-lists/{new_listing}", {"reason": "矩阵修改"},
                        expect=row(401, 200, 200, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/positive-lists/imports": {
        "refused rows": Case("POST", "/api/v1/positive-lists/imports?name=m.csv",
                             content=BAD_IMPORT, content_type="text/csv",
                             expect=row(401, 422, 422, 403, 403, 403, 403, 403, 403)),
    },
    # Total-quantity ledgers (总量指标台账): a county's; balances for the city's
    # roles and the county's officers, entries also for the enterprise named.
    "GET /api/v1/quota/balances": {
        "in": get("/api/v1/quota/balances", row(401, _S, _S, _S, _S, _S, _U, _U, _U),
                  lists=("county", "{county_in}")),
        "out": get("/api/v1/quota/balances", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("county", "{county_out}")),
    },
    "GET /api/v1/quota/entries": {
        "in": get("/api/v1/quota/entries", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("id", "{quota_in}")),
        "out": get("/api/v1/quota/entries", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{quota_out}")),
    },
    "POST /api/v1/quota/freed": {
        "no csrf": write("POST", "/api/v1/quota/freed", NEW_FREED, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "record": write("POST", "/api/v1/quota/freed", NEW_FREED, save=("new_freed", "id"),
                        expect=row(401, 201, 201, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/quota/allocations": {
        "too much": write("POST", "/api/v1/quota/allocations", TOO_MUCH,
                          expect=row(401, 409, 409, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/quota/entries/{entry_id}/cancel": {
        "cancel": write("POST", "/api/v1/quota/entries/{new_freed}/cancel", {"reason": "矩阵作废"},
                        expect=row(401, 409, 200, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/quota/imports": {
        "refused rows": Case("POST", "/api/v1/quota/imports?name=m.csv",
                             content=BAD_IMPORT, content_type="text/csv",
                             expect=row(401, 422, 422, 403, 403, 403, 403, 403, 403)),
    },
    # The permit audit (审计式监管): files made by supervisors (not the viewer)
    # of enterprises they see, read by all who see the enterprise.
    "GET /api/v1/permits/usage": {
        "in": get("/api/v1/permits/usage?year=2026", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("enterprise_id", "{enterprise_in}")),
        "out": get("/api/v1/permits/usage?year=2026", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("enterprise_id", "{enterprise_out}")),
        "csv": get("/api/v1/permits/usage?year=2026&format=csv",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "bad sort": get("/api/v1/permits/usage?sort=nothing",
                        row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    # Manual monitoring results (手工监测): imported by city administrators, listed in scope.
    "GET /api/v1/permits/manual-results": {
        "in": get("/api/v1/permits/manual-results", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("enterprise_id", "{enterprise_in}")),
        "out": get("/api/v1/permits/manual-results?enterprise={enterprise_out}",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("enterprise_id", "{enterprise_out}")),
        "bad limit": get("/api/v1/permits/manual-results?limit=0",
                         row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "POST /api/v1/permits/manual-results": {
        "no csrf": Case("POST", "/api/v1/permits/manual-results?name=m.csv", csrf=False,
                        content=BAD_IMPORT, content_type="text/csv",
                        expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "refused rows": Case("POST", "/api/v1/permits/manual-results?name=m.csv",
                             content=BAD_IMPORT, content_type="text/csv",
                             expect=row(401, 422, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/enterprises/{enterprise_id}/audit-files": {
        "no csrf": write("POST", "/api/v1/enterprises/{enterprise_in}/audit-files", AUDIT_FILE,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/enterprises/{enterprise_in}/audit-files", AUDIT_FILE,
                    expect=row(401, 201, 201, 201, 403, 201, 403, 404, 403)),
        "out": write("POST", "/api/v1/enterprises/{enterprise_out}/audit-files", AUDIT_FILE,
                     expect=row(401, 201, 201, 201, 403, 404, 404, 404, 403)),
        "unknown": write("POST", f"/api/v1/enterprises/{UNKNOWN_ID}/audit-files", AUDIT_FILE,
                         expect=row(401, 404, 404, 404, 404, 404, 404, 404, 403)),
    },
    "GET /api/v1/enterprises/{enterprise_id}/audit-files": {
        "in": get("/api/v1/enterprises/{enterprise_in}/audit-files",
                  row(401, _S, _S, _S, _S, _S, _S, 404, _S), lists=("id", "{audit_in}")),
        "out": get("/api/v1/enterprises/{enterprise_out}/audit-files",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(f"/api/v1/enterprises/{UNKNOWN_ID}/audit-files",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "GET /api/v1/audit-files/{run_id}": {
        "in": get("/api/v1/audit-files/{audit_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/audit-files/{audit_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(f"/api/v1/audit-files/{UNKNOWN_ID}",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "GET /api/v1/audit-files/{run_id}/{kind}": {
        "in": get("/api/v1/audit-files/{audit_in}/xlsx",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/audit-files/{audit_out}/pdf",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(f"/api/v1/audit-files/{UNKNOWN_ID}/pdf",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
        "bad kind": get("/api/v1/audit-files/{audit_in}/docx",
                        row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    # Carbon beside pollutants: the enterprises in scope (a contractor sees none).
    "GET /api/v1/carbon/summary": {
        "in": get("/api/v1/carbon/summary?year=2026&enterprise={enterprise_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/carbon/summary?year=2026&enterprise={enterprise_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
    },
    # Imports and exports are the city administrator's, jobs included.
    "POST /api/v1/registry/imports": {
        "no csrf": Case("POST", REG + "/imports?kind=enterprises", csrf=False,
                        content=BAD_IMPORT, content_type="text/csv",
                        expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "refused rows": Case("POST", REG + "/imports?kind=enterprises", save=("new_import", "id"),
                             content=BAD_IMPORT, content_type="text/csv",
                             expect=row(401, 202, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/imports/{job_id}": {
        "job": get(REG + "/imports/{new_import}", row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "unknown": get(REG + "/imports/" + UNKNOWN_ID,
                       row(401, 404, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/registry/exports": {
        "json": write("POST", REG + "/exports?format=json", save=("new_export", "id"),
                      expect=row(401, 202, 403, 403, 403, 403, 403, 403, 403)),
        "no csrf": write("POST", REG + "/exports?format=json", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/exports/{job_id}": {
        "job": get(REG + "/exports/{new_export}", row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/registry/exports/{job_id}/file": {
        "file": Case("GET", REG + "/exports/{new_export}/file", poll_while=409,
                     expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/coverage/gaps": {
        "any": get("/api/v1/coverage/gaps", row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    # --- zoning (三线一单) and emergency lists ------------------------------
    # The zoning plan is public to everyone logged in; the mismatches and the
    # compliance report are scoped like the enterprises they name.
    "GET /api/v1/zoning/units": {
        "any": get("/api/v1/zoning/units", row(401, _S, _S, _S, _S, _S, _S, _S, _S),
                   lists=("code", "MATRIX-UNIT")),
    },
    "GET /api/v1/zoning/check": {
        "any": get("/api/v1/zoning/check?lon=116.0&lat=36.4&industry=2614",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "bad": get("/api/v1/zoning/check?lon=500&lat=36.4&industry=x",
                   row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "GET /api/v1/zoning/mismatches": {
        "in": get("/api/v1/zoning/mismatches", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("enterprise_id", "{enterprise_in}")),
        "out": get("/api/v1/zoning/mismatches", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("enterprise_id", "{enterprise_out}")),
    },
    "GET /api/v1/emergency/warnings/{warning_id}/assessment": {
        "unknown": get(f"/api/v1/emergency/warnings/{UNKNOWN_ID}/assessment",
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # Warnings: the city's by city supervisors and administrators, a county's
    # also by its county officers; nobody else (rules.md §3.4, registry/maintenance.py).
    "POST /api/v1/emergency/warnings": {
        "no csrf": write("POST", "/api/v1/emergency/warnings", CITY_WARNING, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "city": write("POST", "/api/v1/emergency/warnings", CITY_WARNING,
                      expect=row(401, 201, 201, 403, 403, 403, 403, 403, 403)),
        "county": write("POST", "/api/v1/emergency/warnings",
                        {**CITY_WARNING, "county_code": "{county_in}"},
                        expect=row(401, 201, 201, 403, 403, 201, 403, 403, 403)),
        "other county": write("POST", "/api/v1/emergency/warnings",
                              {**CITY_WARNING, "county_code": "{county_out}"},
                              expect={"anonymous": 401, "county": 403, "enterprise": 403}),
    },
    # Emergency-list lines: read in scope like meters, changed by city administrators.
    "GET /api/v1/emergency/lines": {
        "in": get(EL + "/lines?limit=500&enterprise_id={enterprise_in}",
                  row(401, _S, _S, _S, _S, _S, _S, _U, _S), lists=("id", "{line_in}")),
        "out": get(EL + "/lines?limit=500&enterprise_id={enterprise_out}",
                   row(401, _S, _S, _S, _S, _U, _U, _U, _U), lists=("id", "{line_out}")),
    },
    "GET /api/v1/emergency/lines/{line_id}": {
        "in": get(EL + "/lines/{line_in}", row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get(EL + "/lines/{line_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get(EL + "/lines/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/emergency/lines": {
        "create": write("POST", EL + "/lines", NEW_LINE, save=("new_line", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/emergency/lines/{line_id}": {
        "change": write("PATCH", EL + "/lines/{new_line}", {"measures": {"red": "停产"}},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/emergency/lines/{line_id}": {
        "no csrf": write("DELETE", EL + "/lines/{new_line}", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", EL + "/lines/{new_line}",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/emergency/lists": {
        "in": get(EL + "/lists", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("enterprise_id", "{enterprise_in}")),
        "out": get(EL + "/lists", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("enterprise_id", "{enterprise_out}")),
    },
    # Changing a warning: who may declare it (tested in test_emergency_pages);
    # here the CSRF token and an unknown warning, alike for every person.
    "POST /api/v1/emergency/warnings/{warning_id}/change": {
        "no csrf": write("POST", f"/api/v1/emergency/warnings/{UNKNOWN_ID}/change",
                         {"at": "2026-12-10T12:00:00", "level": None}, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "unknown": write("POST", f"/api/v1/emergency/warnings/{UNKNOWN_ID}/change",
                         {"at": "2026-12-10T12:00:00", "level": "red"},
                         expect=row(401, 404, 404, 404, 404, 404, 404, 404, 403)),
    },
    "GET /api/v1/emergency/emissions": {
        "any": get("/api/v1/emergency/emissions?day=2026-11-29",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "bad": get("/api/v1/emergency/emissions?day=2026-13-40",
                   row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    "GET /api/v1/emergency/compliance": {
        "any": get("/api/v1/emergency/compliance?day=2026-11-29",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "bad": get("/api/v1/emergency/compliance?day=2026-13-40",
                   row(401, 422, 422, 422, 422, 422, 422, 422, 422)),
    },
    # --- enforcement cases and notifications ------------------------------
    # A case is an enterprise's, no device's: a contractor sees none.
    "GET /api/v1/cases": {
        "in": get("/api/v1/cases?limit=500", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("id", "{case_in}")),
        "out": get("/api/v1/cases?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{case_out}")),
    },
    "GET /api/v1/cases/{case_id}": {
        "in": get("/api/v1/cases/{case_in}", row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/cases/{case_out}", row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get("/api/v1/cases/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # Who may open and record cases the rules do not say, beyond scope and CSRF.
    "POST /api/v1/cases": {
        "no csrf": write("POST", "/api/v1/cases", {"alert_ids": ["#alert_ent_only"]}, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "out": write("POST", "/api/v1/cases", {"alert_ids": ["#alert_out"]},
                     expect={"anonymous": 401, "county": 404, "enterprise": _O,
                             "contractor": _O, "token": 403}),
        "open": write("POST", "/api/v1/cases", {"alert_ids": ["#alert_ent_only"]},
                      expect={"anonymous": 401, "admin": 201, "token": 403}),
    },
    "POST /api/v1/cases/{case_id}/record": {
        "no csrf": write("POST", "/api/v1/cases/{case_in}/record", {"findings": "矩阵"},
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "out": write("POST", "/api/v1/cases/{case_out}/record", {"findings": "矩阵"},
                     expect={"anonymous": 401, "county": 404, "enterprise": _O,
                             "contractor": _O, "token": 403}),
        "record": write("POST", "/api/v1/cases/{case_in}/record", {"findings": "矩阵"},
                        expect={"anonymous": 401, "admin": 200, "token": 403}),
    },
    "GET /api/v1/notifications": {
        "any": get("/api/v1/notifications", row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/notification-targets": {
        "any": get("/api/v1/notification-targets",
                   row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    # --- user accounts: kept by city administrators; one's own for everyone --
    "POST /api/v1/users": {
        "no csrf": write("POST", "/api/v1/users", NEW_USER, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "create": write("POST", "/api/v1/users", NEW_USER, save=("new_user", "id"),
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/users": {
        "in": get("/api/v1/users?limit=500", row(401, _S, 403, 403, 403, 403, 403, 403, 403),
                  lists=("id", "{new_user}")),
    },
    "PATCH /api/v1/users/{user_id}": {
        "change": write("PATCH", "/api/v1/users/{new_user}", {"display_name": "矩阵用户乙"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "no csrf": write("PATCH", "/api/v1/users/{new_user}", {"display_name": "矩阵"},
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "unknown": write("PATCH", "/api/v1/users/" + UNKNOWN_ID, {"display_name": "矩阵"},
                         expect=row(401, 404, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/users/{user_id}/password": {
        "reset": write("POST", "/api/v1/users/{new_user}/password",
                       {"password": "matrix-password-2"},
                       expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
        "no csrf": write("POST", "/api/v1/users/{new_user}/password",
                         {"password": "matrix-password-3"}, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/users/{user_id}/unlock": {
        "unlock": write("POST", "/api/v1/users/{new_user}/unlock",
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    # A token is no account: whether it reads "me" as 403 or 404 the rules leave open.
    "GET /api/v1/me": {
        "any": get("/api/v1/me", row(401, 200, 200, 200, 200, 200, 200, 200, _O)),
    },
    # Changing one's own password for real would end the matrix's sessions: refusals only.
    "POST /api/v1/me/password": {
        "no csrf": write("POST", "/api/v1/me/password", WRONG_CURRENT, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "wrong current": write("POST", "/api/v1/me/password", WRONG_CURRENT,
                               expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
    },
    # --- machine endpoints ------------------------------------------------
    "POST /api/v1/hj212/decode": {
        "frame": Case(
            "POST", "/api/v1/hj212/decode", content=FRAME, content_type="application/octet-stream",
            expect=row(401, 200, 200, 200, 200, 200, 200, 200, 403),
        ),
    },
    "POST /api/v1/electricity/readings": {
        "reading": Case(
            "POST", "/api/v1/electricity/readings", content_type="application/x-ndjson",
            content=b'{"meter": {meter_in}, "time": "20261129100000", "power_kw": 1.0}',
            expect=row(401, 401, 401, 401, 401, 401, 401, 401, 403) | {"meter_writer": 200},
        ),
    },
    # --- pages ------------------------------------------------------------
    "GET /": {
        "in": get("/", row(_P, _S, _S, _S, _S, _S, _S, _S, _P),
                  lists=("html", 'href="/alerts/{alert_in}"')),
        "out": get("/", row(_P, _S, _S, _S, _S, _U, _U, _U, _P),
                   lists=("html", 'href="/alerts/{alert_out}"')),
    },
    "GET /alerts": {
        "in": get("/alerts", row(_L, _S, _S, _S, _S, _S, _S, _S, _L),
                  lists=("html", 'href="/alerts/{alert_in}"')),
        "out": get("/alerts", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'href="/alerts/{alert_out}"')),
    },
    "GET /alerts/{alert_id}": {
        "in": get("/alerts/{alert_in}", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
        "out": get("/alerts/{alert_out}", row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "ent only": get("/alerts/{alert_ent_only}",
                        row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "elsewhere": get("/alerts/{alert_elsewhere}",
                         row(_L, 200, 200, 200, 200, 404, 404, 200, _L)),
        "unknown": get("/alerts/" + UNKNOWN_ID, row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "POST /alerts/{alert_id}/act": {
        "comment in": Case(
            "POST", "/alerts/{alert_in}/act", form=COMMENT,
            expect=row(_L, 303, 303, 303, 409, 303, 409, 409, _L),
        ),
        "comment out": Case(
            "POST", "/alerts/{alert_out}/act", form=COMMENT,
            expect=row(_L, 303, 303, 303, 409, 404, 404, 404, _L),
        ),
        "no csrf": Case(
            "POST", "/alerts/{alert_in}/act", form=COMMENT, csrf=False,
            expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L),
        ),
        "unknown": Case(
            "POST", f"/alerts/{UNKNOWN_ID}/act", form=COMMENT,
            expect=row(_L, 404, 404, 404, 404, 404, 404, 404, _L),
        ),
    },
    # An enterprise user is sent to its own enterprise's page.
    "GET /enterprises": {
        "in": get("/enterprises", row(_L, _S, _S, _S, _S, _S, 303, _U, _L),
                  lists=("html", 'href="/enterprises/{enterprise_in}"')),
        "out": get("/enterprises", row(_L, _S, _S, _S, _S, _U, 303, _U, _L),
                   lists=("html", 'href="/enterprises/{enterprise_out}"')),
    },
    "GET /registry": {
        "any": get("/registry", row(_L, 200, 200, 200, 200, 200, 200, _O, _L)),
    },
    "GET /registers": {
        "any": get("/registers", row(_L, 200, 200, 200, 200, 200, 200, _O, _L)),
        "in": get("/registers?kind=medical_institution",
                  row(_L, _S, _S, _S, _S, _S, _S, _U, _L), lists=("html", "矩阵医院in")),
        "out": get("/registers?kind=medical_institution",
                   row(_L, _S, _S, _S, _S, _U, _U, _U, _L), lists=("html", "矩阵医院out")),
    },
    "GET /coverage": {
        "any": get("/coverage", row(_L, 200, 200, 200, 200, 200, 403, 403, _L)),
    },
    "GET /emergency": {
        "any": get("/emergency", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
        "day": get("/emergency?day=2026-11-29", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
    },
    "GET /zoning": {
        "in": get("/zoning", row(_L, _S, _S, _S, _S, _S, _S, _U, _L),
                  lists=("html", 'data-enterprise="{enterprise_in}"')),
        "out": get("/zoning", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'data-enterprise="{enterprise_out}"')),
    },
    "GET /cases": {
        "in": get("/cases", row(_L, _S, _S, _S, _S, _S, _S, _U, _L),
                  lists=("html", 'href="/cases/{case_in}"')),
        "out": get("/cases", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'href="/cases/{case_out}"')),
    },
    "GET /cases/{case_id}": {
        "in": get("/cases/{case_in}", row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/cases/{case_out}", row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/cases/" + UNKNOWN_ID, row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "POST /cases": {
        "no csrf": Case("POST", "/cases", form={"alert_id": "{alert_elsewhere}"}, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "out": Case("POST", "/cases", form={"alert_id": "{alert_out}"},
                    expect={"anonymous": _L, "county": 404, "enterprise": _O,
                            "contractor": _O, "token": _L}),
        "open": Case("POST", "/cases", form={"alert_id": "{alert_elsewhere}"},
                     expect={"anonymous": _L, "admin": 303, "token": _L}),
    },
    "POST /cases/{case_id}/record": {
        "no csrf": Case("POST", "/cases/{case_in}/record", form={"findings": "矩阵"},
                        csrf=False, expect=row(_L, 403, 403, 403, 403, 403, 403, 404, _L)),
        "out": Case("POST", "/cases/{case_out}/record", form={"findings": "矩阵"},
                    expect={"anonymous": _L, "county": 404, "enterprise": _O,
                            "contractor": _O, "token": _L}),
        "record": Case("POST", "/cases/{case_in}/record", form={"findings": "矩阵"},
                       expect={"anonymous": _L, "admin": 303, "token": _L}),
    },
    "GET /account": {
        "any": get("/account", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
    },
    "POST /account/password": {
        "no csrf": Case("POST", "/account/password", form=WRONG_CURRENT_FORM, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
    },
    # The accounts page is the administrator's; refused to others (403 or 404).
    "GET /users": {
        "any": get("/users", row(_L, 200, _R, _R, _R, _R, _R, _R, _L)),
    },
    "POST /users": {
        "no csrf": Case("POST", "/users", form=NEW_USER_FORM, csrf=False,
                        expect=row(_L, 403, _R, _R, _R, _R, _R, _R, _L)),
        "add": Case("POST", "/users", form=NEW_USER_FORM,
                    expect=row(_L, 303, _R, _R, _R, _R, _R, _R, _L)),
    },
    "POST /users/{user_id}": {
        "no csrf": Case("POST", "/users/{new_user}", form={"action": "unlock"}, csrf=False,
                        expect=row(_L, 403, _R, _R, _R, _R, _R, _R, _L)),
        "unlock": Case("POST", "/users/{new_user}", form={"action": "unlock"},
                       expect=row(_L, 303, _R, _R, _R, _R, _R, _R, _L)),
    },
    # The replay page: city administrators only, refused (403) as the replay API refuses.
    "GET /processing/replays": {
        "any": get(REPLAY_PAGE, row(_L, 200, 403, 403, 403, 403, 403, 403, _L)),
    },
    "POST /processing/replays": {
        "no csrf": Case("POST", REPLAY_PAGE, form=REPLAY_FORM, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "dry run": Case("POST", REPLAY_PAGE, form=REPLAY_FORM,
                        expect=row(_L, 303, 403, 403, 403, 403, 403, 403, _L)),
    },
    "POST /processing/replays/{job_id}/cancel": {
        "no csrf": Case("POST", f"{REPLAY_PAGE}/{UNKNOWN_ID}/cancel", form={}, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "unknown": Case("POST", f"{REPLAY_PAGE}/{UNKNOWN_ID}/cancel", form={},
                        expect=row(_L, 404, 403, 403, 403, 403, 403, 403, _L)),
    },
    "GET /points/{mn}": {
        "in": get("/points/{mn_in}", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
        "out": get("/points/{mn_out}", row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "ent only": get("/points/{mn_ent_only}", row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "elsewhere": get("/points/{mn_elsewhere}",
                         row(_L, 200, 200, 200, 200, 404, 404, 200, _L)),
        "unknown": get("/points/" + UNKNOWN_MN, row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    # An enterprise is no device: a contractor sees none.
    "GET /permits/usage": {
        "page": get("/permits/usage?year=2026&sort=share",
                    row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
    },
    "GET /enterprises/{enterprise_id}/audit": {
        "in": get("/enterprises/{enterprise_in}/audit",
                  row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/enterprises/{enterprise_out}/audit",
                   row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/enterprises/" + UNKNOWN_ID + "/audit",
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "POST /enterprises/{enterprise_id}/audit": {
        "in": Case("POST", "/enterprises/{enterprise_in}/audit", form=AUDIT_FILE,
                   expect=row(_L, 303, 303, 303, 403, 303, 403, 404, _L)),
        "out": Case("POST", "/enterprises/{enterprise_out}/audit", form=AUDIT_FILE,
                    expect=row(_L, 303, 303, 303, 403, 404, 404, 404, _L)),
        "no csrf": Case("POST", "/enterprises/{enterprise_in}/audit", form=AUDIT_FILE,
                        csrf=False, expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "unknown": Case("POST", "/enterprises/" + UNKNOWN_ID + "/audit", form=AUDIT_FILE,
                        expect=row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "GET /audit-files/{run_id}": {
        "in": get("/audit-files/{audit_in}", row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/audit-files/{audit_out}", row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/audit-files/" + UNKNOWN_ID,
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "GET /enterprises/{enterprise_id}/emissions": {
        "in": get("/enterprises/{enterprise_in}/emissions",
                  row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/enterprises/{enterprise_out}/emissions?year=2026",
                   row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/enterprises/" + UNKNOWN_ID + "/emissions",
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "GET /enterprises/{enterprise_id}": {
        "in": get("/enterprises/{enterprise_in}", row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/enterprises/{enterprise_out}",
                   row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/enterprises/" + UNKNOWN_ID,
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    # --- environmental quality: public figures, changes by city administrators ---
    "GET /api/v1/quality/stations": {
        "any": get(Q + "/stations", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/stations/{code}": {
        "known": get(Q + "/stations/LC-A01", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "unknown": get(Q + "/stations/NO-SUCH", row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/quality/stations": {
        "create": write("POST", Q + "/stations", NEW_STATION,
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/quality/stations/{code}": {
        "change": write("PATCH", Q + "/stations/MTX-A1", {"name": "矩阵站点乙"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/quality/stations/{code}": {
        "no csrf": write("DELETE", Q + "/stations/MTX-A1", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "delete": write("DELETE", Q + "/stations/MTX-A1",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/quality/sections": {
        "any": get(Q + "/sections", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/sections/{code}": {
        "known": get(Q + "/sections/LC-W09", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "unknown": get(Q + "/sections/NO-SUCH", row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/quality/sections": {
        "create": write("POST", Q + "/sections", NEW_SECTION,
                        expect=row(401, 201, 403, 403, 403, 403, 403, 403, 403)),
    },
    "PATCH /api/v1/quality/sections/{code}": {
        "change": write("PATCH", Q + "/sections/MTX-W1", {"target_class": "II"},
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "DELETE /api/v1/quality/sections/{code}": {
        "delete": write("DELETE", Q + "/sections/MTX-W1",
                        expect=row(401, 204, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/quality/stations/{code}/days": {
        "any": get(Q + "/stations/LC-A01/days", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/stations/{code}/hours": {
        "any": get(Q + "/stations/LC-A01/hours", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/ranking": {
        "any": get(Q + "/ranking", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/water": {
        "any": get(Q + "/water", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/sections/{code}/months": {
        "any": get(Q + "/sections/LC-W09/months", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/quality/targets": {
        "any": get(Q + "/targets", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "PUT /api/v1/quality/targets": {
        "set": write("PUT", Q + "/targets", NEW_TARGET,
                     expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/quality/province": {
        "any": get(Q + "/province", row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "POST /api/v1/quality/province": {
        "import": write("POST", Q + "/province", content=PROVINCE_CSV, content_type="text/csv",
                        expect=row(401, 200, 403, 403, 403, 403, 403, 403, 403)),
    },
    "GET /quality": {
        "any": get("/quality", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
    },
    "GET /quality/stations/{code}": {
        "known": get("/quality/stations/LC-A01", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
        "unknown": get("/quality/stations/NO-SUCH",
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "GET /quality/sections/{code}": {
        "known": get("/quality/sections/LC-W09", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
        "unknown": get("/quality/sections/NO-SUCH",
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    # --- rectification (集中整改, issue 15) ---------------------------------
    # Problems are scoped like cases (county, enterprise; none by device, so a
    # contractor sees none); actions follow rectification/workflow.toml (a
    # role it does not allow: 409); evidence is added by the roles of actions
    # that need it (county officer, enterprise user: 403 for the rest).
    "GET /api/v1/problems": {
        "in": get("/api/v1/problems?limit=500", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("id", "{problem_in}")),
        "out": get("/api/v1/problems?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{problem_out}")),
    },
    # Feedback lists are imported by the city bureau (who assigns); a bad file
    # is refused whole (422), so the table can ask it of everyone.
    "POST /api/v1/problems/imports": {
        "no csrf": write("POST", "/api/v1/problems/imports?name=list.csv", content=BAD_IMPORT,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "bad list": write("POST", "/api/v1/problems/imports?name=list.csv", content=BAD_IMPORT,
                          expect=row(401, 422, 422, 403, 403, 403, 403, 403, 403)),
    },
    "POST /api/v1/problems": {
        "no csrf": write("POST", "/api/v1/problems", NEW_PROBLEM, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "register": write("POST", "/api/v1/problems", NEW_PROBLEM,
                          expect={"anonymous": 401, "enforcer": 403, "viewer": 403,
                                  "county": 403, "enterprise": 403, "contractor": 403,
                                  "token": 403, "admin": 201}),
        "again": write("POST", "/api/v1/problems", NEW_PROBLEM, expect={"supervisor": 422}),
    },
    "GET /api/v1/problems/{problem_id}": {
        "in": get("/api/v1/problems/{problem_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/problems/{problem_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get("/api/v1/problems/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/problems/{problem_id}/actions": {
        "no csrf": write("POST", "/api/v1/problems/{problem_in}/actions", COMMENT, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/problems/{problem_in}/actions", COMMENT,
                    expect=row(401, 200, 200, 200, 409, 200, 409, 404, 403)),
        "out": write("POST", "/api/v1/problems/{problem_out}/actions", COMMENT,
                     expect=row(401, 200, 200, 200, 409, 404, 404, 404, 403)),
    },
    "POST /api/v1/evidence": {
        "no csrf": write("POST", "/api/v1/evidence?problem={problem_in}&name=m.pdf",
                         content=PDF_FILE, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/evidence?problem={problem_in}&name=m.pdf",
                    content=PDF_FILE, expect=row(401, 403, 403, 403, 403, 201, 201, 404, 403)),
        "out": write("POST", "/api/v1/evidence?problem={problem_out}&name=m.pdf",
                     content=PDF_FILE, expect=row(401, 403, 403, 403, 403, 404, 404, 404, 403)),
    },
    "GET /api/v1/problems/{problem_id}/files/{sha256}": {
        "in": get("/api/v1/problems/{problem_in}/files/{file_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/problems/{problem_out}/files/{file_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "not this problem's": get("/api/v1/problems/{problem_out}/files/{file_in}",
                                  row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "GET /api/v1/problems/{problem_id}/dossier": {
        "in": get("/api/v1/problems/{problem_in}/dossier",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/problems/{problem_out}/dossier",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
    },
    # An alert's files (the same evidence store) follow the alert's scope.
    # Any role that acts on alerts may keep a file for a later action on one it
    # sees (the viewer acts on none); out of scope reads as unknown.
    "POST /api/v1/alert-evidence": {
        "no csrf": write("POST", "/api/v1/alert-evidence?alert={alert_in}&name=m.pdf",
                         content=PDF_FILE, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/alert-evidence?alert={alert_in}&name=m.pdf",
                    content=PDF_FILE, expect=row(401, 201, 201, 201, 403, 201, 201, 201, 403)),
        "out": write("POST", "/api/v1/alert-evidence?alert={alert_out}&name=m.pdf",
                     content=PDF_FILE, expect=row(401, 201, 201, 201, 403, 404, 404, 404, 403)),
    },
    "GET /api/v1/alerts/{alert_id}/files/{sha256}": {
        "in": get("/api/v1/alerts/{alert_in}/files/{alert_file_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
        "out": get("/api/v1/alerts/{alert_out}/files/{alert_file_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "not this alert's": get("/api/v1/alerts/{alert_in}/files/{alert_file_out}",
                                row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    # Complaints name their complainant: supervisors only (by county), never
    # enterprises, contractors or an enterprise's token. Recording and turning a
    # complaint into a problem happen once: the first allowed principal
    # succeeds, the same again is refused (422 duplicate, 409 already a problem).
    "GET /api/v1/complaints": {
        "in": get("/api/v1/complaints?limit=500", row(401, _S, _S, _S, _S, _S, _U, _U, _U),
                  lists=("id", "{complaint_in}")),
        "out": get("/api/v1/complaints?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{complaint_out}")),
    },
    "POST /api/v1/complaints": {
        "no csrf": write("POST", "/api/v1/complaints", NEW_COMPLAINT, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "record": write("POST", "/api/v1/complaints", NEW_COMPLAINT,
                        expect={"anonymous": 401, "viewer": 403, "enterprise": 403,
                                "contractor": 403, "token": 403, "admin": 201}),
        "again": write("POST", "/api/v1/complaints", NEW_COMPLAINT,
                       expect={"supervisor": 422, "enforcer": 422}),
        "other county": write("POST", "/api/v1/complaints",
                              {**NEW_COMPLAINT, "reference": "MTX-2", "county": "{county_out}"},
                              expect={"county": 422}),
    },
    "GET /api/v1/complaints/hotspots": {
        "any": get("/api/v1/complaints/hotspots",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /api/v1/complaints/{complaint_id}": {
        "in": get("/api/v1/complaints/{complaint_in}",
                  row(401, 200, 200, 200, 200, 200, 404, 404, 404)),
        "out": get("/api/v1/complaints/{complaint_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get("/api/v1/complaints/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/complaints/{complaint_id}/reply": {
        "no csrf": write("POST", "/api/v1/complaints/{complaint_in}/reply", REPLY, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/complaints/{complaint_in}/reply", REPLY,
                    expect=row(401, 200, 200, 200, 403, 200, 404, 404, 403)),
        "out": write("POST", "/api/v1/complaints/{complaint_out}/reply", REPLY,
                     expect=row(401, 200, 200, 200, 403, 404, 404, 404, 403)),
    },
    "POST /api/v1/complaints/{complaint_id}/problem": {
        "no csrf": write("POST", "/api/v1/complaints/{complaint_in}/problem", TO_PROBLEM,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "refused": write("POST", "/api/v1/complaints/{complaint_in}/problem", TO_PROBLEM,
                         expect={"anonymous": 401, "viewer": 403, "enterprise": 404,
                                 "contractor": 404, "token": 403}),
        "out": write("POST", "/api/v1/complaints/{complaint_out}/problem", TO_PROBLEM,
                     expect={"county": 404}),
        "convert": write("POST", "/api/v1/complaints/{complaint_in}/problem", TO_PROBLEM,
                         expect={"admin": 201}),
        "again": write("POST", "/api/v1/complaints/{complaint_in}/problem", TO_PROBLEM,
                       expect={"supervisor": 409, "enforcer": 409, "county": 409}),
    },
    # --- the bottom line's sources (fire points, campaigns; issue 15 item 6) ---
    # Fire points are the supervisors' (by county), never an enterprise's;
    # imports are the city bureau's (who assigns problems).
    "GET /api/v1/fire-points": {
        "in": get("/api/v1/fire-points?limit=500", row(401, _S, _S, _S, _S, _S, _U, _U, _U),
                  lists=("id", "{fire_in}")),
        "out": get("/api/v1/fire-points?limit=500", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{fire_out}")),
    },
    "POST /api/v1/fire-points/imports": {
        "no csrf": write("POST", "/api/v1/fire-points/imports?name=f.csv", content=BAD_IMPORT,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "bad export": write("POST", "/api/v1/fire-points/imports?name=f.csv", content=BAD_IMPORT,
                            expect=row(401, 422, 422, 403, 403, 403, 403, 403, 403)),
    },
    # A campaign is seen by the city, by the officers of the counties it
    # covers and by whoever sees one of its targets; results are recorded by
    # inspectors (a county officer at their county's targets); files follow
    # the targets' scope.
    "GET /api/v1/campaigns": {
        "in": get("/api/v1/campaigns", row(401, _S, _S, _S, _S, _S, _S, _U, _S),
                  lists=("id", "{campaign_in}")),
        "out": get("/api/v1/campaigns", row(401, _S, _S, _S, _S, _U, _U, _U, _U),
                   lists=("id", "{campaign_out}")),
    },
    "POST /api/v1/campaigns": {
        "no csrf": write("POST", "/api/v1/campaigns", NEW_CAMPAIGN, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "create": write("POST", "/api/v1/campaigns", NEW_CAMPAIGN,
                        expect={"anonymous": 401, "enforcer": 403, "viewer": 403,
                                "county": 403, "enterprise": 403, "contractor": 403,
                                "token": 403, "admin": 201}),
        "again": write("POST", "/api/v1/campaigns", NEW_CAMPAIGN, expect={"supervisor": 422}),
    },
    "GET /api/v1/campaigns/{campaign_id}": {
        "in": get("/api/v1/campaigns/{campaign_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/campaigns/{campaign_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "unknown": get("/api/v1/campaigns/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "POST /api/v1/campaigns/{campaign_id}/results": {
        "no csrf": write("POST", "/api/v1/campaigns/{campaign_in}/results", RESULT_IN,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/campaigns/{campaign_in}/results", RESULT_IN,
                    expect=row(401, 200, 200, 200, 403, 200, 403, 403, 403)),
        "out": write("POST", "/api/v1/campaigns/{campaign_in}/results", RESULT_OUT,
                     expect=row(401, 200, 200, 200, 403, 422, 403, 403, 403)),
        "out campaign": write("POST", "/api/v1/campaigns/{campaign_out}/results", RESULT_OUT,
                              expect={"county": 404}),
    },
    "POST /api/v1/campaign-evidence": {
        "no csrf": write("POST", "/api/v1/campaign-evidence?campaign={campaign_in}&name=m.pdf",
                         content=PDF_FILE, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "in": write("POST", "/api/v1/campaign-evidence?campaign={campaign_in}&name=m.pdf",
                    content=PDF_FILE, expect=row(401, 201, 201, 201, 403, 201, 403, 404, 403)),
        "out": write("POST", "/api/v1/campaign-evidence?campaign={campaign_out}&name=m.pdf",
                     content=PDF_FILE, expect=row(401, 201, 201, 201, 403, 404, 404, 404, 403)),
    },
    "GET /api/v1/campaigns/{campaign_id}/files/{sha256}": {
        "in": get("/api/v1/campaigns/{campaign_in}/files/{cfile_in}",
                  row(401, 200, 200, 200, 200, 200, 200, 404, 200)),
        "out": get("/api/v1/campaigns/{campaign_in}/files/{cfile_out}",
                   row(401, 200, 200, 200, 200, 404, 404, 404, 404)),
        "not this campaign's": get("/api/v1/campaigns/{campaign_out}/files/{cfile_in}",
                                   row(401, 404, 404, 404, 404, 404, 404, 404, 404)),
    },
    "GET /fire-points": {
        "in": get("/fire-points", row(_L, _S, _S, _S, _S, _S, _U, _U, _L),
                  lists=("html", 'id="fire-{fire_in}"')),
        "out": get("/fire-points", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'id="fire-{fire_out}"')),
    },
    "GET /campaigns": {
        "in": get("/campaigns", row(_L, _S, _S, _S, _S, _S, _S, _U, _L),
                  lists=("html", 'href="/campaigns/{campaign_in}"')),
        "out": get("/campaigns", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'href="/campaigns/{campaign_out}"')),
    },
    "GET /campaigns/{campaign_id}": {
        "in": get("/campaigns/{campaign_in}", row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/campaigns/{campaign_out}", row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/campaigns/" + UNKNOWN_ID, row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    # The page's creation form: the city bureau; the same name twice is refused.
    "POST /campaigns": {
        "no csrf": Case("POST", "/campaigns", form=NEW_CAMPAIGN_FORM, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "create": Case("POST", "/campaigns", form=NEW_CAMPAIGN_FORM,
                       expect={"anonymous": _L, "enforcer": 403, "viewer": 403, "county": 403,
                               "enterprise": 403, "contractor": 403, "token": _L,
                               "admin": 303}),
        "again": Case("POST", "/campaigns", form=NEW_CAMPAIGN_FORM, expect={"supervisor": 422}),
    },
    "POST /campaigns/{campaign_id}/results": {
        "no csrf": Case("POST", "/campaigns/{campaign_in}/results", form=RESULT_FORM_IN,
                        csrf=False, expect=row(_L, 403, 403, 403, 403, 403, 403, 404, _L)),
        "in": Case("POST", "/campaigns/{campaign_in}/results", form=RESULT_FORM_IN,
                   expect=row(_L, 303, 303, 303, 403, 303, 403, 404, _L)),
        "out": Case("POST", "/campaigns/{campaign_in}/results", form=RESULT_FORM_OUT,
                    expect=row(_L, 303, 303, 303, 403, 422, 403, 404, _L)),
    },
    "GET /api/v1/rectification/progress": {
        "any": get("/api/v1/rectification/progress",
                   row(401, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
    "GET /positive-lists": {
        "in": get("/positive-lists?kind=eia", row(_L, _S, _S, _S, _S, _S, _S, _U, _L),
                  lists=("html", 'href="/enterprises/{enterprise_in}"')),
        "out": get("/positive-lists?kind=eia", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'href="/enterprises/{enterprise_out}"')),
    },
    "GET /quota": {
        "in": get("/quota", row(_L, _S, _S, _S, _S, _S, _S, _U, _L),
                  lists=("html", 'href="/enterprises/{enterprise_in}"')),
        "out": get("/quota", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'href="/enterprises/{enterprise_out}"')),
    },
    "GET /carbon": {
        "any": get("/carbon?year=2026", row(_L, 200, 200, 200, 200, 200, 200, 200, _L)),
    },
    "GET /problems": {
        "in": get("/problems", row(_L, _S, _S, _S, _S, _S, _S, _U, _L),
                  lists=("html", 'href="/problems/{problem_in}"')),
        "out": get("/problems", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'href="/problems/{problem_out}"')),
    },
    "GET /problems/{problem_id}": {
        "in": get("/problems/{problem_in}", row(_L, 200, 200, 200, 200, 200, 200, 404, _L)),
        "out": get("/problems/{problem_out}", row(_L, 200, 200, 200, 200, 404, 404, 404, _L)),
        "unknown": get("/problems/" + UNKNOWN_ID,
                       row(_L, 404, 404, 404, 404, 404, 404, 404, _L)),
    },
    "POST /problems/{problem_id}/act": {
        "no csrf": Case("POST", "/problems/{problem_in}/act", form=COMMENT, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 404, _L)),
        "in": Case("POST", "/problems/{problem_in}/act", form=COMMENT,
                   expect=row(_L, 303, 303, 303, 409, 303, 409, 404, _L)),
        "out": Case("POST", "/problems/{problem_out}/act", form=COMMENT,
                    expect=row(_L, 303, 303, 303, 409, 404, 404, 404, _L)),
    },
    "GET /complaints": {
        "in": get("/complaints", row(_L, _S, _S, _S, _S, _S, _U, _U, _L),
                  lists=("html", 'id="complaint-{complaint_in}"')),
        "out": get("/complaints", row(_L, _S, _S, _S, _S, _U, _U, _U, _L),
                   lists=("html", 'id="complaint-{complaint_out}"')),
    },
    "POST /complaints": {
        "no csrf": Case("POST", "/complaints", form=COMPLAINT_FORM, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "record": Case("POST", "/complaints", form=COMPLAINT_FORM,
                       expect={"anonymous": _L, "viewer": 403, "enterprise": 403,
                               "contractor": 403, "token": _L, "admin": 303}),
        "again": Case("POST", "/complaints", form=COMPLAINT_FORM,
                      expect={"supervisor": 422, "enforcer": 422}),
        "other county": Case("POST", "/complaints",
                             form={**COMPLAINT_FORM, "reference": "MTX-F2",
                                   "county": "{county_out}"}, expect={"county": 422}),
    },
    "POST /complaints/{complaint_id}/reply": {
        "no csrf": Case("POST", "/complaints/{complaint_in}/reply", form=REPLY, csrf=False,
                        expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "in": Case("POST", "/complaints/{complaint_in}/reply", form=REPLY,
                   expect=row(_L, 303, 303, 303, 403, 303, 403, 403, _L)),
        "out": Case("POST", "/complaints/{complaint_out}/reply", form=REPLY,
                    expect=row(_L, 303, 303, 303, 403, 404, 403, 403, _L)),
    },
    # The API made the "in" complaint a problem already: the page's turn is "out".
    "POST /complaints/{complaint_id}/problem": {
        "no csrf": Case("POST", "/complaints/{complaint_out}/problem", form=TO_PROBLEM,
                        csrf=False, expect=row(_L, 403, 403, 403, 403, 403, 403, 403, _L)),
        "refused": Case("POST", "/complaints/{complaint_out}/problem", form=TO_PROBLEM,
                        expect={"anonymous": _L, "viewer": 403, "enterprise": 403,
                                "contractor": 403, "token": _L, "county": 404}),
        "convert": Case("POST", "/complaints/{complaint_out}/problem", form=TO_PROBLEM,
                        expect={"admin": 303}),
        "again": Case("POST", "/complaints/{complaint_out}/problem", form=TO_PROBLEM,
                      expect={"supervisor": 409, "enforcer": 409}),
        "in county": Case("POST", "/complaints/{complaint_in}/problem", form=TO_PROBLEM,
                          expect={"county": 409}),
    },
    # The county judgement (每周分析研判) is for supervisors: city roles and
    # county officers read it (a county officer's analysis covers the county);
    # the city bureau computes on demand and records interviews; listing
    # actions follow judgement/workflow.toml.
    "GET /api/v1/judgement/weeks": {
        "any": get("/api/v1/judgement/weeks", row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/judgement/weeks/{week}": {
        "any": get("/api/v1/judgement/weeks/2026-W40",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "POST /api/v1/judgement/weeks/{week}": {
        "no csrf": write("POST", "/api/v1/judgement/weeks/2026-W41", csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "compute": write("POST", "/api/v1/judgement/weeks/2026-W41",
                         expect=row(401, 201, 201, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/judgement/listings": {
        "any": get("/api/v1/judgement/listings",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/judgement/listings/{listing_id}": {
        "unknown": get("/api/v1/judgement/listings/" + UNKNOWN_ID,
                       row(401, 404, 404, 404, 404, 404, 403, 403, 403)),
    },
    "POST /api/v1/judgement/listings/{listing_id}/actions": {
        "no csrf": write("POST", f"/api/v1/judgement/listings/{UNKNOWN_ID}/actions", COMMENT,
                         csrf=False, expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "unknown": write("POST", f"/api/v1/judgement/listings/{UNKNOWN_ID}/actions", COMMENT,
                         expect=row(401, 404, 404, 404, 404, 404, 404, 404, 403)),
    },
    "GET /api/v1/judgement/interviews": {
        "any": get("/api/v1/judgement/interviews",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "POST /api/v1/judgement/interviews": {
        "no csrf": write("POST", "/api/v1/judgement/interviews", INTERVIEW, csrf=False,
                         expect=row(401, 403, 403, 403, 403, 403, 403, 403, 403)),
        "record": write("POST", "/api/v1/judgement/interviews", INTERVIEW,
                        expect=row(401, 201, 201, 403, 403, 403, 403, 403, 403)),
    },
    "GET /api/v1/judgement/eco-compensation": {
        "any": get("/api/v1/judgement/eco-compensation",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/judgement/reports": {
        "any": get("/api/v1/judgement/reports",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/judgement/reports/{week}.{file_format}": {
        "any": get("/api/v1/judgement/reports/2026-W40.xlsx",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/analysis": {
        "any": get("/api/v1/analysis?measure=alerts&by=county&period=2026-11",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /api/v1/analysis/rows": {
        "any": get("/api/v1/analysis/rows?measure=alerts&period=2026-11",
                   row(401, 200, 200, 200, 200, 200, 403, 403, 403)),
    },
    "GET /judgement": {
        "any": get("/judgement", row(_L, 200, 200, 200, 200, 200, 404, 404, _L)),
    },
    "GET /judgement/reports/{week}": {
        "any": get("/judgement/reports/2026-W40", row(_L, 200, 200, 200, 200, 200, 404, 404, _L)),
    },
    "GET /analysis": {
        "any": get("/analysis", row(_L, 200, 200, 200, 200, 200, 404, 404, _L)),
    },
    # The public notice (公示): no login, for everyone alike.
    "GET /notice": {
        "any": get("/notice", row(200, 200, 200, 200, 200, 200, 200, 200, 200)),
    },
}  # fmt: skip


def app_routes() -> list[str]:
    """Every route of the app as ``METHOD /path`` (a mounted app as ``MOUNT /path``),
    through the routers it includes."""
    keys: list[str] = []
    for route in iter_route_contexts(create_app().routes):
        if isinstance(route.original_route, Mount):
            keys.append(f"MOUNT {route.path}")
        else:
            keys += [f"{method} {route.path}" for method in sorted(route.methods or {"?"})
                     if method != "HEAD"]  # fmt: skip
    return keys


def test_every_route_has_a_row_in_the_matrix() -> None:
    routes = app_routes()
    missing = [key for key in routes if key not in MATRIX]
    assert not missing, f"routes without an authorisation matrix entry: {missing}"
    stale = [key for key in MATRIX if key not in routes]
    assert not stale, f"matrix entries for routes the app no longer has: {stale}"
    for key, scenarios in MATRIX.items():
        asked = {name for case in scenarios.values() for name in case.expect}
        assert set(PRINCIPALS) <= asked, (key, set(PRINCIPALS) - asked)


@dataclass(frozen=True)
class Principal:
    name: str
    headers: Mapping[str, str] = field(default_factory=dict)
    csrf: str | None = None
    username: str | None = None


@dataclass
class World:
    """The fixture objects (``values`` fill the placeholders) and the principals."""

    values: dict[str, str]
    principals: dict[str, Principal] = field(repr=False)


def log_in(http: httpx.Client, name: str, username: str) -> Principal:
    response = http.post("/api/v1/session", json={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 200, (username, response.text)
    token = response.cookies[SESSION_COOKIE]
    http.cookies.clear()
    return Principal(name, {"cookie": f"{SESSION_COOKIE}={token}"}, response.json()["csrf"],
                     username)  # fmt: skip


def contractor_of_contractor_1(connection: Connection) -> int:
    """contractor-1's operation contractor (one made for it when the demo has none)."""
    contractor = connection.execute(
        select(AppUser.contractor_id).where(AppUser.username == "contractor-1")
    ).scalar_one()
    if contractor is None:
        contractor = connection.execute(
            insert(Contractor)
            .values(name="矩阵测试运维有限公司", credit_code="91371500MATRIX0001")
            .returning(Contractor.id)
        ).scalar_one()
        connection.execute(
            update(AppUser)
            .where(AppUser.username == "contractor-1")
            .values(contractor_id=contractor)
        )
    return int(contractor)


def more_devices(
    engine: Engine, mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> dict[str, str]:
    """Beside the "in" and "out" points: enterprise 1's meter (in its county, run
    by no contractor: ``ent_only``) and another enterprise's analyser in a third
    county that contractor-1's contractor runs (``elsewhere``); who runs what is
    set here, whatever the demo says, each device with an alert."""
    with engine.begin() as connection:
        contractor = contractor_of_contractor_1(connection)
        ent_only = connection.execute(
            select(MonitoringPoint.mn)
            .where(MonitoringPoint.enterprise_id == mine["enterprise"],
                   MonitoringPoint.mn != mine["mn"])
            .order_by(MonitoringPoint.mn)
        ).scalars().first()  # fmt: skip
        elsewhere = connection.execute(
            select(MonitoringPoint.mn)
            .join(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(Enterprise.county_code.not_in([mine["county"], theirs["county"]]),
                   MonitoringPoint.mn.not_like("%E%"))
            .order_by(Enterprise.id, MonitoringPoint.mn)
        ).scalars().first()  # fmt: skip
        assert ent_only is not None and elsewhere is not None
        runs = {mine["mn"]: contractor, elsewhere: contractor, ent_only: None, theirs["mn"]: None}
        for mn, runner in runs.items():
            connection.execute(
                update(MonitoringPoint).where(MonitoringPoint.mn == mn).values(contractor_id=runner)
            )
    store_finding(engine, ent_only, DATA_T0)
    store_finding(engine, elsewhere, DATA_T0)
    AlertDesk(engine).run_once(NOW)
    with engine.connect() as connection:
        ids = dict(connection.execute(select(Alert.mn, Alert.id)).all())
    return {"mn_ent_only": ent_only, "mn_elsewhere": elsewhere,
            "alert_ent_only": str(ids[ent_only]),
            "alert_elsewhere": str(ids[elsewhere])}  # fmt: skip


def registry_objects(
    engine: Engine, mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> dict[str, str]:
    """An outlet, a permit limit and a meter of each of the two enterprises;
    contractor-1's contractor and another one."""
    found: dict[str, str] = {}
    with engine.begin() as connection:
        for side, enterprise in (("in", mine["enterprise"]), ("out", theirs["enterprise"])):
            for name, table in (("outlet", Outlet), ("limit", PermitLimit), ("meter", Meter)):
                key = connection.execute(
                    select(table.id).where(table.enterprise_id == enterprise).order_by(table.id)
                ).scalars().first()  # fmt: skip
                assert key is not None, (name, enterprise)
                found[f"{name}_{side}"] = str(key)
        found["contractor_in"] = str(contractor_of_contractor_1(connection))
        other = connection.execute(
            select(Contractor.id).where(Contractor.id != int(found["contractor_in"]))
        ).scalars().first()  # fmt: skip
        if other is None:
            other = connection.execute(
                insert(Contractor)
                .values(name="矩阵测试另一运维公司", credit_code="91371500MATRIX0002")
                .returning(Contractor.id)
            ).scalar_one()
        found["contractor_out"] = str(other)
    return found


def open_cases(http: httpx.Client, admin: Principal, values: dict[str, str]) -> None:
    """A case on the "in" alert and one on the "out" alert (by the API, once it has one)."""
    assert admin.csrf is not None
    for side in ("in", "out"):
        response = http.post("/api/v1/cases", json={"alert_ids": [int(values[f"alert_{side}"])]},
                             headers={**admin.headers, CSRF_HEADER: admin.csrf})  # fmt: skip
        http.cookies.clear()
        values[f"case_{side}"] = str(response.json()["id"]) if response.status_code == 201 else "0"


def zoning_objects(engine: Engine, mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, str]:
    """A control unit around both enterprises whose list forbids every industry."""
    square = [[[115.0, 36.0], [117.0, 36.0], [117.0, 37.0], [115.0, 37.0], [115.0, 36.0]]]
    with engine.begin() as connection:
        for enterprise in (mine["enterprise"], theirs["enterprise"]):
            located = {"longitude": 116.0, "latitude": 36.5, "industry_code": "2614"}
            connection.execute(update(Enterprise).where(Enterprise.id == enterprise)
                               .values(**located))  # fmt: skip
        connection.execute(insert(ControlUnit).values(
            code="MATRIX-UNIT", name="矩阵测试单元", unit_type="优先保护",
            county_code=mine["county"], geometry={"type": "Polygon", "coordinates": square},
            west=115.0, south=36.0, east=117.0, north=37.0,
            imported_at=datetime.now(UTC)))  # fmt: skip
        connection.execute(insert(AccessClause).values(
            unit_code="MATRIX-UNIT", dimension="空间布局约束", effect="forbidden",
            industries="*", text="禁止新建工业项目"))  # fmt: skip
        # An emergency-list line of each enterprise, on a production meter of its own.
        found: dict[str, str] = {}
        for side, enterprise in (("in", mine["enterprise"]), ("out", theirs["enterprise"])):
            meter = connection.execute(insert(Meter).values(
                enterprise_id=enterprise, name="矩阵生产电表", kind="production", rated_kw=100.0,
            ).returning(Meter.id)).scalar_one()  # fmt: skip
            line = connection.execute(insert(EmergencyLine).values(
                enterprise_id=enterprise, season="2026-2027", valid_from=date(2026, 10, 1),
                valid_until=date(2027, 3, 16), name="矩阵生产线", process="",
                measures={"orange": "stop"}).returning(EmergencyLine.id)).scalar_one()  # fmt: skip
            connection.execute(insert(EmergencyLineMeter).values(line_id=line, meter_id=meter))
            found[f"line_{side}"] = str(line)
    return found


def rectification_objects(engine: Engine, values: Mapping[str, str]) -> dict[str, str]:
    """A problem of the "in" county and enterprise and one of the "out" ones
    (imported as a feedback list), each with a file of evidence."""
    with engine.connect() as connection:
        credit = dict(connection.execute(select(Enterprise.id, Enterprise.credit_code)).all())
    rows = [
        ["中央生态环境保护督察", "矩阵批次", str(number), f"矩阵问题{side}", "", "大气",
         values[f"county_{side}"], "矩阵责任单位", "", "", "2099-12-31",
         credit[int(values[f"enterprise_{side}"])], "", ""]
        for number, side in enumerate(("in", "out"), start=1)
    ]  # fmt: skip
    desk = RectificationDesk(engine)
    ids, errors = import_problems(desk, "matrix.csv", as_csv(rows))
    assert errors == [], errors
    found = {"problem_in": str(ids[0]), "problem_out": str(ids[1])}
    for side, problem in zip(("in", "out"), ids, strict=True):
        officer = f"county-{values[f'county_{side}']}"
        content = PDF_FILE + side.encode()
        desk.act(problem, "start", officer, peer="matrix")
        desk.act(problem, "report", officer, peer="matrix", files=[Upload(f"{side}.pdf", content)])
        found[f"file_{side}"] = hashlib.sha256(content).hexdigest()
        # A file on each alert too, in the same store (as an explanation's would be).
        alert_file = PDF_FILE + b"alert " + side.encode()
        AlertDesk(engine).act(int(values[f"alert_{side}"]), "comment", "admin", peer="matrix",
                              files=[Upload(f"alert-{side}.pdf", alert_file)])  # fmt: skip
        found[f"alert_file_{side}"] = hashlib.sha256(alert_file).hexdigest()
        complaint = {"channel": "12345", "reference": f"MTX-{side}",
                     "received_at": "2026-11-29T20:00:00", "category": "噪声",
                     "content": "矩阵投诉", "address": "矩阵",
                     "county": values[f"county_{side}"]}  # fmt: skip
        taken, errors = take_complaints(desk, [complaint], source="matrix")
        assert errors == [], errors
        found[f"complaint_{side}"] = str(taken[0])
        with engine.begin() as connection:
            plot = connection.execute(
                insert(ContaminatedPlot).values(
                    name=f"矩阵地块{side}", county_code=values[f"county_{side}"], address="",
                    former_use="化工", status="risk_control", responsible="",
                    enterprise_id=int(values[f"enterprise_{side}"]))
                .returning(ContaminatedPlot.id)
            ).scalar_one()  # fmt: skip
        found[f"plot_{side}"] = str(plot)
    return found


def register_objects(engine: Engine, values: Mapping[str, str]) -> dict[str, str]:
    """An entry of each bottom-line register for the "in" and the "out" county
    and enterprise (a hazardous-waste producer with a manifest last year to an
    unlicensed receiver: a finding), and a third enterprise for new entries."""
    found: dict[str, str] = {}
    with engine.begin() as connection:
        ids = {side: int(values[f"enterprise_{side}"]) for side in ("in", "out")}
        found["enterprise_third"] = str(connection.execute(
            select(Enterprise.id).where(Enterprise.id.not_in(ids.values()))
            .order_by(Enterprise.id)).scalars().first())  # fmt: skip
        for side, enterprise in ids.items():
            credit, county = connection.execute(
                select(Enterprise.credit_code, Enterprise.county_code)
                .where(Enterprise.id == enterprise)).one()  # fmt: skip
            assert county == values[f"county_{side}"]

            def add(table: Any, **columns: Any) -> str:
                inserted = insert(table).values(**columns).returning(table.id)
                return str(connection.execute(inserted).scalar_one())

            found[f"unit_{side}"] = unit = add(
                HazardousWasteUnit,
                name=f"矩阵产生单位{side}",
                credit_code=credit,
                role="producer",
                county_code=county,
                enterprise_id=enterprise,
                address="",
                licence_no="",
                licensed_categories=[],
                declared={"HW08": 10.0},
            )
            found[f"transfer_{side}"] = add(
                WasteTransfer,
                manifest_no=f"MTX-{side}",
                producer_id=int(unit),
                receiver_credit_code="91371500MA99999999",
                receiver_name="",
                hw_code="HW08",
                quantity_t=1.0,
                transferred_on=date(2025, 6, 1),
                transport="",
            )
            found[f"medical_{side}"] = add(
                MedicalInstitution,
                name=f"矩阵医院{side}",
                county_code=county,
                enterprise_id=enterprise,
                address="",
                grade="primary",
                beds=20,
                has_wastewater_facility=True,
                disinfection="uv",
                online_monitoring=False,
                waste_contract_no="",
            )
            found[f"park_{side}"] = add(
                ChemicalPark, name=f"矩阵园区{side}", county_code=county, level="city"
            )
            found[f"chemical_{side}"] = add(
                ChemicalEnterprise,
                enterprise_id=enterprise,
                kind="chemical",
                park_id=int(found[f"park_{side}"]),
                acids={"sulfuric": 1.0},
            )
            found[f"metals_{side}"] = add(
                HeavyMetalEnterprise,
                enterprise_id=enterprise,
                metals=["Cd"],
                industry="",
                key_supervision=True,
            )
    return found  # fmt: skip


def bottom_line_objects(engine: Engine, values: Mapping[str, str]) -> dict[str, str]:
    """A fire point in each county; a campaign over the whole city with both
    enterprises as targets (each with a result backed by a file) and one over
    the "out" county only."""
    centroids = {str(f["properties"]["adcode"]): f["properties"]["centroid"]
                 for f in json.loads(COUNTIES_FILE.read_text("utf-8"))["features"]}  # fmt: skip
    spots = {}
    with engine.connect() as connection:
        for side in ("in", "out"):
            code = values[f"county_{side}"]
            # A development zone has no boundary of its own: its host district's.
            host = connection.execute(select(County.host_code).where(County.code == code))
            spots[side] = centroids[host.scalar() or code]
    desk = RectificationDesk(engine)
    rows = [{"火点编号": f"MTX-{side}", "监测时间": "2026-11-29 13:00", "经度": str(x),
             "纬度": str(y)} for side, (x, y) in spots.items()]  # fmt: skip
    done, errors = take_fire_points(desk, rows, source="matrix")
    assert errors == [] and done.imported == 2, errors
    with engine.connect() as connection:
        fires = dict(connection.execute(select(FirePoint.fire_id, FirePoint.id)).all())
    found = {f"fire_{side}": str(fires[f"MTX-{side}"]) for side in spots}
    city = Actor("matrix", "city_admin", "matrix")
    targets = [{"kind": "enterprise", "id": int(values[f"enterprise_{side}"])}
               for side in ("in", "out")]  # fmt: skip
    spec = {"theme": "危险废物", "starts_on": "2026-11-01", "ends_on": "2026-12-31",
            "items": [{"text": "矩阵清单项", "severity": "一般"}]}  # fmt: skip
    made, errors = create_campaign(desk, CampaignSpec.model_validate(
        spec | {"name": "矩阵全市行动", "targets": targets}), city)  # fmt: skip
    assert made is not None, errors
    other, errors = create_campaign(desk, CampaignSpec.model_validate(
        spec | {"name": "矩阵外县行动", "targets": targets[1:],
                "counties": [values["county_out"]]}), city)  # fmt: skip
    assert other is not None, errors
    found |= {"campaign_in": str(made), "campaign_out": str(other)}
    for side, target in zip(("in", "out"), targets, strict=True):
        content = PDF_FILE + b"campaign " + side.encode()
        digest, _ = store_evidence(desk, made, "enforcer", Upload(f"{side}.pdf", content))
        _, errors = record_results(desk, made, "enforcer", [
            {"对象类型": "enterprise", "对象编号": str(target["id"]), "检查项": "1",
             "结果": "合格", "佐证文件": f"{side}.pdf", "佐证SHA256": digest}],
            peer="matrix")  # fmt: skip
        assert errors == [], errors
        found[f"cfile_{side}"] = digest
    return found


def ledger_objects(engine: Engine, values: Mapping[str, str]) -> dict[str, str]:
    """Each enterprise on the EIA-approval positive list (and off the enforcement
    list, which the matrix admits "out" to) and freed capacity in each county."""
    found: dict[str, str] = {}
    actor = Actor("matrix", "city_admin", "matrix")
    with engine.begin() as connection:
        for side in ("in", "out"):
            enterprise = int(values[f"enterprise_{side}"])
            for kind in ("eia", "enforcement"):
                if open_entry(connection, enterprise, kind) is not None:
                    remove(connection, enterprise, kind, on=date(2026, 1, 1), reason="矩阵",
                           decided_by="矩阵", actor=actor)  # fmt: skip
            found[f"listed_{side}"] = str(admit(connection, Admission(
                enterprise, "eia", ("commitment_approval",), "矩阵", date(2026, 1, 2), "矩阵"),
                actor))  # fmt: skip
            found[f"quota_{side}"] = str(record_freed(connection, Freed(
                values[f"county_{side}"], "a21026", 5_000_000, "closure", date(2025, 1, 1),
                "矩阵文号", enterprise), actor))  # fmt: skip
    return found


def audit_objects(engine: Engine, values: Mapping[str, str]) -> dict[str, str]:
    """An audit file of each enterprise."""
    found: dict[str, str] = {}
    with engine.begin() as connection:
        for side in ("in", "out"):
            made = create_audit_file(
                connection, int(values[f"enterprise_{side}"]), "2026-01", datetime(2026, 2, 1),
                Actor("matrix", "city_admin", "matrix"), parameters=load_parameters(),
                rules=default_rule_set(),
            )  # fmt: skip
            assert made is not None
            found[f"audit_{side}"] = str(made.run_id)
        # A manual monitoring result of the "out" enterprise (the demo has the "in" one's).
        connection.execute(insert(ManualResult).values(
            enterprise_id=int(values["enterprise_out"]), outlet_id=int(values["outlet_out"]),
            pollutant="a21026", sampled_from=datetime(2026, 1, 5, 8), concentration=20.0,
            unit="mg/m³", laboratory="矩阵检测", report_number="MTX-1", source_file="matrix",
            imported_by="matrix", imported_at=datetime.now(UTC),
        ))  # fmt: skip
    return found


@pytest.fixture
def world(base_url: str, engine: Engine, alerts: tuple[dict[str, Any], dict[str, Any]]) -> World:
    mine, theirs = alerts
    values = {
        "alert_in": str(mine["id"]), "alert_out": str(theirs["id"]),
        "mn_in": mine["mn"], "mn_out": theirs["mn"],
        "enterprise_in": str(mine["enterprise"]), "enterprise_out": str(theirs["enterprise"]),
        "county_in": mine["county"], "county_out": theirs["county"],
    } | more_devices(engine, mine, theirs) | registry_objects(engine, mine, theirs)  # fmt: skip
    values |= zoning_objects(engine, mine, theirs)
    values |= rectification_objects(engine, values)
    values |= bottom_line_objects(engine, values)
    values |= ledger_objects(engine, values)
    values |= register_objects(engine, values)
    values |= audit_objects(engine, values)
    principals = {"anonymous": Principal("anonymous")}
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for name, username in USERNAMES.items():
            principals[name] = log_in(http, name, username.format(**values))
        if "POST /api/v1/cases" in app_routes():
            open_cases(http, principals["admin"], values)
    _, token = create_token(engine, "matrix reader", ["read"], mine["enterprise"])
    principals["token"] = Principal("token", {"authorization": f"Bearer {token}"})
    _, city = create_token(engine, "matrix city reader", ["read"])
    principals["city_token"] = Principal("city_token", {"authorization": f"Bearer {city}"})
    _, writer = create_token(engine, "matrix meter writer", ["electricity:write"])
    principals["meter_writer"] = Principal("meter_writer", {"authorization": f"Bearer {writer}"})
    return World(values, principals)


def fill(text: str, values: Mapping[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def fill_json(body: Any, values: Mapping[str, str]) -> Any:
    """A JSON body with its placeholders filled: ``"#name"`` as a number, ``{name}`` in text."""
    if isinstance(body, str):
        return (
            int(values[body[1:]])
            if body.startswith("#") and body[1:] in values
            else fill(body, values)
        )
    if isinstance(body, list):
        return [fill_json(item, values) for item in body]
    if isinstance(body, dict):
        return {key: fill_json(item, values) for key, item in body.items()}
    return body


def send(http: httpx.Client, who: Principal, case: Case, values: dict[str, str]) -> Cell:
    """Make the request as ``who`` and name what came back, in the table's terms."""
    if case.fresh and who.username is not None:
        who = log_in(http, who.name, who.username)
    headers = dict(who.headers)
    form = None if case.form is None else {k: fill(v, values) for k, v in case.form.items()}
    if case.csrf and who.csrf is not None:
        headers[CSRF_HEADER] = who.csrf
        if form is not None:
            form["csrf"] = who.csrf
    if case.login_form and form is not None:
        page = http.get("/login", headers=headers)
        token = page.text.split('name="login_csrf" value="')[1].split('"')[0]
        form[LOGIN_CSRF_FIELD] = token
        cookies = [c for c in (headers.get("cookie"), f"{LOGIN_CSRF_COOKIE}={token}") if c]
        headers["cookie"] = "; ".join(cookies)
        http.cookies.clear()
    if case.content_type is not None:
        headers["content-type"] = case.content_type
    content = None if case.content is None else fill(case.content.decode(), values).encode()
    body = None if case.json is None else fill_json(case.json, values)
    request = http.build_request(
        case.method, fill(case.path, values), headers=headers, json=body, data=form,
        content=content,
    )  # fmt: skip
    try:
        response = http.send(request, stream=case.stream)
        if case.stream:
            response.close()
        for _ in range(100):  # an export job finishing: at most about 20 s
            if case.poll_while is None or response.status_code != case.poll_while:
                break
            time.sleep(0.2)
            response = http.send(request)
    finally:
        http.cookies.clear()
    if case.save is not None and response.status_code in {200, 201, 202}:
        name, key = case.save
        values[name] = str(response.json()[key])
    return observe(response, case, values)


def observe(response: httpx.Response, case: Case, values: Mapping[str, str]) -> Cell:
    status = response.status_code
    if status == 303 and urlsplit(response.headers.get("location", "")).path == "/login":
        return TO_LOGIN
    if case.stream or status != 200:
        return status
    if "text/html" in response.headers.get("content-type", "") and (
        'action="/login"' in response.text and 'type="password"' in response.text
    ):
        return LOGIN_PAGE
    if case.lists is None:
        return status
    key, wanted = case.lists[0], fill(case.lists[1], values)
    if key == "html":
        seen = wanted in response.text
    else:
        seen = any(str(item.get(key)) == wanted for item in response.json()["items"])
    return SEEN if seen else UNSEEN


# (out of scope, unknown) pairs of one kind of object; ``{id}`` stands for the object's key.
LOOK_ALIKES: Final = (
    ("/api/v1/alerts/{id}", "{alert_out}", UNKNOWN_ID),
    ("/api/v1/points/{id}", "{mn_out}", UNKNOWN_MN),
    ("/api/v1/points/{id}/hours?" + HOURS, "{mn_out}", UNKNOWN_MN),
    ("/api/v1/enterprises/{id}/electricity", "{enterprise_out}", UNKNOWN_ID),
    ("/api/v1/registry/enterprises/{id}", "{enterprise_out}", UNKNOWN_ID),
    ("/api/v1/registry/outlets/{id}", "{outlet_out}", UNKNOWN_ID),
    ("/api/v1/registry/meters/{id}", "{meter_out}", UNKNOWN_ID),
    ("/api/v1/cases/{id}", "{case_out}", UNKNOWN_ID),
    ("/api/v1/problems/{id}", "{problem_out}", UNKNOWN_ID),
    ("/api/v1/problems/{id}/dossier", "{problem_out}", UNKNOWN_ID),
    ("/api/v1/complaints/{id}", "{complaint_out}", UNKNOWN_ID),
    ("/api/v1/campaigns/{id}", "{campaign_out}", UNKNOWN_ID),
    ("/api/v1/registry/contaminated-plots/{id}", "{plot_out}", UNKNOWN_ID),
    ("/api/v1/registry/hazardous-waste-units/{id}", "{unit_out}", UNKNOWN_ID),
    ("/api/v1/registry/waste-transfers/{id}", "{transfer_out}", UNKNOWN_ID),
    ("/api/v1/registry/medical-institutions/{id}", "{medical_out}", UNKNOWN_ID),
    ("/api/v1/registry/chemical-parks/{id}", "{park_out}", UNKNOWN_ID),
    ("/api/v1/registry/chemical-enterprises/{id}", "{chemical_out}", UNKNOWN_ID),
    ("/api/v1/registry/heavy-metal-enterprises/{id}", "{metals_out}", UNKNOWN_ID),
    ("/api/v1/positive-lists/{id}", "{listed_out}", UNKNOWN_ID),
    ("/api/v1/carbon/summary?year=2026&enterprise={id}", "{enterprise_out}", UNKNOWN_ID),
    ("/api/v1/audit-files/{id}", "{audit_out}", UNKNOWN_ID),
    ("/api/v1/enterprises/{id}/audit-files", "{enterprise_out}", UNKNOWN_ID),
)


def same_as_unknown(http: httpx.Client, world: World) -> None:
    """For the county officer, the enterprise user and the read token, another
    county's object answers byte for byte like an unknown one (its key aside)."""
    for name in ("county", "enterprise", "token"):
        who = world.principals[name]
        for template, out_key, unknown_key in LOOK_ALIKES:
            key = fill(out_key, world.values)
            answers = []
            for each in (key, unknown_key):
                response = http.get(fill(template.replace("{id}", each), world.values),
                                    headers=dict(who.headers))  # fmt: skip
                http.cookies.clear()
                answers.append((response.status_code, response.text.replace(each, "ID")))
            assert answers[0] == answers[1], (name, template, answers)
            assert answers[0][0] == 404, (name, template, answers)


def with_city_token(route: str, expect: Mapping[str, Cell]) -> dict[str, Cell]:
    """The row with a city-wide read token (no enterprise): on the API's GETs it
    reads like the viewer, the city's read-only role; elsewhere it is refused
    like the enterprise's token."""
    reads = route.startswith("GET /api/v1/") and expect.get("token") != OPEN
    like = "viewer" if reads else "token"
    return {**expect, "city_token": expect[like]} if like in expect else dict(expect)


def test_every_route_answers_every_principal_as_the_table_says(
    world: World, base_url: str, subtests: pytest.Subtests
) -> None:
    asked = 0
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for route, scenarios in MATRIX.items():
            with subtests.test(msg=route):
                wrong: list[str] = []
                for scenario, case in scenarios.items():
                    # The administrator last: after the refusals, the one allowed change.
                    for name, expected in sorted(
                        with_city_token(route, case.expect).items(), key=lambda c: c[0] == "admin"
                    ):
                        got = send(http, world.principals[name], case, world.values)
                        asked += 1
                        if expected == OPEN and got in OPEN_ANSWERS:
                            continue
                        if expected == REFUSED and got in {403, 404}:
                            continue
                        if got != expected:
                            wrong.append(f"{scenario} as {name}: expected {expected}, got {got}")
                assert not wrong, f"{route}:\n  " + "\n  ".join(wrong)
        with subtests.test(msg="out of scope reads exactly like unknown"):
            same_as_unknown(http, world)
    # Every session survived the matrix (only fresh sessions were ended).
    for name in USERNAMES:
        still = replace(MATRIX["GET /api/v1/alerts/{alert_id}"]["in"], lists=None)
        with httpx.Client(base_url=base_url, timeout=30) as http:
            assert send(http, world.principals[name], still, world.values) == 200, name
    assert asked >= 400
