"""The registry and coverage pages over real HTTP on SQLite and PostgreSQL:
enterprises in scope with counts and filters, empty states, the import and
export controls for administrators only, coverage per county with zones
under their host and the drill-down lists; and, in a real browser, an
import with its progress and row errors, and an export's download link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, insert, select

from envwatch.auth.passwords import hash_password
from envwatch.demo.seed import DEMO_PASSWORD
from envwatch.store.archive import Archive, ReceivedFrame
from envwatch.store.schema import AppUser, County, Enterprise, Meter, MonitoringPoint
from tests.electricity.test_http_batch import base_url
from tests.web.server import serving
from tests.web.test_browser import SCREENSHOTS, browser, log_in
from tests.web.test_pages_and_api import session

__all__ = ["base_url", "browser"]


def page(client: httpx.Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert "http://" not in response.text and "https://" not in response.text
    return response.text


def linked_enterprises(html: str) -> list[int]:
    table = html.split('id="enterprises"', 1)[1].split("</table>", 1)[0]
    return [int(found) for found in re.findall(r'href="/enterprises/(\d+)"', table)]


def rows_of(html: str, table_id: str | None = None) -> list[list[str]]:
    """The cells' text of a table's body rows (the table with ``table_id``, or the first)."""
    table = html.split(f'id="{table_id}"', 1)[1] if table_id else html
    if "<tbody>" not in table:
        return []
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [
            unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def section(html: str, section_id: str) -> str:
    return html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]


def test_the_registry_page_lists_the_enterprises_in_scope(base_url: str, engine: Engine) -> None:
    assert httpx.get(f"{base_url}/registry").status_code == 303
    with engine.connect() as connection:
        shen = (
            connection.execute(
                select(Enterprise.id)
                .where(Enterprise.county_code == "371522")
                .order_by(Enterprise.id)
            )
            .scalars()
            .all()
        )
        meters = connection.execute(
            select(func.count()).select_from(Meter).where(Meter.enterprise_id == shen[0])
        ).scalar_one()
    officer, _ = session(base_url, "county-371522")
    html = page(officer, "/registry")
    assert linked_enterprises(html) == list(shen)
    assert 'id="registry-admin"' not in html and "registry.js" not in html
    first = rows_of(html, "enterprises")[0]
    assert first[1] == f"913715{shen[0]:011d}X" and first[2] == "莘县"
    assert int(first[7]) == meters
    narrowed = page(officer, "/registry?q=" + first[0][:4] + "&key_category=any")
    assert set(linked_enterprises(narrowed)) <= set(shen)
    nothing = page(officer, "/registry?q=不存在的企业")
    assert linked_enterprises(nothing) == [] and "没有符合筛选条件的企业" in nothing
    english = page(officer, "/registry?lang=en&q=不存在的企业")
    assert "No enterprise matches these filters" in english
    owner, _ = session(base_url, "enterprise-1")
    assert linked_enterprises(page(owner, "/registry")) == [1]
    admin, csrf = session(base_url, "admin")
    html = page(admin, "/registry")
    assert len(linked_enterprises(html)) == 100  # a page of 100 of 120
    assert "offset=100" in html
    assert linked_enterprises(page(admin, "/registry?offset=100")) == list(range(101, 121))
    assert f'data-csrf="{csrf}"' in html and "/static/registry.js" in html
    assert "整个文件全部导入或全部不导入" in html
    assert "企业名称, 统一社会信用代码, 区县代码" in html  # the columns an import needs
    script = admin.get("/static/registry.js")
    assert script.status_code == 200 and "/api/v1/registry/imports" in script.text
    assert "http://" not in script.text and "https://" not in script.text
    for client in (officer, owner, admin):
        client.close()


@pytest.fixture
def empty_registry_url(engine: Engine) -> Iterator[str]:
    """A server on a registry with counties and one administrator, nothing else."""
    with engine.begin() as connection:
        connection.execute(insert(County), [{"code": "371502", "name_zh": "东昌府区"}])
        connection.execute(
            insert(AppUser).values(
                username="admin",
                display_name="管理员",
                role="city_admin",
                county_codes="",
                active=True,
                password_hash=hash_password(DEMO_PASSWORD),
                failed_logins=0,
            )
        )
    with serving(engine) as url:
        yield url


def test_an_empty_registry_says_what_to_do(empty_registry_url: str) -> None:
    admin, _ = session(empty_registry_url, "admin")
    html = page(admin, "/registry")
    assert "暂无企业。请先在下方导入企业名录" in html
    assert "企业名称, 统一社会信用代码, 区县代码, 行业代码, 重点类别" in html
    coverage = page(admin, "/coverage")
    assert "所有重点排污单位均已登记在线监测点位" in coverage
    assert "所有点位均已联网" in coverage
    assert "No enterprises yet: import an enterprise list" in page(admin, "/registry?lang=en")
    admin.close()


def test_the_coverage_page_per_county_and_its_lists(base_url: str, engine: Engine) -> None:
    with engine.connect() as connection:
        counties = connection.execute(
            select(County.code, County.host_code).order_by(County.code)
        ).all()
        enterprises = connection.execute(
            select(
                Enterprise.id, Enterprise.name, Enterprise.county_code, Enterprise.key_categories
            )
        ).all()
        meter_mns = set(connection.execute(select(Meter.mn)).scalars())
        metered = set(connection.execute(select(Meter.enterprise_id)).scalars())
        points = connection.execute(
            select(MonitoringPoint.mn, MonitoringPoint.enterprise_id)
            .where(MonitoringPoint.active.is_(True))
            .order_by(MonitoringPoint.mn)
        ).all()
    monitored = {p.enterprise_id for p in points if p.mn not in meter_mns}
    key = [e for e in enterprises if e.key_categories]
    Archive(engine).write_batch(
        [
            ReceivedFrame(
                datetime.now(UTC) - timedelta(hours=3), "t", b"##", "accepted", mn=points[0].mn
            )
        ]
    )
    supervisor, _ = session(base_url, "supervisor")
    html = page(supervisor, "/coverage")
    order = re.findall(r'<tr class="([^"]*)" data-county="(\d+)"', html)
    hosts = {c.code: c.host_code for c in counties}
    codes = [code for _, code in order]
    assert sorted(codes) == sorted(hosts)
    for position, (css, code) in enumerate(order):
        if hosts[code]:  # a zone: marked, and under its host or another zone of it
            assert "zone" in css
            above = codes[position - 1]
            assert above == hosts[code] or hosts[above] == hosts[code]
    rows = {code: cells for (_, code), cells in zip(order, rows_of(html, "coverage"), strict=True)}
    for code in hosts:
        mine = [e for e in key if e.county_code == code]
        assert int(rows[code][1]) == len(mine)
        assert int(rows[code][2]) == sum(e.id not in monitored for e in mine)
        assert int(rows[code][3]) == sum(e.id not in metered for e in mine)
    missing = section(html, "missing-monitor")
    assert set(re.findall(r'href="/enterprises/(\d+)"', missing)) == {
        str(e.id) for e in key if e.id not in monitored
    }
    offline = rows_of(section(html, "offline"))
    assert [cells[0] for cells in offline] == [points[0].mn]
    three_hours_ago = datetime.now(UTC) + timedelta(hours=8 - 3)  # shown in China Standard Time
    assert offline[0][3][:13] in {
        f"{three_hours_ago + timedelta(hours=shift):%Y-%m-%d %H}" for shift in (-1, 0)
    }
    never = section(html, "never-connected")
    assert points[0].mn not in never and points[1].mn in never
    zone = next(code for code, host in hosts.items() if host)
    chosen = page(supervisor, f"/coverage?county={zone}")
    assert f"/enterprises/{next(e.id for e in enterprises if e.county_code != zone)}" not in (
        section(chosen, "missing-meter") + section(chosen, "missing-monitor")
    )
    assert "Coverage: installed and connected" in page(supervisor, "/coverage?lang=en")
    officer, _ = session(base_url, "county-371522")
    html = page(officer, "/coverage")
    assert re.findall(r'data-county="(\d+)"', html) == ["371522"]
    assert "全部区县" not in page(officer, "/coverage")
    owner, _ = session(base_url, "enterprise-1")
    refused = owner.get("/coverage")
    assert refused.status_code == 403 and "仅供监管人员查看" in refused.text
    for client in (supervisor, officer, owner):
        client.close()


def test_an_administrator_imports_and_exports_in_the_browser(
    base_url: str, engine: Engine, browser: Any, tmp_path: Path
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page_ = log_in(browser, base_url, "admin")
    page_.goto(f"{base_url}/registry")
    bad = tmp_path / "enterprises.csv"
    bad.write_text(
        "企业名称,统一社会信用代码,区县代码\n"
        "聊城示例浏览器一号有限公司,91371500MA3CWEB001,371502\n"
        "聊城示例浏览器二号有限公司,bad-code,371502\n",
        encoding="utf-8",
    )
    page_.set_input_files("#import-file", str(bad))
    page_.click("#import-form button[type=submit]")
    page_.wait_for_selector("#import-status.job-failed")
    assert page_.inner_text("#import-errors tbody td:first-child") == "3"
    assert "统一社会信用代码" in page_.inner_text("#import-errors tbody")
    page_.screenshot(path=str(SCREENSHOTS / "registry-import-errors.png"), full_page=True)
    good = tmp_path / "fixed.csv"
    good.write_text(
        bad.read_text(encoding="utf-8").replace("bad-code", "91371500MA3CWEB002"), encoding="utf-8"
    )
    page_.set_input_files("#import-file", str(good))
    page_.click("#import-form button[type=submit]")
    page_.wait_for_selector("#import-status.job-done")
    assert page_.eval_on_selector("#import-progress", "bar => bar.value") == 1
    assert "2/2" in page_.inner_text("#import-status")
    assert page_.is_hidden("#import-errors")
    with engine.connect() as connection:
        assert (
            connection.execute(
                select(func.count())
                .select_from(Enterprise)
                .where(Enterprise.name.contains("浏览器"))
            ).scalar_one()
            == 2
        )
    page_.select_option("#export-format", "csv")
    page_.select_option("#export-kind", "enterprises")
    page_.click("#export-form button[type=submit]")
    page_.wait_for_selector("#export-download:not([hidden])")
    href = page_.get_attribute("#export-download", "href")
    assert href is not None and href.startswith("/api/v1/registry/exports/")
    page_.screenshot(path=str(SCREENSHOTS / "registry-export.png"), full_page=True)
    with page_.expect_download() as downloading:
        page_.click("#export-download")
    exported = Path(downloading.value.path()).read_text(encoding="utf-8-sig")
    assert "91371500MA3CWEB002" in exported and len(exported.splitlines()) == 123
    page_.close()
