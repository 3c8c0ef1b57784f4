"""Demo parks for ``make run`` (called by ``voucher.demo.seed``): 龙湾小微企业园 run by the demo park
operator (park_operator@demo.test) with three confirmed member enterprises (the demo SME among them) and one
request waiting, and a second park with its own operator and one member (another park's data, which
the demo operator must not see).  Idempotent: keyed by the parks' and organisations' names."""
from __future__ import annotations

from sqlalchemy import select

from voucher.audit.services import record_event
from voucher.db import utcnow
from voucher.extensions import db
from voucher.parks.models import Park, ParkMembership

PARKS = [
    # park, district, operator organisation, confirmed member indexes, pending member indexes
    ("龙湾小微企业园", "longwan", "温州龙湾小微园运营管理有限公司", (0, 5, 9), (11,)),
    ("乐清经开区小微园", "yueqing", "乐清经开区园区服务有限公司", (2,), ()),
]


def seed_parks(seeder, make_org, enterprises, counts: dict) -> dict[str, object]:
    """The parks and memberships; returns the operator organisations by park name (for the users)."""
    operators = {}
    for i, (name, district, operator_name, confirmed, pending) in enumerate(PARKS):
        operator, created = make_org("park", operator_name, contact_name="园区服务中心",
                                     contact_phone=f"0577-8688{i:04d}")
        if created:
            counts["organisations"] = counts.get("organisations", 0) + 1
        operators[name] = operator
        if db.session.scalar(select(Park.id).where(Park.name == name)):
            continue
        park = Park(name=name, district=district, operator_id=operator.id)
        db.session.add(park)
        db.session.flush()
        record_event(seeder, "park.create", "park", park.id, after={"name": name, "district": district})
        counts["parks"] = counts.get("parks", 0) + 1
        for index in confirmed + pending:
            status = "confirmed" if index in confirmed else "pending"
            m = ParkMembership(park_id=park.id, enterprise_id=enterprises[index].id, status=status,
                               decided_at=utcnow() if status == "confirmed" else None)
            db.session.add(m)
            db.session.flush()
            record_event(seeder, "park_membership.request", "park_membership", m.id,
                         after={"status": status, "park_id": park.id, "enterprise_id": enterprises[index].id})
    return operators
