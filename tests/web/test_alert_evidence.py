"""An alert's evidence on its page as a readable table, not raw JSON: the values
the rule saw with their unit, the limit and its basis, the parameters it
judged with, and the raw frames it cites, each linked to the archived frame
(over real HTTP on SQLite and PostgreSQL); and the shaping itself (pure)."""

from __future__ import annotations

import re
from html import unescape

from sqlalchemy import select

from envwatch.alerts.desk import AlertDesk
from envwatch.store.schema import ArchivedFrame
from envwatch.web.evidence import evidence_rows
from envwatch.web.i18n import translator
from tests.alerts.test_desk import NOW, store_finding
from tests.web.test_measurements_api import DAY, MN, City, base_url, city
from tests.web.test_point_pages import Login, login

__all__ = ["base_url", "city", "login"]

ROW = re.compile(r'<tr data-key="([^"]+)"><th scope="row">(.*?)</th><td>(.*?)</td></tr>', re.S)


def table_of(html: str) -> dict[str, tuple[str, str]]:
    """The evidence table's rows: key -> (label, value), tags stripped."""
    assert 'id="evidence-table"' in html
    body = html.split('id="evidence-table"', 1)[1].split("</table>", 1)[0]
    return {
        key: (re.sub(r"<[^>]+>", "", label).strip(), unescape(value).strip())
        for key, label, value in ROW.findall(body)
    }


def exceedance_evidence(cited: int) -> dict[str, object]:
    return {
        "measured": 48.2, "o2": 9.1, "reference_o2": 6.0, "corrected": 60.5123, "value": 60.5123,
        "flag": "N", "frames": [cited], "limit": 35.0, "unit": "mg/m³",
        "basis": "超低排放（燃煤电厂）",
        "other_limits": [{"value": 50.0, "basis": "GB 13223-2011"}],
        "parameters": {"data": "2061", "minute_interval": 10.0},
    }  # fmt: skip


def test_the_alert_page_shows_its_evidence_as_a_table(city: City, login: Login) -> None:
    with city.engine.connect() as connection:
        cited = connection.execute(
            select(ArchivedFrame.id).where(ArchivedFrame.chain == MN, ArchivedFrame.cn == "2061")
            .order_by(ArchivedFrame.seq).offset(10).limit(1)
        ).scalar_one()  # fmt: skip
    store_finding(city.engine, MN, DAY.replace(hour=10), evidence=exceedance_evidence(cited))
    AlertDesk(city.engine).run_once(NOW)
    officer = login("supervisor")
    page = officer.get("/alerts/1", params={"lang": "zh"})
    assert page.status_code == 200
    rows = table_of(page.text)
    assert rows["measured"] == ("实测值", "48.2 mg/m³")
    assert rows["corrected"] == ("折算值", "60.5123 mg/m³")
    assert rows["o2"] == ("含氧量", "9.1 %")
    assert rows["reference_o2"] == ("基准含氧量", "6 %")
    assert rows["flag"] == ("数据标记", "N")
    assert rows["limit"] == ("限值", "35 mg/m³")
    assert rows["basis"] == ("限值依据", "超低排放（燃煤电厂）")
    assert rows["other_limits"] == ("其他限值", "50 mg/m³ (GB 13223-2011)")
    assert rows["minute_interval"] == ("minute_interval", "10")
    assert rows["data"] == ("data", "2061")
    # The cited frame, linked to the archived frame, with its command and data time.
    link = re.search(rf'<a href="([^"]+)" data-frame="{cited}">', page.text)
    assert link is not None
    assert unescape(link.group(1)) == f"/api/v1/points/{MN}/frames?frame={cited}"
    item = page.text.split(f'data-frame="{cited}">', 1)[1].split("</li>", 1)[0]
    assert "CN=2061" in item and "2026-11-29 10:00:00" in item
    frame = officer.get(unescape(link.group(1))).json()
    assert [f["id"] for f in frame["items"]] == [cited]
    assert frame["items"][0]["data_time"] == "2026-11-29T10:00:00+08:00"
    # The JSON stays, folded away below the table.
    assert '<details class="evidence-json">' in page.text
    assert page.text.index('id="evidence-table"') < page.text.index('class="evidence-json"')
    english = table_of(officer.get("/alerts/1", params={"lang": "en"}).text)
    assert english["measured"] == ("Measured", "48.2 mg/m³")
    assert english["limit"] == ("Limit", "35 mg/m³")


def test_evidence_values_read_as_words_and_numbers() -> None:
    words = translator("zh")
    table = evidence_rows(
        {
            "flow_weighted": True,
            "hourly_values": [float(v) for v in range(60)],
            "unit": "mg/L",
            "last_data_time": "2026-11-29T10:30:00",
            "o2": None,
            "code": "i13008",
            "a21026": 12.0,
            "brand_new_key": {"x": 1},
            "frames": [5, 5, True, -1, 7],
            "finding_id": 12,
        },
        words,
        "zh",
        mn="MN1",
    )
    shown = {row.key: (row.label, row.value) for row in table.values}
    assert shown["flow_weighted"] == ("流量加权", "是")
    label, values = shown["hourly_values"]
    assert label == "小时均值"
    assert values.startswith("0, 1, 2") and values.endswith("（另有12项） mg/L")
    assert shown["last_data_time"] == ("最后数据时间", "2026-11-29 10:30:00")
    assert shown["o2"] == ("含氧量", "—")
    assert shown["code"] == ("参数", "斜率 (i13008)")
    assert shown["a21026"] == ("二氧化硫", "12")
    assert shown["brand_new_key"] == ("brand_new_key", "x 1")  # a key the page has no word for
    assert [f.id for f in table.frames] == [5, 7]
    assert table.frames[0].href == "/api/v1/points/MN1/frames?frame=5"
    assert table.finding_id == 12
    assert not table.limit and not table.parameters
    english = evidence_rows({"flow_weighted": False, "a21026": 1.5}, translator("en"), "en")
    assert [(r.label, r.value) for r in english.values] == [
        ("Flow-weighted", "no"),
        ("sulphur dioxide", "1.5"),
    ]
