"""Merging a duplicate alert from its page, over real HTTP on SQLite and
PostgreSQL: the page offers the enterprise's other open alerts as targets,
the merge lands through the workflow, and a target outside the user's scope
is refused like an unknown one."""

from __future__ import annotations

import re

from sqlalchemy import Engine, select

from envwatch.alerts.desk import AlertDesk
from envwatch.store.schema import Alert
from tests.alerts.test_desk import DATA_T0, NOW, store_finding
from tests.electricity.test_http_batch import base_url
from tests.web.test_pages_and_api import points_in_two_counties, session

__all__ = ["base_url"]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_duplicate_alert_is_merged_from_its_page(base_url: str, engine: Engine) -> None:
    (mn_a, county_a, _), (mn_b, _, _) = points_in_two_counties(engine)
    store_finding(engine, mn_a, DATA_T0)
    store_finding(engine, mn_a, DATA_T0, rule="constant", severity="warning")
    store_finding(engine, mn_b, DATA_T0)
    store_finding(engine, mn_a, DATA_T0, rule="zero", severity="warning")
    AlertDesk(engine).run_once(NOW)
    with engine.connect() as connection:
        ids = dict(connection.execute(select(Alert.rule, Alert.id).where(Alert.mn == mn_a)).all())
        elsewhere = connection.execute(select(Alert.id).where(Alert.mn == mn_b)).scalar_one()
    duplicate, kept = ids["constant"], ids["exceedance"]

    officer, _ = session(base_url, f"county-{county_a}")
    page = officer.get(f"/alerts/{duplicate}")
    assert page.status_code == 200
    assert f'<option value="{kept}">#{kept} ' in page.text
    assert f'<option value="{elsewhere}">' not in page.text  # another county's alert
    csrf = csrf_of(page.text)

    foreign = {"csrf": csrf, "action": "merge", "into": str(elsewhere)}
    refused = officer.post(f"/alerts/{duplicate}/act", data=foreign)
    assert refused.status_code == 409 and "没有可合并到的预警" in refused.text
    merged = officer.post(f"/alerts/{duplicate}/act", follow_redirects=False,
                          data={"csrf": csrf, "action": "merge", "into": str(kept),
                                "note": "同一次超标的重复预警"})  # fmt: skip
    assert merged.status_code == 303
    with engine.connect() as connection:
        state, into = connection.execute(
            select(Alert.state, Alert.merged_into).where(Alert.id == duplicate)
        ).one()
    assert (state, into) == ("merged", kept)
    after = officer.get(f"/alerts/{duplicate}").text
    assert "已合并" in after and "同一次超标的重复预警" in after
    assert 'value="merge"' not in after  # a merged alert merges no more

    # No retiring each other: back into a merged alert, or a severe one into a milder.
    back = officer.post(f"/alerts/{kept}/act",
                        data={"csrf": csrf, "action": "merge", "into": str(duplicate)})  # fmt: skip
    assert back.status_code == 409 and "只能合并到未关闭的预警" in back.text
    into_zero = {"csrf": csrf, "action": "merge", "into": str(ids["zero"])}
    milder = officer.post(f"/alerts/{kept}/act", data=into_zero)
    assert milder.status_code == 409 and "不能将较严重的预警合并到较轻的预警" in milder.text
    officer.close()
    # The city bureau reopens a merged alert; it is open and stands alone again.
    supervisor, _ = session(base_url, "supervisor")
    page = supervisor.get(f"/alerts/{duplicate}")
    reopened = supervisor.post(f"/alerts/{duplicate}/act", follow_redirects=False,
                               data={"csrf": csrf_of(page.text), "action": "reopen",
                                     "note": "合并有误"})  # fmt: skip
    assert reopened.status_code == 303
    with engine.connect() as connection:
        state, into = connection.execute(
            select(Alert.state, Alert.merged_into).where(Alert.id == duplicate)
        ).one()
    assert (state, into) == ("dispatched", None)
    supervisor.close()
