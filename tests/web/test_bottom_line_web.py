"""Fire points and inspection campaigns over real HTTP on SQLite and
PostgreSQL, on the demo city's fire-point export and campaign: lists scoped by
county; an import refused whole with row/column/reason, a re-import changing
nothing; results recorded by the API open one problem per failed item; the
pages (fire-point map and list, campaigns, a campaign with its results form,
the dashboard's fire layer) render within scope."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select

from envwatch.demo.rectification import CAMPAIGN, fire_export, seed_bottom_line
from envwatch.hj212.codes import CHINA_STANDARD_TIME
from envwatch.store.schema import Campaign, CampaignTarget, FirePoint, RectificationProblem
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import session

__all__ = ["base_url"]
Login = Callable[[str], tuple[httpx.Client, str]]


@pytest.fixture
def login(base_url: str) -> Iterator[Login]:
    """Log in as a demo user; every client closed after the test."""
    made: list[httpx.Client] = []

    def log_in(username: str) -> tuple[httpx.Client, str]:
        client, csrf = session(base_url, username)
        made.append(client)
        return client, csrf

    yield log_in
    for client in made:
        client.close()


def test_fire_points_and_a_campaign_over_http(login: Login, engine: Engine) -> None:
    counts = seed_bottom_line(engine)
    assert counts == {"fire_point": 5, "campaign_problem": 3}
    with engine.connect() as connection:
        points = connection.execute(select(FirePoint)).all()
        campaign = connection.execute(select(Campaign.id).where(Campaign.name == CAMPAIGN))
        campaign_id = campaign.scalar_one()
        targets = connection.execute(
            select(CampaignTarget).where(CampaignTarget.campaign_id == campaign_id)
            .order_by(CampaignTarget.id)
        ).all()  # fmt: skip
    county = next(p.county_code for p in points if p.county_code is not None)
    assert sum(p.county_code is None for p in points) == 1

    officer, _ = login(f"county-{county}")
    mine = officer.get("/api/v1/fire-points").json()
    assert mine["total"] == sum(p.county_code == county for p in points) >= 1
    assert {item["county"] for item in mine["items"]} == {county}

    supervisor, csrf = login("supervisor")
    assert supervisor.get("/api/v1/fire-points?outside=true").json()["total"] == 1
    export = fire_export(engine, _now(points))
    rows = list(csv.reader(io.StringIO(export.decode("utf-8"))))
    rows[2][2] = "东经116"
    bad = io.StringIO()
    csv.writer(bad).writerows(rows)
    headers = {"X-CSRF-Token": csrf}
    refused = supervisor.post("/api/v1/fire-points/imports?name=火点.csv",
                              content=bad.getvalue().encode(), headers=headers)  # fmt: skip
    assert refused.status_code == 422
    assert [(r["row"], r["column"]) for r in refused.json()["error"]["rows"]] == [(3, "经度")]
    again = supervisor.post("/api/v1/fire-points/imports?name=火点.csv", content=export,
                            headers=headers)  # fmt: skip
    assert again.status_code == 201, again.text
    assert again.json() == {"imported": 0, "known": 5, "outside": 0, "problems": []}

    # The campaign: a county officer sees their county's targets only.
    first = targets[0]
    local, local_csrf = login(f"county-{first.county_code}")
    seen = local.get(f"/api/v1/campaigns/{campaign_id}").json()
    assert {t["county"] for t in seen["targets"]} == {first.county_code}
    assert seen["progress"][-1]["problems_opened"] == sum(
        1 for t in seen["targets"] for r in t["results"].values() if r["result"] == "fail"
    )
    other = next(t for t in targets if t.county_code != first.county_code)
    body = {"results": [{"kind": "enterprise", "ref_id": other.ref_id, "item": 1,
                         "result": "fail"}]}  # fmt: skip
    outside = local.post(f"/api/v1/campaigns/{campaign_id}/results", json=body,
                         headers={"X-CSRF-Token": local_csrf})  # fmt: skip
    assert outside.status_code == 422 and outside.json()["error"]["rows"][0]["row"] == 2
    fourth = targets[3]
    body = {"results": [{"kind": "enterprise", "ref_id": fourth.ref_id, "item": 2,
                         "result": "不合格", "note": "标识缺失"}]}  # fmt: skip
    enforcer, enforcer_csrf = login("enforcer")
    opened = [enforcer.post(f"/api/v1/campaigns/{campaign_id}/results", json=body,
                            headers={"X-CSRF-Token": enforcer_csrf}) for _ in range(2)]  # fmt: skip
    assert [r.status_code for r in opened] == [200, 200], opened[0].text
    assert len(opened[0].json()["problems"]) == 1 and opened[1].json()["problems"] == []
    with engine.connect() as connection:
        problem = connection.execute(
            select(RectificationProblem).where(RectificationProblem.id ==
                                               opened[0].json()["problems"][0])
        ).one()  # fmt: skip
    assert (problem.source, problem.batch, problem.enterprise_id) == (
        "campaign", CAMPAIGN, fourth.enterprise_id)  # fmt: skip

    # The pages.
    fire_page = officer.get("/fire-points")
    assert fire_page.status_code == 200 and 'class="fire-map"' in fire_page.text
    assert fire_page.text.count('data-fire="') == mine["total"]
    # The upload form only for those the import API lets import (the city bureau).
    assert 'id="fire-import"' not in fire_page.text
    assert 'id="fire-import"' in supervisor.get("/fire-points").text
    assert "/campaigns/" in supervisor.get("/campaigns").text
    page = local.get(f"/campaigns/{campaign_id}")
    assert page.status_code == 200
    assert page.text.count('class="campaign-target"') == len(seen["targets"])
    # The results form with a photo the page uploaded first (as campaign.js does).
    photo = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    stored = local.post(f"/api/v1/campaign-evidence?campaign={campaign_id}&name=现场.png",
                        content=photo, headers={"X-CSRF-Token": local_csrf})  # fmt: skip
    assert stored.status_code == 201, stored.text
    digest = stored.json()["sha256"]
    posted = local.post(f"/campaigns/{campaign_id}/results", data={
        "csrf": local_csrf, "target": f"enterprise:{first.ref_id}", "result_2": "pass",
        "note_2": "已整改", "evidence_2": f"{digest} 现场.png",
    }, follow_redirects=False)  # fmt: skip
    assert posted.status_code == 303, posted.text
    href = f"/api/v1/campaigns/{campaign_id}/files/{digest}"
    assert href in local.get(f"/campaigns/{campaign_id}").text
    assert local.get(href).content == photo
    assert officer.get(href).status_code == (200 if county == first.county_code else 404)
    dashboard = supervisor.get("/")
    assert 'id="layer-fires"' in dashboard.text
    assert dashboard.text.count('class="fire" data-fire=') == 4  # in the city, seen lately

    # A new campaign from the page's form: a bad line names itself and keeps
    # what was entered; a county officer has no form and is refused.
    assert 'id="campaign-new"' in supervisor.get("/campaigns").text
    assert 'id="campaign-new"' not in officer.get("/campaigns").text
    entered = {"csrf": csrf, "name": "2026年涉酸企业专项排查", "theme": "acid",
               "starts_on": "2026-12-01", "ends_on": "2026-12-31", "counties": "",
               "items": "储罐区围堰完好 | GB 15603 | 较重\n酸雾收集处理设施运行 | 一般",
               "targets": f"enterprise:{first.ref_id}\nboat:1"}  # fmt: skip
    refused = supervisor.post("/campaigns", data=entered, follow_redirects=False)
    assert refused.status_code == 422
    assert "unknown kind &#39;boat&#39;" in refused.text and "储罐区围堰完好" in refused.text
    entered["targets"] = f"enterprise:{first.ref_id}\nchemical_park:{first.ref_id + 10_000}"
    unknown = supervisor.post("/campaigns", data=entered, follow_redirects=False)
    assert unknown.status_code == 422 and "no chemical_park" in unknown.text
    entered["targets"] = f"enterprise:{first.ref_id}"
    created = supervisor.post("/campaigns", data=entered, follow_redirects=False)
    assert created.status_code == 303, created.text
    page = supervisor.get(created.headers["location"])
    assert "2026年涉酸企业专项排查" in page.text and "酸雾收集处理设施运行" in page.text
    assert page.text.count('class="campaign-target"') == 1
    local_form = entered | {"csrf": local_csrf, "name": "县级自建行动"}
    assert local.post("/campaigns", data=local_form, follow_redirects=False).status_code == 403


def _now(points: Sequence[Any]) -> datetime:
    """The moment the demo export was made for (its newest point was seen 6 hours before)."""
    newest: datetime = max(p.observed_at for p in points)
    return newest.replace(tzinfo=CHINA_STANDARD_TIME) + timedelta(hours=6)
