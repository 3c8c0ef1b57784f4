"""`/api/v1/loan-applications` and `/api/v1/robot-applications`: loan interest-discount and
robot purchase-subsidy applications — the SME files (evidence files in the JSON body, base64),
changes, submits, withdraws; an officer approves (reserving the amount in the fund ledger), rejects
or returns.  Every call goes through `voucher.subsidies.services`: the pages' rules and messages."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema
from voucher.storage import send_stored
from voucher.subsidies import queries, services
from voucher.subsidies.access import RULES as ACCESS
from voucher.subsidies.schemas import (
    LoanApplicationCreateSchema,
    LoanApplicationInputSchema,
    LoanApplicationSchema,
    RobotApplicationCreateSchema,
    RobotApplicationInputSchema,
    RobotApplicationSchema,
    SubsidyDecisionSchema,
    SubsidyListArgs,
    SubsidySummarySchema,
)

READERS = ACCESS["subsidies.read"].roles

blp = api_blueprint("api-subsidies", __name__, description="Loan interest-discount and robot purchase-subsidy "
                    "applications: the amount and its working are computed when saved (the LPR in force on the "
                    "contract date, the programme's parameters, the enterprise cap); approval reserves it in the "
                    "fund ledger. Evidence files travel in the JSON body as base64.")

SummaryPage = page_schema("SubsidyApplicationPage", SubsidySummarySchema)

RESOURCES = {"loan": "loan-applications", "robot": "robot-applications"}
FILE_TYPES = ("application/pdf", "image/jpeg", "image/png")
DETAIL_SCHEMAS = {"loan": LoanApplicationSchema, "robot": RobotApplicationSchema}


class SubsidyListQuery(PageArgs, SubsidyListArgs):
    pass


def _labels():
    from voucher.subsidies.views import BUREAU_NEXT_STEPS, SME_NEXT_STEPS, STATUS_LABELS

    return STATUS_LABELS, SME_NEXT_STEPS, BUREAU_NEXT_STEPS


def _file_json(stored) -> dict:
    return {"id": stored.id, "purpose": stored.purpose, "name": stored.original_name,
            "content_type": stored.content_type, "size_bytes": stored.size_bytes, "sha256": stored.sha256}


def _own(actor, app) -> bool:
    return actor.role == "sme" and actor.organisation_id == app.enterprise_id


def detail_json(kind: str, app, actor) -> dict:
    from flask_babel import gettext

    status_labels, sme_steps, bureau_steps = _labels()
    own = _own(actor, app)
    actions = services.KINDS[kind].machine.available(app.status, actor.role) if (own or actor.role == "officer") else []
    if own and app.status in services.EDITABLE_STATES:
        actions = ["update", *actions]
    if kind == "loan":
        file_ids = [app.plan_file_id, app.statement_file_id]
    else:
        file_ids = [x.invoice_file_id for x in app.lines]
    files = queries.files_by_id(file_ids)
    out = {"id": app.id, "number": app.number, "application_number": app.number, "programme_id": app.programme_id,
           "programme_name": queries.programme_names([app.programme_id]).get(app.programme_id, ""),
           "enterprise": {"id": app.enterprise.id, "name": app.enterprise.name}, "status": app.status,
           "status_label": str(status_labels.get(app.status, app.status)),
           "next_step": str((sme_steps if own else bureau_steps).get(app.status, "")),
           "approved_amount": app.approved_amount,
           "working": [{"code": s.get("code", ""), "text": services.render_step(s, gettext),
                        "values": {k: str(v) for k, v in (s.get("values") or {}).items()}} for s in app.working or []],
           "parameters": dict(app.params or {}),
           "files": [_file_json(files[i]) for i in dict.fromkeys(file_ids) if i in files],
           "materials": [{"code": m.code, "label": str(m.label), "required": m.required, "formats": list(m.formats),
                          "files": len(by_code.get(m.code, []))}
                         for by_code in [services.materials_by_code(kind, app.id)] for m in services.checklist(kind, app)],
           "decision_reason": app.decision_reason, "submitted_at": app.submitted_at, "decided_at": app.decided_at,
           "created_at": app.created_at, "updated_at": app.updated_at, "allowed_actions": actions}
    if kind == "loan":
        out.update({f: getattr(app, f) for f in ("bank_name", "contract_no", "contract_date", "principal", "loan_rate",
                                                 "term_start", "term_end", "benchmark_rate",
                                                 "benchmark_effective_from", "rate_ceiling", "computed_discount")})
        out["periods"] = [{"start": p.start_date, "end": p.end_date, "days": p.days,
                           "outstanding_principal": p.outstanding_principal, "interest_paid": p.interest_paid,
                           "eligible_principal": p.eligible_principal, "discount": p.discount,
                           "capped_by_interest_paid": p.capped_by_interest_paid} for p in app.periods]
    else:
        out.update({f: getattr(app, f) for f in ("pilot_industry", "industry", "already_granted", "uncapped_total",
                                                 "computed_subsidy", "cap_applied")})
        out["lines"] = [{f: getattr(x, f) for f in ("model", "manufacturer", "domestic", "quantity",
                                                    "unit_price_excl_vat", "invoice_no", "invoice_date",
                                                    "invoice_file_id", "rate", "eligible_cost", "subsidy", "granted")}
                        for x in app.lines]
    from voucher.programmes.services import version_ref_of

    out["rule_version"] = version_ref_of(app.rule_version_id)
    return out


def _get(kind: str, actor, application_id: int):
    services.get_application(actor, kind, application_id)  # 404 / 403 first
    return queries.with_rows(kind, application_id)


def _detail(kind: str, application_id: int) -> dict:
    actor = api_actor()
    return detail_json(kind, _get(kind, actor, application_id), actor)


def loan_input(body: dict) -> services.LoanInput:
    periods = tuple(services.PeriodInput(p["start"], p["end"], p["outstanding_principal"], p["interest_paid"])
                    for p in body["periods"])
    return services.LoanInput(programme_id=body["programme_id"], bank_name=body["bank_name"],
                              contract_no=body["contract_no"], contract_date=body["contract_date"],
                              principal=body["principal"], loan_rate=body["loan_rate"], term_start=body["term_start"],
                              term_end=body["term_end"], periods=periods)


def robot_input(body: dict) -> services.RobotInput:
    lines = tuple(services.RobotLineInput(model=x["model"], manufacturer=x["manufacturer"], domestic=x["domestic"],
                                          quantity=x["quantity"], unit_price_excl_vat=x["unit_price_excl_vat"],
                                          invoice_no=x["invoice_no"], invoice_date=x["invoice_date"],
                                          invoice_file=x.get("invoice_file")) for x in body["lines"])
    return services.RobotInput(programme_id=body["programme_id"], lines=lines)


def _storage() -> dict:
    return {"max_bytes": current_app.config["UPLOAD_MAX_BYTES"]}


def save(kind: str, body: dict, application_id: int | None = None):
    actor = api_actor()
    token = body.get("idempotency_key") if application_id is None else None
    if kind == "loan":
        return services.save_loan_application(actor, loan_input(body), plan=body.get("plan_file"),
                                              statement=body.get("statement_file"), application_id=application_id,
                                              client_token=token, **_storage())
    return services.save_robot_application(actor, robot_input(body), application_id=application_id,
                                           client_token=token, **_storage())


def list_json(kind: str, args: dict) -> dict:
    actor = api_actor()
    status_labels = _labels()[0]
    if actor.role == "sme":
        page = _sme_page(kind, actor.organisation_id or -1, args)
        names = queries.programme_names([a.programme_id for a in page.items])
        items = [{"id": a.id, "number": a.number, "application_number": a.number, "status": a.status, "status_label": str(status_labels.get(a.status, a.status)),
                  "enterprise": {"id": a.enterprise.id, "name": a.enterprise.name},
                  "programme_name": names.get(a.programme_id, ""),
                  "amount": a.approved_amount if a.approved_amount is not None else (
                      a.computed_discount if kind == "loan" else a.computed_subsidy),
                  "submitted_at": a.submitted_at, "created_at": a.created_at} for a in page.items]
        return page_json(page, items)
    page = queries.review_page(kind, args.get("status"), args.get("q"), args["page"], args["per_page"],
                              args.get("cursor"))
    items = [{"id": r.id, "number": r.number, "application_number": r.number, "status": r.status, "status_label": str(status_labels.get(r.status, r.status)),
              "enterprise": {"id": r.enterprise_id, "name": r.enterprise_name}, "programme_name": r.programme_name,
              "amount": r.amount, "submitted_at": r.submitted_at, "created_at": r.created_at} for r in page.items]
    return page_json(page, items)


def _sme_page(kind: str, enterprise_id: int, args: dict):
    list_query = queries.enterprise_loans if kind == "loan" else queries.enterprise_robots
    return list_query(enterprise_id, args["page"], args["per_page"], args.get("cursor"), status=args.get("status"))


def _register(kind: str) -> None:
    resource = RESOURCES[kind]
    detail_schema = DETAIL_SCHEMAS[kind]
    create_schema = LoanApplicationCreateSchema if kind == "loan" else RobotApplicationCreateSchema
    input_schema = LoanApplicationInputSchema if kind == "loan" else RobotApplicationInputSchema
    noun = "loan interest-discount" if kind == "loan" else "robot purchase-subsidy"

    class Collection(MethodView):
        @auth(blp, *READERS)
        @blp.arguments(SubsidyListQuery, location="query")
        @blp.response(200, SummaryPage)
        def get(self, args):
            return list_json(kind, args)

        @auth(blp, *ACCESS["subsidies.file"].roles)
        @errors(blp, 400, 409, 413)
        @blp.arguments(create_schema)
        @blp.response(201, detail_schema)
        def post(self, body):
            return detail_json(kind, save(kind, body), api_actor())

    Collection.get.__doc__ = (f"{noun.capitalize()} applications: an SME's own (newest first), or for bureau roles "
                              "every submitted one (filter by status, search by enterprise).")
    Collection.post.__doc__ = (f"File a {noun} application as a draft (an SME user of a registered SME enterprise)."
                               "\n\nThe amount and its working are computed now; a refused claim names each bad "
                               "field. The same `idempotency_key` again returns the first application.")

    class Item(MethodView):
        @auth(blp, *READERS)
        @errors(blp, 404)
        @blp.response(200, detail_schema)
        def get(self, application_id: int):
            return _detail(kind, application_id)

        @auth(blp, *ACCESS["subsidies.file"].roles)
        @errors(blp, 400, 404, 409, 413)
        @blp.arguments(input_schema)
        @blp.response(200, detail_schema)
        def put(self, body, application_id: int):
            save(kind, body, application_id)
            return _detail(kind, application_id)

    Item.get.__doc__ = (f"One {noun} application with its computed amount, working and evidence files (its "
                        "enterprise's users and bureau roles; another enterprise's user gets 403).")
    Item.put.__doc__ = (f"Replace a draft's (or a returned application's) {noun} claim; files may be left out to "
                        "keep the ones attached.")

    Collection.__name__ = f"{kind.capitalize()}ApplicationList"
    Item.__name__ = f"{kind.capitalize()}ApplicationItem"
    blp.route(f"/{resource}")(Collection)
    blp.route(f"/{resource}/<id:application_id>")(Item)

    for action, roles, summary in (
            ("submit", ACCESS["subsidies.file"].roles, "Submit the application to the bureau (the programme's window must be open)."),
            ("withdraw", ACCESS["subsidies.file"].roles, "Withdraw a draft, submitted or returned application (a robot application "
                                   "gives its invoices back)."),
            ("approve", ACCESS["subsidies.decide"].roles, "Approve a submitted application: the amount is reserved in the fund ledger "
                                      "(refused with the figures when the budget or the enterprise cap is short)."),
            ("reject", ACCESS["subsidies.decide"].roles, "Reject a submitted application (reason required)."),
            ("return", ACCESS["subsidies.decide"].roles, "Return a submitted application for revision (reason: what to revise).")):
        _register_action(kind, resource, detail_schema, action, roles, summary)

    def download(application_id: int, file_id: int):
        stored = services.application_file(api_actor(), kind, application_id, file_id)
        return send_stored(stored, max_age=None)

    download.__name__ = f"{kind}_file"
    download.__doc__ = (f"Download an evidence file of a {noun} application (who may read the application).")
    decorated = download
    for content_type in FILE_TYPES:
        decorated = blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=content_type,
                                     description="The file's bytes", success=True)(decorated)
    decorated = errors(blp, 404)(decorated)
    decorated = auth(blp, *READERS)(decorated)
    blp.route(f"/{resource}/<id:application_id>/files/<id:file_id>", endpoint=f"{kind}_file")(decorated)
    _register_materials(kind, resource, noun)


def _register_materials(kind: str, resource: str, noun: str) -> None:
    from voucher.api.applications import MaterialFileSchema, MaterialsUploadSchema

    def add_materials(body, application_id: int):
        stored = services.add_materials(api_actor(), kind, application_id, {body["material"]: list(body["files"])},
                                        max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
        return [{"id": f.id, "material": f.material, "name": f.original_name, "content_type": f.content_type,
                 "size_bytes": f.size_bytes, "sha256": f.sha256} for f in stored]

    add_materials.__name__ = f"{kind}_materials"
    add_materials.__doc__ = (f"Attach files (base64 in the body, several at once) to one material of a {noun} "
                             "application's checklist (`materials` on the application), while it is a draft or "
                             "returned; formats are checked by content as the material allows. Submitting is "
                             "refused while a required material has no file.")
    decorated = blp.response(201, MaterialFileSchema(many=True))(add_materials)
    decorated = blp.arguments(MaterialsUploadSchema)(decorated)
    decorated = errors(blp, 400, 404, 409)(decorated)
    decorated = auth(blp, "sme")(decorated)
    blp.route(f"/{resource}/<id:application_id>/materials", methods=["POST"],
              endpoint=f"{kind}_materials")(decorated)


def _register_action(kind, resource, detail_schema, action, roles, summary) -> None:
    def view(body, application_id: int):
        services.act(api_actor(), kind, application_id, action, reason=(body or {}).get("reason"))
        return _detail(kind, application_id)

    view.__name__ = f"{kind}_{action}"
    view.__doc__ = summary
    decorated = blp.response(200, detail_schema)(view)
    decorated = blp.arguments(SubsidyDecisionSchema, required=False)(decorated)
    decorated = errors(blp, 400, 404, 409)(decorated)
    decorated = auth(blp, *roles)(decorated)
    blp.route(f"/{resource}/<id:application_id>/{action}", methods=["POST"], endpoint=f"{kind}_{action}")(decorated)


_register("loan")
_register("robot")
