"""``/api/v1/payables``, ``/api/v1/disbursements`` and ``/api/v1/payment-batches``: the finance
queue, maker-checker disbursements (prepare; a different finance officer approves or rejects with
their password; bank details corrected, voiding an approval) and payment batches with the bank's
result per line.  Every call goes through ``voucher.payments.services``: the pages' rules and
messages.  A payee's own users (provider or enterprise) read the disbursements paid to them."""
from __future__ import annotations

from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema
from voucher.appnumbers import number_of, prime
from voucher.auth.throttle import reauth_limits
from voucher.pagination import page_of
from voucher.payments import queries, returns, services
from voucher.payments.access import RULES as ACCESS
from voucher.payments.schemas import (
    ApproveSchema,
    BankDetailsSchema,
    BatchCreateSchema,
    BatchDetailSchema,
    BatchListArgs,
    BatchSchema,
    DisbursementListArgs,
    DisbursementSchema,
    PayableArgs,
    PayableSchema,
    PrepareSchema,
    RejectSchema,
    ResultSchema,
    ReturnSchema,
)

BUREAU = ACCESS["payments.read"].roles
READERS = ACCESS["payments.see_disbursement"].roles

blp = api_blueprint("api-payments", __name__, description="Payments: the finance queue of payable items (with "
                    "public-notice holds), disbursements prepared by one finance officer and approved by another "
                    "(password re-entered; the approval is bound to payee, bank details and amount), and payment "
                    "batches whose bank result is recorded per line (paid moves the amount from reserved to paid "
                    "in the fund ledger).")

PayablePage = page_schema("PayablePage", PayableSchema)
DisbursementPage = page_schema("DisbursementPage", DisbursementSchema)
BatchPage = page_schema("PaymentBatchPage", BatchSchema)


class PayableQuery(PageArgs, PayableArgs):
    pass


class DisbursementQuery(PageArgs, DisbursementListArgs):
    pass


class BatchQuery(PageArgs, BatchListArgs):
    pass


def payable_json(item) -> dict:
    return {"programme_id": item.programme_id, "programme_name": item.programme_name,
            "funding_kind": item.funding_kind, "source_type": item.source_type, "source_id": item.source_id,
            "application_number": number_of(item.source_type, item.source_id), "milestone": item.milestone, "amount": item.amount,
            "payee": {"id": item.payee_id, "name": item.payee_name, "bank_name": item.bank_name,
                      "bank_account": item.bank_account},
            "enterprise": {"id": item.enterprise_id, "name": item.enterprise_name},
            "hold": item.hold, "hold_until": item.hold_until, "hold_text": item.hold_text}


def _who(user_id, at, names) -> dict:
    return {"user_id": user_id, "name": names.get(user_id) if user_id else None, "at": at}


def disbursement_json(d, names: dict | None = None) -> dict:
    names = names if names is not None else queries.user_names([d.prepared_by, d.approved_by, d.rejected_by])
    return {"id": d.id, "reference": d.reference, "programme_id": d.programme_id, "funding_kind": d.funding_kind,
            "source_type": d.source_type, "source_id": d.source_id,
            "application_number": number_of(d.source_type, d.source_id), "milestone": d.milestone,
            "enterprise_id": d.enterprise_id, "payee_id": d.payee_id, "payee_name": d.payee_name,
            "bank_name": d.bank_name, "bank_account": d.bank_account, "amount": d.amount,
            "offset_amount": d.offset_amount, "transfer_amount": d.transfer_amount, "status": d.status,
            "status_label": str(queries.STATUS_LABELS.get(d.status, d.status)),
            "prepared": _who(d.prepared_by, d.prepared_at, names), "approved": _who(d.approved_by, d.approved_at, names),
            "approval_valid": services.approval_valid(d), "rejected": _who(d.rejected_by, d.rejected_at, names),
            "decision_reason": d.decision_reason, "batch_id": d.batch_id, "bank_reference": d.bank_reference,
            "result_reason": d.result_reason, "result_recorded_at": d.result_recorded_at,
            "return_reason": d.return_reason, "return_bank_reference": d.return_bank_reference,
            "returned_at": d.returned_at}


