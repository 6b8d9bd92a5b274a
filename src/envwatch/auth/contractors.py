"""Operation contractors (运维单位) and the devices they run: the link that
scopes a contractor's users to those devices, across enterprises."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, distinct, func, insert, select, update

from envwatch.audit.log import Actor, record
from envwatch.errors import PeerError
from envwatch.store.schema import Contractor, Enterprise, MonitoringPoint

CREDIT_CODE_LENGTH = 18  # 统一社会信用代码


class ContractorError(PeerError):
    """A contractor record or assignment refused, with the reason."""


@dataclass(frozen=True, slots=True)
class ContractorSummary:
    id: int
    name: str
    credit_code: str
    devices: int
    enterprises: int


def add_contractor(connection: Connection, name: str, credit_code: str, actor: Actor) -> int:
    """Register an operation contractor; its id."""
    name, credit_code = name.strip(), credit_code.strip().upper()
    if not name or len(name) > 200:
        raise ContractorError("bad_name", "a name of 1 to 200 characters is required",
                              "运维单位名称须为1至200个字符")  # fmt: skip
    if len(credit_code) != CREDIT_CODE_LENGTH or not credit_code.isalnum():
        raise ContractorError("bad_credit_code",
                              "the unified social credit code has 18 letters and digits",
                              "统一社会信用代码须为18位字母或数字")  # fmt: skip
    taken = connection.execute(
        select(Contractor.id).where(Contractor.credit_code == credit_code)
    ).first()
    if taken is not None:
        raise ContractorError("duplicate_contractor", f"contractor {credit_code} exists",
                              f"运维单位{credit_code}已登记")  # fmt: skip
    values = {"name": name, "credit_code": credit_code}
    contractor_id = int(
        connection.execute(insert(Contractor).values(**values).returning(Contractor.id))
        .scalar_one()
    )  # fmt: skip
    record(connection, actor, "contractor.add", "contractor", contractor_id, after=values)
    return contractor_id


def assign_devices(
    connection: Connection,
    contractor_id: int | None,
    actor: Actor,
    *,
    mns: Sequence[str] = (),
    enterprise_id: int | None = None,
) -> list[str]:
    """Hand the devices ``mns`` (and every device of ``enterprise_id``) to the
    contractor, or to none with ``contractor_id`` None; the MNs changed."""
    known = select(Contractor.id).where(Contractor.id == contractor_id)
    if contractor_id is not None and connection.execute(known).first() is None:
        raise ContractorError("unknown_contractor", f"no contractor {contractor_id}",
                              f"没有编号为{contractor_id}的运维单位")  # fmt: skip
    if not mns and enterprise_id is None:
        raise ContractorError("no_devices", "name devices (--mn) or an enterprise (--enterprise)",
                              "请指定监测设备（--mn）或企业（--enterprise）")  # fmt: skip
    wanted = set(mns)
    if wanted:
        found = set(
            connection.execute(select(MonitoringPoint.mn).where(MonitoringPoint.mn.in_(wanted)))
            .scalars()
        )  # fmt: skip
        unknown = sorted(wanted - found)
        if unknown:
            raise ContractorError("unknown_device", f"no monitoring point {unknown[0]}",
                                  f"没有监测点{unknown[0]}")  # fmt: skip
    if enterprise_id is not None:
        registered = select(Enterprise.id).where(Enterprise.id == enterprise_id)
        if connection.execute(registered).first() is None:
            raise ContractorError("unknown_enterprise", f"no enterprise {enterprise_id}",
                                  f"没有编号为{enterprise_id}的企业")  # fmt: skip
        wanted |= set(
            connection.execute(
                select(MonitoringPoint.mn).where(MonitoringPoint.enterprise_id == enterprise_id)
            ).scalars()
        )
    before = dict(
        connection.execute(
            select(MonitoringPoint.mn, MonitoringPoint.contractor_id).where(
                MonitoringPoint.mn.in_(wanted)
            )
        ).all()
    )
    changed = sorted(mn for mn, current in before.items() if current != contractor_id)
    if changed:
        connection.execute(
            update(MonitoringPoint)
            .where(MonitoringPoint.mn.in_(changed))
            .values(contractor_id=contractor_id)
        )
        record(connection, actor, "contractor.assign", "contractor", contractor_id or "-",
               before={mn: before[mn] for mn in changed},
               after=dict.fromkeys(changed, contractor_id))  # fmt: skip
    return changed


def list_contractors(connection: Connection) -> list[ContractorSummary]:
    """Every contractor with how many devices, of how many enterprises, it runs."""
    rows = connection.execute(
        select(
            Contractor.id,
            Contractor.name,
            Contractor.credit_code,
            func.count(MonitoringPoint.mn),
            func.count(distinct(MonitoringPoint.enterprise_id)),
        )
        .outerjoin(MonitoringPoint, MonitoringPoint.contractor_id == Contractor.id)
        .group_by(Contractor.id, Contractor.name, Contractor.credit_code)
        .order_by(Contractor.id)
    ).all()
    return [ContractorSummary(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in rows]
