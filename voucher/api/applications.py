"""`/api/v1/trial-applications`: trial-voucher applications — the SME's drafts (idempotent
creation), changes, submission and withdrawal; the officer's approval (reserving the amount in the
fund ledger), rejection, return for revision and cancellation.  Every call goes through
`voucher.applications.services`: the same rules, messages and audit trail as the pages."""
from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from marshmallow.validate import Length

from voucher.access import can
from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema, renamed_fields
from voucher.api.schemas import FileUploadSchema
from voucher.applications import queries, services
from voucher.applications.access import RULES as ACCESS
from voucher.applications.models import INDICATOR_CODES, baseline_column
from voucher.applications.schemas import (
    ApplicationCreateSchema,
    ApplicationDetailSchema,
    ApplicationListArgs,
    ApplicationSchema,
    ContentSchema,
    DecisionSchema,
)
from voucher.programmes import services as ledger

READERS = ACCESS["applications.read"].roles

blp = api_blueprint("api-trial-applications", __name__, description="Trial-voucher applications: an SME files "
                    "(draft, idempotent), revises, submits and withdraws; an officer approves (reserving the amount "
                    "in the fund ledger), rejects, returns for revision or cancels an approval.")

ApplicationPage = page_schema("ApplicationPage", ApplicationSchema)

# The services name baseline fields as the form does; the API nests them.
FIELD_NAMES = {baseline_column(code): f"baselines.{code}" for code in INDICATOR_CODES}


class ApplicationListQuery(PageArgs, ApplicationListArgs):
    pass


def application_json(app, actor) -> dict:
    next_steps = queries.SME_NEXT_STEP if actor.role == "sme" else queries.OFFICER_NEXT_STEP
    return {"id": app.id, "number": app.number, "application_number": app.number, "programme_id": app.programme_id,
            "enterprise": {"id": app.enterprise.id, "name": app.enterprise.name},
            "solution": {"id": app.solution.id, "title": app.solution.title},
            "provider": {"id": app.provider.id, "name": app.provider.name},
            "requested_amount": app.requested_amount, "need_statement": app.need_statement,
            "contract_date": app.contract_date, "trial_start_date": app.trial_start_date,
            "baselines": app.baselines, "status": app.status, "status_label": queries.status_label(app.status),
            "next_step": str(next_steps.get(app.status, "")), "submitted_at": app.submitted_at,
            "decided_at": app.decided_at, "decision_reason": app.decision_reason, "created_at": app.created_at,
            "updated_at": app.updated_at}


def detail_json(app, actor) -> dict:
    quota = services.quota(app.programme, app.enterprise_id)
    return {**application_json(app, actor), "reserved": ledger.source_outstanding(services.SOURCE_TYPE, app.id),
            "rule_version": ledger.version_ref_of(app.rule_version_id),
            "quota": {"cap": quota.cap, "used": quota.used, "remaining": quota.remaining},
            "allowed_actions": allowed_actions(app, actor),
            "materials": [{"code": m.code, "label": str(m.label), "required": m.required, "formats": list(m.formats),
                           "files": len(files.get(m.code, []))}
                          for files in [services.materials_by_code(app.id)] for m in services.checklist(app)]}


def allowed_actions(app, actor) -> list[str]:
    if actor.role == "sme" and not can(actor, "applications.file", app):
        return []
    actions = [a for a in services.MACHINE.available(app.status, actor.role) if a != "resume"]
    if actor.role == "sme" and app.status in ("draft", "returned"):
        actions.insert(0, "update")
    return actions


def content(body: dict) -> services.Content:
    return services.Content(requested_amount=body["requested_amount"], need_statement=body["need_statement"],
                            contract_date=body["contract_date"], trial_start_date=body["trial_start_date"],
                            baselines=dict(body["baselines"]))


def _detail(application_id: int) -> dict:
    actor = api_actor()
    return detail_json(services.get_application(actor, application_id), actor)


@blp.route("/trial-applications")
class ApplicationList(MethodView):
    @auth(blp, *READERS)
    @blp.arguments(ApplicationListQuery, location="query")
    @blp.response(200, ApplicationPage)
    def get(self, args):
        """An SME's own applications (newest first; filter by status), or for bureau roles every application
        that reached the bureau (filter by status, district, industry, solution, search; sort)."""
        actor = api_actor()
        if actor.role == "sme":
            pagination = queries.my_page(actor.organisation_id or -1, args["page"], args["per_page"],
                                         args.get("status"), args.get("cursor"))
        else:
            filters = queries.QueueFilters(status=args.get("status"), district=args.get("district"),
                                           industry=args.get("industry"), solution_id=args.get("solution_id"),
                                           q=args.get("q"), sort=args["sort"])
            pagination = queries.review_page(filters, args["page"], args["per_page"], args.get("cursor"))
        return page_json(pagination, [application_json(a, actor) for a in pagination.items])

    @auth(blp, *ACCESS["applications.file"].roles)
    @errors(blp, 400, 404)
    @blp.arguments(ApplicationCreateSchema)
    @blp.alt_response(200, schema=ApplicationDetailSchema, success=True,
                      description="The idempotency key was used before: the application it created")
    @blp.response(201, ApplicationDetailSchema)
    def post(self, body):
        """File a trial-voucher application as a draft (an SME user of a registered SME enterprise).

        Checked now and again on submission: the programme funds trial vouchers and is open, the solution
        is in the catalogue, the amount is at most its trial price and within what remains of the
        enterprise's quota (200,000 by default), the declared dates are not in the past, and at least one
        baseline is given. The same `idempotency_key` again returns the first application (200).
        """
        actor = api_actor()
        with renamed_fields(FIELD_NAMES):
            app, created = services.create_application(actor, token=body["idempotency_key"],
                                                       programme_id=body["programme_id"],
                                                       solution_id=body["solution_id"], content=content(body))
        return detail_json(app, actor), 201 if created else 200


