"""Who sees what: the one scope rule, as a SQL condition.

City roles see everything; county officers their counties; enterprise users
their enterprise; operation contractors (运维单位) the devices their
contractor runs (``monitoring_point.contractor_id``), across enterprises, and
nothing else. Every query of alerts, findings, points, hours and cases, and
the desk's check before an action, goes through ``scope_by``; it lives apart
from the queries so the desk (which the queries read from) can use it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, false, select, true
from sqlalchemy.orm import QueryableAttribute

from envwatch.store.schema import Alert, Enterprise, Meter, MonitoringPoint

CITY_ROLES = frozenset({"city_admin", "city_supervisor", "enforcement_officer", "viewer"})
ENTERPRISE_ROLES = frozenset({"enterprise_user"})
CONTRACTOR_ROLES = frozenset({"contractor"})
SUPERVISOR_ROLES = CITY_ROLES | {"county_officer"}
"""Those who supervise (the bureau and the counties), as opposed to the
supervised (enterprises and their contractors)."""


class Viewer(Protocol):
    """Whoever asks: a person's session, a read token, a user row made one."""

    @property
    def role(self) -> str: ...

    @property
    def enterprise_id(self) -> int | None: ...

    @property
    def contractor_id(self) -> int | None: ...

    @property
    def counties(self) -> set[str]: ...


def devices_run_by(contractor_id: int) -> Any:
    """The MNs of the devices the contractor runs (a subquery)."""
    return select(MonitoringPoint.mn).where(MonitoringPoint.contractor_id == contractor_id)


def scope_by(
    user: Viewer,
    county: QueryableAttribute[Any],
    enterprise: QueryableAttribute[Any],
    device: QueryableAttribute[Any] | None = None,
) -> ColumnElement[bool]:
    """What ``user`` may see, on rows whose county, enterprise and device (MN)
    are these columns. Rows without a device (an enterprise, a case) are
    nobody's to see by device: a contractor sees none of them."""
    if user.role in CITY_ROLES:
        return true()
    if user.role == "county_officer":
        return county.in_(sorted(user.counties)) if user.counties else false()
    if user.role in ENTERPRISE_ROLES and user.enterprise_id is not None:
        return enterprise == user.enterprise_id
    if user.role in CONTRACTOR_ROLES and user.contractor_id is not None and device is not None:
        return device.in_(devices_run_by(user.contractor_id))
    return false()


def scope(user: Viewer) -> ColumnElement[bool]:
    """The alerts ``user`` may see."""
    return scope_by(user, Alert.county_code, Alert.enterprise_id, Alert.mn)


def sees_device(connection: Connection, user: Viewer, mn: str) -> bool:
    """Whether the device ``mn`` (an MN, or ``meter:<id>`` of a batch-only
    meter) exists and is ``user``'s to see."""
    if mn.startswith("meter:") and mn[6:].isdigit():
        # A batch-only meter is the enterprise's, run by no contractor.
        query: Any = (
            select(Meter.id)
            .join(Enterprise, Meter.enterprise_id == Enterprise.id)
            .where(Meter.id == int(mn[6:]), scope_by(user, Enterprise.county_code, Enterprise.id))
        )
    else:
        query = (
            select(MonitoringPoint.mn)
            .outerjoin(Enterprise, MonitoringPoint.enterprise_id == Enterprise.id)
            .where(
                MonitoringPoint.mn == mn,
                scope_by(user, Enterprise.county_code, MonitoringPoint.enterprise_id,
                         MonitoringPoint.mn),
            )
        )  # fmt: skip
    return connection.execute(query.limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class UserScope:
    """A stored user (an ``app_user`` row) as a Viewer."""

    role: str
    enterprise_id: int | None
    contractor_id: int | None
    county_codes: str

    @property
    def counties(self) -> set[str]:
        return {code.strip() for code in self.county_codes.split(",") if code.strip()}


def viewer_of(user: Any) -> UserScope:
    """An ``app_user`` row as a Viewer."""
    return UserScope(user.role, user.enterprise_id, user.contractor_id, user.county_codes or "")