def batch_json(batch, progress: dict, lines=None) -> dict:
    out = {"id": batch.id, "reference": batch.reference, "programme_id": batch.programme_id, "status": batch.status,
           "status_label": str(queries.BATCH_STATUS_LABELS.get(batch.status, batch.status)),
           "line_count": batch.line_count, "total": batch.total, "note": batch.note, "created_by": batch.created_by,
           "created_at": batch.created_at, "completed_at": batch.completed_at, "progress": progress}
    if lines is not None:
        names = queries.user_names([u for d in lines for u in (d.prepared_by, d.approved_by, d.rejected_by)])
        prime((d.source_type, d.source_id) for d in lines)
        out["lines"] = [disbursement_json(d, names) for d in lines]
    return out


@blp.route("/payables")
class Payables(MethodView):
    @auth(blp, *BUREAU)
    @blp.arguments(PayableQuery, location="query")
    @blp.response(200, PayablePage)
    def get(self, args):
        """The finance queue: payable items not yet prepared, each with its hold (public notice running, an
        objection, no bank details) or none when it can be prepared now."""
        items = queries.payables(programme_id=args.get("programme_id"), funding_kind=args.get("kind"))
        if args.get("payable_only"):
            items = [i for i in items if not i.hold]
        page = page_of(items, args["page"], args["per_page"])
        prime((i.source_type, i.source_id) for i in page.items)
        return page_json(page, [payable_json(i) for i in page.items])


@blp.route("/disbursements")
class Disbursements(MethodView):
    @auth(blp, *READERS)
    @blp.arguments(DisbursementQuery, location="query")
    @blp.response(200, DisbursementPage)
    def get(self, args):
        """Disbursements, newest first: every one for bureau roles, those paid to the caller's own organisation
        for provider and SME users."""
        actor = api_actor()
        payee = None
        if actor.role in ACCESS["payments.received"].roles:
            payee = actor.organisation_id if actor.organisation_id else -1
        filters = queries.DisbursementFilters(status=args.get("status"), programme_id=args.get("programme_id"),
                                              funding_kind=args.get("kind"), q=args.get("q"), payee_id=payee)
        page = queries.disbursements_page(filters, args["page"], args["per_page"], args.get("cursor"), seek=True)
        names = queries.user_names([u for d in page.items for u in (d.prepared_by, d.approved_by, d.rejected_by)])
        prime((d.source_type, d.source_id) for d in page.items)
        return page_json(page, [disbursement_json(d, names) for d in page.items])

    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(PrepareSchema)
    @blp.response(201, DisbursementSchema)
    def post(self, body):
        """Prepare the disbursement of one payable item (finance).

        The payee's bank details are copied now. Refused (409) while the grant's public notice runs or an
        objection holds it, and when the item is already prepared (one live disbursement per item).  After a
        return (退汇), the same name, account and bank code as the returned payment are refused (409) unless
        ``confirm_same_account`` is true."""
        d = services.prepare(api_actor(), body["source_type"], body["source_id"], body["milestone"],
                             confirm_same_account=body["confirm_same_account"])
        return disbursement_json(d)


@blp.route("/disbursements/<id:disbursement_id>")
class DisbursementItem(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, DisbursementSchema)
    def get(self, disbursement_id: int):
        """One disbursement (bureau roles; the payee's own users — another payee's answers 403)."""
        return disbursement_json(services.get_disbursement(api_actor(), disbursement_id))


@blp.route("/disbursements/<id:disbursement_id>/approve")
class DisbursementApprove(MethodView):
    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422, 429)
    @blp.arguments(ApproveSchema)
    @blp.response(200, DisbursementSchema)
    @reauth_limits()
    def post(self, body, disbursement_id: int):
        """Approve a prepared disbursement: a finance officer other than its preparer (the preparer gets 403),
        re-entering their own password (a wrong one: 422, nothing changes)."""
        return disbursement_json(services.approve(api_actor(), disbursement_id, body["password"]))


