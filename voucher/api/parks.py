"""`/api/v1/parks`: small-and-micro enterprise parks (小微企业园, issue 20 §3), read only.  A park operator
reads the parks its organisation operates (another park: 403), the park's figures and its confirmed
enterprises with their programme use; the bureau reads every park.  The same queries as the pages
(``voucher.parks.queries``); no bank detail in any answer."""
from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import DEFAULT_PER_PAGE, MAX_PAGE, MAX_PER_PAGE, auth, errors, page_json, page_schema
from voucher.parks import queries, services
from voucher.parks.access import RULES as ACCESS
from voucher.parks.schemas import MemberListArgs, MemberSchema, ParkSchema, ParkSummarySchema
from voucher.schema_fields import WholeRange

READERS = ACCESS["parks.read"].roles

blp = api_blueprint("api-parks", __name__, description="Small-and-micro enterprise parks: the park operator "
                    "reads its park's figures and its confirmed member enterprises' programme use (read only).")

MemberPage = page_schema("ParkMemberPage", MemberSchema)


class MemberListQuery(MemberListArgs):
    page = ma.fields.Integer(load_default=1, validate=WholeRange(1, MAX_PAGE),
                             metadata={"description": "Page number, from 1"})
    per_page = ma.fields.Integer(load_default=DEFAULT_PER_PAGE, validate=WholeRange(1, MAX_PER_PAGE),
                                 metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}"})


def park_json(park) -> dict:
    return {"id": park.id, "name": park.name, "district": park.district, "operator": park.operator.name}


def _kinds(applications: dict) -> dict:
    return {kind: {"filed": sum(n for s, n in applications.get(kind, {}).items() if s != "draft"),
                   "approved": sum(n for s, n in applications.get(kind, {}).items() if s in queries.APPROVED_STATES),
                   "by_status": dict(applications.get(kind, {}))} for kind in queries.KINDS}


def summary_json(park) -> dict:
    f = queries.figures(park.id)
    return {"park": park_json(park), "members": f.members, "pending": f.pending, "active": f.active,
            "applications": _kinds(f.applications), "trials": f.trials, "adoption_decisions": f.decisions,
            "adopted": f.adopted, "adoption_rate": f.adoption_rate, "granted": f.granted, "paid": f.paid}


def member_json(m) -> dict:
    org, ent, u = m.organisation, m.enterprise, m.usage
    return {"id": org.id, "name": org.name, "uscc": org.uscc, "district": ent.district, "industry": ent.industry,
            "size_class": ent.size_class, "member_since": m.confirmed_at, "applications": _kinds(u.applications),
            "trials": u.trials, "adopted": u.adopted, "granted": u.granted, "paid": u.paid,
            "maturity_level": u.maturity or None}


@blp.route("/parks")
class ParkList(MethodView):
    @auth(blp, *READERS)
    @blp.response(200, ParkSchema(many=True))
    def get(self):
        """The parks the caller reads: a park operator its own, the bureau every park."""
        actor = api_actor()
        parks = (queries.parks_of_operator(actor.organisation_id) if actor.role == "park_operator"
                 else queries.all_parks())
        return [park_json(p) for p in parks]


@blp.route("/parks/<id:park_id>/summary")
class ParkSummary(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, ParkSummarySchema)
    def get(self, park_id: int):
        """The park's figures over its confirmed members: applications by kind and status, trials, adoption,
        grants approved and paid (another operator's park: 403)."""
        return summary_json(services.get_park(api_actor(), park_id))


@blp.route("/parks/<id:park_id>/enterprises")
class ParkMembers(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.arguments(MemberListQuery, location="query")
    @blp.response(200, MemberPage)
    def get(self, args, park_id: int):
        """The park's confirmed member enterprises (name order) with their programme use; search by name or the
        start of the credit code."""
        park = services.get_park(api_actor(), park_id)
        q = (args.get("q") or "").strip() or None
        pagination = queries.members_page(park.id, q, args["page"], args["per_page"])
        return page_json(pagination, [member_json(m) for m in pagination.items])