@blp.route("/trial-applications/<id:application_id>")
class ApplicationItem(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, ApplicationDetailSchema)
    def get(self, application_id: int):
        """One application with what is reserved for it and the enterprise's quota (its enterprise's users and
        bureau roles; another enterprise's user gets 403)."""
        return _detail(application_id)

    @auth(blp, *ACCESS["applications.file"].roles)
    @errors(blp, 400, 404, 409)
    @blp.arguments(ContentSchema)
    @blp.response(200, ApplicationDetailSchema)
    def put(self, body, application_id: int):
        """Replace a draft's (or a returned application's) content; a returned one goes back to draft."""
        with renamed_fields(FIELD_NAMES):
            services.update_application(api_actor(), application_id, content(body))
        return _detail(application_id)


class MaterialsUploadSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    material = ma.fields.String(required=True, validate=Length(1, 40),
                                metadata={"description": "A code of the application's checklist of materials "
                                                         "(`materials` on the application)"})
    files = ma.fields.List(ma.fields.Nested(FileUploadSchema), required=True, validate=Length(1, 10))


class MaterialFileSchema(ma.Schema):
    id = ma.fields.Integer()
    material = ma.fields.String(allow_none=True)
    name = ma.fields.String()
    content_type = ma.fields.String()
    size_bytes = ma.fields.Integer()
    sha256 = ma.fields.String()


@blp.route("/trial-applications/<id:application_id>/materials", methods=["POST"])
@auth(blp, *ACCESS["applications.file"].roles)
@errors(blp, 400, 404, 409)
@blp.arguments(MaterialsUploadSchema)
@blp.response(201, MaterialFileSchema(many=True))
def add_materials(body, application_id: int):
    """Attach files (base64 in the body, several at once) to one material of the checklist, while the
    application is a draft or returned; formats are checked by content (PDF, JPEG, PNG, OFD, Word, Excel as
    the material allows). Submitting is refused while a required material has no file."""
    stored = services.add_materials(api_actor(), application_id, {body["material"]: list(body["files"])},
                                    max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    return [{"id": f.id, "material": f.material, "name": f.original_name, "content_type": f.content_type,
             "size_bytes": f.size_bytes, "sha256": f.sha256} for f in stored]


ACTIONS = {
    "submit": (ACCESS["applications.file"].roles, lambda actor, app_id, reason: services.submit(actor, app_id),
               "Submit the application to the bureau (checked again today: window, catalogue, price, quota, "
               "dates); submitting a submitted application changes nothing."),
    "withdraw": (ACCESS["applications.file"].roles, services.withdraw, "Withdraw a draft, submitted or returned application."),
    "approve": (ACCESS["applications.decide"].roles, services.approve,
                "Approve a submitted application and reserve its amount in the fund ledger (refused with the "
                "figures when the budget or a cap would be exceeded)."),
    "reject": (ACCESS["applications.decide"].roles, services.reject, "Reject a submitted application (reason required)."),
    "return": (ACCESS["applications.decide"].roles, services.return_for_revision,
               "Return a submitted application for revision (reason: what to revise)."),
    "cancel": (ACCESS["applications.decide"].roles, services.cancel,
               "Cancel an approval (reason required); the reservation goes back to the fund."),
}


def _register_action(action: str) -> None:
    roles, call, summary = ACTIONS[action]

    def view(body, application_id: int):
        with renamed_fields(FIELD_NAMES):
            call(api_actor(), application_id, (body or {}).get("reason"))
        return _detail(application_id)

    view.__name__ = f"application_{action}"
    view.__doc__ = summary
    decorated = blp.response(200, ApplicationDetailSchema)(view)
    decorated = blp.arguments(DecisionSchema, required=False)(decorated)
    decorated = errors(blp, 400, 404, 409)(decorated)
    decorated = auth(blp, *roles)(decorated)
    blp.route(f"/trial-applications/<id:application_id>/{action}", methods=["POST"],
              endpoint=f"application_{action}")(decorated)


for _action in ACTIONS:
    _register_action(_action)