@blp.route("/disbursements/<id:disbursement_id>/reject")
class DisbursementReject(MethodView):
    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422, 429)
    @blp.arguments(RejectSchema)
    @blp.response(200, DisbursementSchema)
    @reauth_limits()
    def post(self, body, disbursement_id: int):
        """Reject a prepared disbursement (another finance officer, own password, a reason); the item returns to
        the queue."""
        return disbursement_json(services.reject(api_actor(), disbursement_id, body["password"], body["reason"]))


@blp.route("/disbursements/<id:disbursement_id>/bank-details")
class DisbursementBankDetails(MethodView):
    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(BankDetailsSchema)
    @blp.response(200, DisbursementSchema)
    def put(self, body, disbursement_id: int):
        """Correct the payee name or bank details of a prepared or approved disbursement; a change voids an
        approval (another finance officer must approve again)."""
        services.get_disbursement(api_actor(), disbursement_id)
        return disbursement_json(services.update_bank_details(api_actor(), disbursement_id, **body))


@blp.route("/disbursements/<id:disbursement_id>/return")
class DisbursementReturn(MethodView):
    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(ReturnSchema)
    @blp.response(200, DisbursementSchema)
    def post(self, body, disbursement_id: int):
        """Record that the bank returned a paid line (退汇): the fund ledger records the return (paid back to
        reserved), the item is payable again (a new disbursement, a new approval) and the payee is told.  Only a
        paid line, once (409 otherwise)."""
        services.get_disbursement(api_actor(), disbursement_id)
        return disbursement_json(returns.record_return(api_actor(), disbursement_id, body["reason"],
                                                       bank_reference=body.get("bank_reference")))


@blp.route("/payment-batches")
class Batches(MethodView):
    @auth(blp, *BUREAU)
    @blp.arguments(BatchQuery, location="query")
    @blp.response(200, BatchPage)
    def get(self, args):
        """Payment batches, newest first, with their lines' progress."""
        page = queries.batches_page(args.get("status"), args.get("programme_id"), args["page"], args["per_page"],
                                    args.get("cursor"), seek=True)
        progress = queries.batch_progress(b.id for b in page.items)
        return page_json(page, [batch_json(b, progress[b.id]) for b in page.items])

    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(BatchCreateSchema)
    @blp.response(201, BatchDetailSchema)
    def post(self, body):
        """Group approved disbursements of one programme into a batch; the bank payment file and the batch
        summary are then produced by background jobs."""
        batch = services.create_batch(api_actor(), body["programme_id"], body["disbursement_ids"],
                                      note=body.get("note"))
        return batch_json(batch, queries.batch_progress([batch.id])[batch.id], queries.batch_lines(batch.id))


@blp.route("/payment-batches/<id:batch_id>")
class BatchItem(MethodView):
    @auth(blp, *BUREAU)
    @errors(blp, 404)
    @blp.response(200, BatchDetailSchema)
    def get(self, batch_id: int):
        """One payment batch with every line."""
        batch = services.get_batch(api_actor(), batch_id)
        return batch_json(batch, queries.batch_progress([batch.id])[batch.id], queries.batch_lines(batch.id))


@blp.route("/payment-batches/<id:batch_id>/results")
class BatchResults(MethodView):
    @auth(blp, *ACCESS["payments.handle"].roles)
    @errors(blp, 400, 404, 409, 422)
    @blp.arguments(ResultSchema)
    @blp.response(200, DisbursementSchema)
    def post(self, body, batch_id: int):
        """Record the bank's result for one line: paid (with the bank reference; the fund ledger moves the
        amount from reserved to paid, never twice) or failed (with the bank's reason; the item returns to the
        finance queue)."""
        actor = api_actor()
        services.get_batch(actor, batch_id)
        d = services.get_disbursement(actor, body["disbursement_id"])
        if d.batch_id != batch_id:
            from voucher.errors import NotFound

            raise NotFound("No such disbursement in this batch.")
        return disbursement_json(services.record_result(actor, d.id, body["outcome"],
                                                        bank_reference=body.get("bank_reference"),
                                                        reason=body.get("reason")))
