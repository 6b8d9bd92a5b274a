"""The rules engine is total over what the decoder accepts (issue 12 item 1):
times far in the past or future, NaN, infinities and huge numbers never make
it raise; a data time no logger can mean is a finding of its own and no input
to the rules; an upload a rule still fails on is set aside, and the rules go on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from envwatch.rules.catalogue import RULES
from envwatch.rules.catalogue.base import Rule, register
from envwatch.rules.engine import RuleEngine, default_rule_set
from envwatch.rules.model import Finding, PointContext, Upload, Values
from envwatch.rules.parameters import RuleSet
from tests.rules.test_catalogue import CONTEXTS, MN, T0, air

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 35.0, 100.0, 20.9]),
    st.none(),
)
TIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59), T0]),
)
CODES = st.sampled_from(
    ["a21026", "a19001", "a00000", "a01012", "w01018", "w00000", "w01001", "power_kw"]
)
FLAGS = st.sampled_from(["N", "C", "M", "F", "D", "S", "T", "B", "P", None])


@st.composite
def uploads(draw: st.DrawFn) -> Upload:
    values = {
        code: Values(
            rtd=draw(NUMBERS),
            avg=draw(NUMBERS),
            min=draw(NUMBERS),
            max=draw(NUMBERS),
            cou=draw(NUMBERS),
            flag=draw(FLAGS),
        )
        for code in draw(st.lists(CODES, min_size=1, max_size=4, unique=True))
    }
    return Upload(
        mn=draw(st.sampled_from(sorted(CONTEXTS))),
        cn=draw(st.sampled_from(["2011", "2051", "2061", "2031", "3020"])),
        data_time=draw(TIMES),
        values=values,
        frame_id=draw(st.integers(1, 10**12)),
        received_at=draw(st.one_of(st.none(), TIMES)),
    )


@settings(max_examples=300)
@given(st.lists(uploads(), min_size=1, max_size=12), TIMES)
def test_the_engine_never_fails_on_any_upload_the_decoder_accepts(
    series: list[Upload], clock: datetime
) -> None:
    engine = RuleEngine(default_rule_set(), CONTEXTS)
    for upload in series:
        engine.feed(upload)
        engine.advance_clock()
    engine.advance_clock(clock)
    assert engine.failures == [], engine.failures[:3]


def test_a_data_time_no_logger_can_mean_is_a_finding_and_no_input() -> None:
    engine = RuleEngine(default_rule_set(), CONTEXTS)
    arrived = T0 + timedelta(minutes=5)
    year_one = Upload(MN, "2061", datetime(1, 1, 1), {"a21026": Values(avg=900.0, flag="N")},
                      frame_id=7, received_at=arrived)  # fmt: skip
    (found,) = engine.feed(year_one)
    assert found.rule == "implausible_data_time" and found.window_start == T0
    assert found.evidence["frames"] == [7]
    # Once an hour per device, and the rules never saw it (no exceedance of 900).
    assert engine.feed(year_one) == []
    ahead = Upload(MN, "2061", arrived + timedelta(days=2), {"a21026": Values(avg=900.0)},
                   received_at=arrived)  # fmt: skip
    assert engine.feed(ahead) == []
    # A month-old back-fill is plausible: judged as usual.
    old = Upload(MN, "2061", T0 - timedelta(days=30), {"a21026": Values(avg=900.0, flag="N"),
                 "a19001": Values(avg=6.0, flag="N")}, received_at=arrived)  # fmt: skip
    assert [f.rule for f in engine.feed(old)] == ["exceedance"]
    # Without an arrival time, absolute bounds still hold.
    assert [f.rule for f in engine.feed(air(datetime(2150, 1, 1), 900.0, cn="2061"))] == [
        "implausible_data_time"
    ]


class Brittle(Rule):
    """A rule that fails on SO2 of exactly 13 (as a rule with a defect might)."""

    id = "brittle_for_test"
    kind = "falsification"
    version = 1
    params_model = RULES["zero"].params_model
    title_zh = "测试"

    def on_upload(
        self, state: Any, upload: Upload, context: PointContext, rules: RuleSet
    ) -> list[Finding]:
        state["seen"] = state.get("seen", 0) + 1
        so2 = upload.values.get("a21026")
        if so2 is not None and so2.level == 13.0:
            raise ZeroDivisionError("defect")
        return []


def test_an_upload_a_rule_fails_on_is_set_aside_and_the_rules_go_on() -> None:
    brittle = Brittle()
    engine = RuleEngine(default_rule_set(), CONTEXTS, rules=[brittle, RULES["exceedance"]])
    # The failing rule's own findings and state are lost for that device; others judge on.
    found = engine.feed(air(T0, 13.0, cn="2061")) + engine.feed(air(T0, 900.0, cn="2061"))
    assert [f.rule for f in found] == ["exceedance"]
    (failure,) = engine.failures
    assert (failure.rule, failure.mn) == ("brittle_for_test", MN)
    assert failure.upload is not None and failure.upload.values["a21026"].avg == 13.0
    assert "ZeroDivisionError: defect" in failure.error
    assert engine._states[("brittle_for_test", MN, "")] == {"seen": 1}


def test_the_test_rule_is_not_in_the_catalogue() -> None:
    assert "brittle_for_test" not in RULES and register is not None
