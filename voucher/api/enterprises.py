"""`/api/v1/enterprise` (the caller's own enterprise: register, read, change) and
`/api/v1/enterprises` (the bureau's list; one enterprise for its own users and the bureau).
Every change goes through `voucher.enterprises.services`."""
from __future__ import annotations

from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema
from voucher.enterprises import queries, services
from voucher.enterprises.access import RULES as ACCESS
from voucher.enterprises.schemas import EnterpriseInputSchema, EnterpriseListArgs, EnterpriseSchema
from voucher.errors import N_, NotFound

BUREAU = ACCESS["enterprises.index"].roles

blp = api_blueprint("api-enterprises", __name__, description="Enterprises: an SME user registers and keeps its "
                    "enterprise's profile (size class derived from employees and revenue); the bureau lists them.")

EnterprisePage = page_schema("EnterprisePage", EnterpriseSchema)




NOT_REGISTERED = N_("Your enterprise is not registered yet: register it first.")


class EnterpriseListQuery(PageArgs, EnterpriseListArgs):
    pass


def enterprise_json(org) -> dict:
    ent = org.enterprise
    profile = {f: getattr(ent, f) if ent is not None else None
               for f in ("district", "industry", "employees", "annual_revenue", "size_class", "industrial_park")}
    return {"id": org.id, "name": org.name, "uscc": org.uscc, **profile,
            "is_sme": bool(ent is not None and ent.is_sme), "contact_name": org.contact_name,
            "contact_phone": org.contact_phone, "bank_name": org.bank_name, "bank_account": org.bank_account,
            "bank_code": org.bank_code, "created_at": org.created_at}


def enterprise_input(body: dict) -> services.EnterpriseInput:
    return services.EnterpriseInput(**{k: body.get(k) for k in (
        "name", "uscc", "district", "industry", "employees", "annual_revenue", "industrial_park", "contact_name",
        "contact_phone", "bank_name", "bank_account", "bank_code")})


@blp.route("/enterprise")
class MyEnterprise(MethodView):
    @auth(blp, *ACCESS["enterprises.own_profile"].roles)
    @errors(blp, 404)
    @blp.response(200, EnterpriseSchema)
    def get(self):
        """The caller's enterprise (404 until it is registered)."""
        org = services.my_enterprise(api_actor())
        if org is None:
            raise NotFound(NOT_REGISTERED)
        return enterprise_json(org)

    @auth(blp, *ACCESS["enterprises.own_profile"].roles)
    @errors(blp, 400, 409)
    @blp.arguments(EnterpriseInputSchema)
    @blp.response(201, EnterpriseSchema)
    def post(self, body):
        """Register the caller's enterprise and link the caller to it (once; a credit code registers once)."""
        return enterprise_json(services.register_enterprise(api_actor(), enterprise_input(body)))

    @auth(blp, *ACCESS["enterprises.own_profile"].roles)
    @errors(blp, 400, 404, 409)
    @blp.arguments(EnterpriseInputSchema)
    @blp.response(200, EnterpriseSchema)
    def put(self, body):
        """Replace the caller's enterprise profile (the size class is derived again)."""
        actor = api_actor()
        current = services.my_enterprise(actor)
        if current is None:
            raise NotFound(NOT_REGISTERED)
        if "bank_code" not in body:  # a client that does not know the field keeps the code on file
            body = {**body, "bank_code": current.bank_code}
        org, _changed = services.update_enterprise(actor, actor.organisation_id, enterprise_input(body))
        return enterprise_json(org)


@blp.route("/enterprises")
class EnterpriseList(MethodView):
    @auth(blp, *BUREAU)
    @blp.arguments(EnterpriseListQuery, location="query")
    @blp.response(200, EnterprisePage)
    def get(self, args):
        """Registered enterprises, newest first; search by name or credit code, filter by district, industry,
        size class."""
        pagination = queries.enterprises_page(q=args.get("q"), district=args.get("district"),
                                              industry=args.get("industry"), size_class=args.get("size_class"),
                                              page=args["page"], per_page=args["per_page"],
                                              cursor=args.get("cursor"), seek=True)
        return page_json(pagination, [enterprise_json(o) for o in pagination.items])


@blp.route("/enterprises/<id:enterprise_id>")
class EnterpriseItem(MethodView):
    @auth(blp, *ACCESS["enterprises.read"].roles)
    @errors(blp, 404)
    @blp.response(200, EnterpriseSchema)
    def get(self, enterprise_id: int):
        """One enterprise: its own SME users and the bureau (another enterprise's user: 403)."""
        return enterprise_json(services.get_enterprise(api_actor(), enterprise_id))
