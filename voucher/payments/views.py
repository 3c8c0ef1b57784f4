"""Payment pages: the finance queue, preparing, the second officer's approval, disbursements,
payment batches with the bank's results, payees' own payments, the officers' public notices and
objections, the public notice pages (no login), and the document reports.

Thin views: parse the form, call a service, render.  A refused service call puts its message on the
form and answers 422 (so the request rolls back); success redirects (and commits).

Over 600 lines, on purpose: one blueprint for the payment pages, grouped by section (queue,
preparing, approval, disbursements, batches, payees, notices, reports); each handler is a few
lines (parse, call a service, render), and the reconciliation pages have their own module
(``reconciliation_views``).
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.access import can
from voucher.appnumbers import find_id, number_of, prime
from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import current_actor, roles_required
from voucher.auth.throttle import reauth_limits
from voucher.deadlines import deadline_text, local_today, payment_deadline
from voucher.errors import DomainError, Duplicate, Forbidden, NotFound
from voucher.extensions import limiter
from voucher.figures_cache import cached_figure
from voucher.grants import grant_kind, kinds
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.money import format_money
from voucher.pagination import bounded_int, page_arg, page_of, query_int
from voucher.payments import documents as payment_documents
from voucher.payments import queries, returns, services
from voucher.payments.access import RULES as ACCESS
from voucher.payments.forms import (
    BankDetailsForm,
    BatchForm,
    DecisionForm,
    ObjectionForm,
    OffsetPaidForm,
    PrepareForm,
    PublishForm,
    ReasonForm,
    ResolveForm,
    ResultForm,
    ReturnForm,
)
from voucher.payments.models import BATCH_STATES, DISBURSEMENT_STATES, MILESTONES, SOURCE_TYPES
from voucher.reference import FUNDING_KINDS
from voucher.ui import form_errors_from

bp = Blueprint("payments", __name__)

BUREAU = ACCESS["payments.read"].roles
PAYEES = ACCESS["payments.received"].roles


@bp.context_processor
def _labels():
    return {"status_labels": queries.STATUS_LABELS, "status_badges": queries.STATUS_BADGES,
            "payee_status_labels": queries.PAYEE_STATUS_LABELS, "milestone_labels": queries.MILESTONE_LABELS,
            "batch_status_labels": queries.BATCH_STATUS_LABELS, "batch_badges": queries.BATCH_BADGES,
            "objection_labels": queries.OBJECTION_STATUS_LABELS, "funding_kinds": FUNDING_KINDS,
            "source_link": source_link, "source_number": number_of}


def source_link(source_type: str, source_id: int) -> str | None:
    """The page of the grant a payment is for (its grant kind's, ``voucher.grants``)."""
    kind = grant_kind(source_type)
    return kind.detail_link(source_id) if kind is not None else None


def source_text(source_type: str, source_id: int) -> str:
    """The grant a payment is for, in words (the pages link it; exports write it)."""
    kind = grant_kind(source_type)
    return kind.label(source_id) if kind is not None else str(source_id)


def disbursement_deadline(d, today=None):
    """The payment deadline of a disbursement still under way (prepared, approved, in a batch)."""
    if d.status not in ("prepared", "approved", "in_batch"):
        return None
    return payment_deadline(d.payable_since, today)


def _label(labels: dict, code: str | None) -> str:
    return str(labels.get(code, code or ""))


def _page() -> int:
    return page_arg()


def _per_page() -> int:
    return current_app.config["PAGE_SIZE"]


def _programme_arg() -> int | None:
    value = query_int("programme_id")
    return value if value and value > 0 else None


def _kind_arg() -> str | None:
    kind = request.args.get("kind")
    return kind if kind in FUNDING_KINDS else None


# --- the finance queue --------------------------------------------------------------------------

@bp.get("/payments/queue")
@roles_required(*BUREAU)
def queue():
    """The finance queue, most urgent first: payable items by their payment deadline, then held ones."""
    programme_id, kind = _programme_arg(), _kind_arg()
    show = request.args.get("show") if request.args.get("show") in ("payable", "held") else None
    today = local_today()
    items = queries.payables(programme_id=programme_id, funding_kind=kind, today=today)
    payable_count = sum(1 for i in items if not i.hold)
    held_count = len(items) - payable_count
    if show == "payable":
        items = [i for i in items if not i.hold]
    elif show == "held":
        items = [i for i in items if i.hold]
    deadlines = {i.key: i.deadline(today) for i in items}
    prime((i.source_type, i.source_id) for i in items)
    items.sort(key=lambda i: (i.hold is not None, deadlines[i.key].sort_key if deadlines[i.key] else 10**6))
    fmt = requested_format()
    if fmt:
        return send(fmt, "payment-queue",
                    [_("Application number"), _("Grant"), _("Programme"), _("Kind of support"), _("Enterprise"),
                     _("Payment"), _("Payee"), _("Bank"), _("Account number"), _("Amount"), _("Can it be paid?"), _("Payable since"),
                     _("Payment deadline")],
                    ([number_of(i.source_type, i.source_id) or "", source_text(i.source_type, i.source_id),
                      i.programme_name, _label(FUNDING_KINDS, i.funding_kind),
                      i.enterprise_name, _label(queries.MILESTONE_LABELS, i.milestone), i.payee_name,
                      i.bank_name or "", i.bank_account or "", i.amount,
                      i.hold_text if i.hold else _("Payable now"),
                      i.payable_since.isoformat() if i.payable_since and i.waits_on_bureau else "",
                      deadline_text(deadlines[i.key])] for i in items[:EXPORT_LIMIT]), len(items))
    page = page_of(items, _page(), _per_page())
    return render_template("payments/queue.html", pagination=page, programme_id=programme_id, kind=kind, show=show,
                           programmes=queries.programme_choices(), payable_count=payable_count,
                           held_count=held_count, form=PrepareForm(), deadlines=deadlines)


def _item_from(source_type, source_id, milestone):
    if source_type not in SOURCE_TYPES or milestone not in MILESTONES or bounded_int(source_id) is None:
        abort(404)
    return source_type, bounded_int(source_id), milestone


@bp.get("/payments/prepare")
@roles_required(*ACCESS["payments.handle"].roles)
def prepare_page():
    source_type, source_id, milestone = _item_from(request.args.get("source_type"), request.args.get("source_id"),
                                                   request.args.get("milestone"))
    existing = services.live_disbursement(source_type, source_id, milestone)
    if existing is not None:
        flash(_("This payment has already been prepared (%(reference)s).", reference=existing.reference), "info")
        return redirect(url_for("payments.disbursement", disbursement_id=existing.id))
    item = services.find_payable(source_type, source_id, milestone)
    if item is None:
        abort(404)
    form = PrepareForm(data={"source_type": source_type, "source_id": source_id, "milestone": milestone})
    return render_template("payments/prepare.html", item=item, form=form,
                           returned=returns.last_returned(source_type, source_id, milestone))


@bp.post("/payments/prepare")
@roles_required(*ACCESS["payments.handle"].roles)
def prepare():
    form = PrepareForm()
    if not form.validate_on_submit():
        abort(400)
    source_type, source_id, milestone = _item_from(form.source_type.data, form.source_id.data, form.milestone.data)
    try:
        d = services.prepare(current_actor(), source_type, source_id, milestone,
                             confirm_same_account=bool(form.confirm_same_account.data))
    except Duplicate as err:
        flash(err.render(_), "info")
        if err.params.get("disbursement_id"):
            return redirect(url_for("payments.disbursement", disbursement_id=err.params["disbursement_id"]), 303)
        return redirect(url_for("payments.queue"), 303)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        item = services.find_payable(source_type, source_id, milestone)
        form_errors_from(err, None)
        if item is None:
            return render_template("payments/prepare.html", item=None, form=form), 409
        return render_template("payments/prepare.html", item=item, form=form,
                               returned=returns.last_returned(source_type, source_id, milestone)), 422
    flash(_("Disbursement %(reference)s is prepared. A second finance officer must now approve it.",
            reference=d.reference), "success")
    return redirect(url_for("payments.disbursement", disbursement_id=d.id))


# --- disbursements ------------------------------------------------------------------------------

def _filters() -> queries.DisbursementFilters:
    status = request.args.get("status")
    return queries.DisbursementFilters(status=status if status in DISBURSEMENT_STATES else None,
                                       programme_id=_programme_arg(), funding_kind=_kind_arg(),
                                       q=(request.args.get("q") or "").strip()[:100] or None)


@bp.get("/payments/disbursements")
@roles_required(*BUREAU)
def disbursements():
    filters = _filters()
    today = local_today()
    fmt = requested_format()
    if fmt:
        everything = queries.disbursements_page(filters, 1, EXPORT_LIMIT)
        names = queries.user_names(u for d in everything.items for u in (d.prepared_by, d.approved_by))
        prime((d.source_type, d.source_id) for d in everything.items)
        return send(fmt, "disbursements",
                    [_("Reference"), _("Application number"), _("Grant"), _("Programme"), _("Kind of support"), _("Payment"), _("Payee"),
                     _("Bank"), _("Account number"), _("Amount"), _("Status"), _("Prepared"), _("Prepared by"),
                     _("Approved"), _("Approved by"), _("Batch"), _("Bank reference"), _("Bank's result"),
                     _("Payment deadline")],
                    ([d.reference, number_of(d.source_type, d.source_id) or "", source_text(d.source_type, d.source_id),
                      d.programme.name,
                      _label(FUNDING_KINDS, d.funding_kind), _label(queries.MILESTONE_LABELS, d.milestone),
                      d.payee_name, d.bank_name, d.bank_account, d.amount, _label(queries.STATUS_LABELS, d.status),
                      local_time(d.prepared_at), names.get(d.prepared_by, ""), local_time(d.approved_at),
                      names.get(d.approved_by, ""), d.batch.reference if d.batch else "", d.bank_reference or "",
                      local_time(d.result_recorded_at), deadline_text(disbursement_deadline(d, today))]
                     for d in everything.items), everything.total)
    pagination = queries.disbursements_page(filters, _page(), _per_page())
    prime((d.source_type, d.source_id) for d in pagination.items)
    deadlines = {d.id: disbursement_deadline(d, today) for d in pagination.items}
    return render_template("payments/disbursements.html", pagination=pagination, filters=filters,
                           programmes=queries.programme_choices(), statuses=DISBURSEMENT_STATES, deadlines=deadlines)


@bp.get("/payments/mine")
@roles_required(*PAYEES)
def mine():
    actor = current_actor()
    filters = queries.DisbursementFilters(payee_id=actor.organisation_id if actor.organisation_id else -1)
    fmt = requested_format()
    if fmt:
        everything = queries.disbursements_page(filters, 1, EXPORT_LIMIT)
        prime((d.source_type, d.source_id) for d in everything.items)
        return send(fmt, "payments-received",
                    [_("Reference"), _("Application number"), _("Kind of support"), _("Payment"), _("Bank"), _("Account number"), _("Amount"),
                     _("Status"), _("Paid on")],
                    ([d.reference, number_of(d.source_type, d.source_id) or "", _label(FUNDING_KINDS, d.funding_kind),
                      _label(queries.MILESTONE_LABELS, d.milestone),
                      d.bank_name, d.bank_account, d.amount, _label(queries.PAYEE_STATUS_LABELS, d.status),
                      local_time(d.result_recorded_at) if d.status == "paid" else ""]
                     for d in everything.items), everything.total)
    pagination = queries.disbursements_page(filters, _page(), _per_page())
    prime((d.source_type, d.source_id) for d in pagination.items)
    counts = queries.payee_counts(actor.organisation_id) if actor.organisation_id else None
    return render_template("payments/mine.html", pagination=pagination, counts=counts)


def _disbursement_page(disbursement_id: int, status_code: int = 200, **forms):
    from voucher.audit.queries import events_for
    from voucher.documents import services as documents
    from voucher.documents.pdf import amount_in_capitals

    actor = current_actor()
    d = services.get_disbursement(actor, disbursement_id)
    docs = documents.subject_documents(actor, "disbursement", d.id)
    names = queries.user_names([d.prepared_by, d.approved_by, d.rejected_by, d.result_recorded_by, d.returned_by])
    bureau = can(actor, "payments.read")
    events = events_for("disbursement", d.id) if bureau else []
    context = {
        "d": d, "docs": docs, "names": names, "bureau": bureau, "events": events,
        "working": payment_documents.working_lines(d), "approval_valid": services.approval_valid(d),
        "can_decide": can(actor, "payments.handle") and d.status == "prepared" and d.prepared_by != actor.user_id,
        "own_preparation": can(actor, "payments.handle") and d.status == "prepared" and d.prepared_by == actor.user_id,
        "can_edit": can(actor, "payments.handle") and d.status in ("prepared", "approved"),
        "can_order": can(actor, "payments.handle") and d.status in payment_documents.PAYABLE_STATES,
        "order_job": queries.jobs_for("disbursement", d.id, ["payment_order"]).get("payment_order") if bureau else None,
        "downloadable": {doc.id for doc in docs if documents.can_download(actor, doc)},
        "deadline": disbursement_deadline(d), "event_labels": queries.EVENT_LABELS,
        "can_return": can(actor, "payments.handle") and d.status == "paid",
        "successor": returns.successor(d) if bureau and d.status == "returned" else None,
        "offsets": payment_documents.offset_orders(d),
        "transfer_capitals": amount_in_capitals(d.transfer_amount) if d.offset_amount else "",
        "can_settle_offset": can(actor, "payments.handle") and d.status == "approved" and d.transfer_amount == 0
        and services.approval_valid(d),
    }
    forms.setdefault("return_form", ReturnForm())
    forms.setdefault("offset_form", OffsetPaidForm())
    return render_template("payments/disbursement.html", **context, **forms), status_code


@bp.get("/payments/disbursements/<int:disbursement_id>")
@roles_required(*BUREAU, *PAYEES)
def disbursement(disbursement_id: int):
    return _disbursement_page(disbursement_id)


@bp.post("/payments/disbursements/<int:disbursement_id>/return")
@roles_required(*ACCESS["payments.handle"].roles)
def record_return(disbursement_id: int):
    """A finance officer records that the bank returned a paid line (退汇)."""
    actor = current_actor()
    d = services.get_disbursement(actor, disbursement_id)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            returns.record_return(actor, d.id, form.reason.data, bank_reference=form.bank_reference.data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("%(reference)s: recorded as returned by the bank; the item is back in the finance queue.",
                    reference=d.reference), "success")
            return redirect(url_for("payments.disbursement", disbursement_id=d.id), 303)
    return _disbursement_page(d.id, 422, return_form=form)


@bp.post("/payments/disbursements/<int:disbursement_id>/offset-paid")
@roles_required(*ACCESS["payments.handle"].roles)
def record_offset_paid(disbursement_id: int):
    """A finance officer records paid a disbursement offset in full against recovery orders (抵扣)."""
    actor = current_actor()
    d = services.get_disbursement(actor, disbursement_id)
    form = OffsetPaidForm()
    if form.validate_on_submit():
        try:
            services.record_offset_paid(actor, d.id)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            flash(err.render(_), "danger")
            return _disbursement_page(d.id, err.status)
        flash(_("%(reference)s: paid by offset against recovery orders; the fund ledger is updated.",
                reference=d.reference), "success")
        return redirect(url_for("payments.disbursement", disbursement_id=d.id), 303)
    return _disbursement_page(d.id, 422)


@bp.route("/payments/disbursements/<int:disbursement_id>/decide", methods=["GET", "POST"])
@roles_required(*ACCESS["payments.handle"].roles)
@reauth_limits(methods=["POST"])  # the password is re-entered: throttled like a login
def decide(disbursement_id: int):
    actor = current_actor()
    d = services.get_disbursement(actor, disbursement_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            if form.decision.data == "approve":
                services.approve(actor, d.id, form.password.data)
                message = _("Disbursement %(reference)s is approved. It can now be put in a payment batch.",
                            reference=d.reference)
            else:
                services.reject(actor, d.id, form.password.data, form.reason.data)
                message = _("Disbursement %(reference)s is rejected; the item is back in the finance queue.",
                            reference=d.reference)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(message, "success")
            return redirect(url_for("payments.disbursement", disbursement_id=d.id))
    form.password.data = ""
    status = 422 if request.method == "POST" else 200
    names = queries.user_names([d.prepared_by])
    return render_template("payments/decide.html", d=d, form=form, names=names,
                           working=payment_documents.working_lines(d),
                           own=d.prepared_by == actor.user_id), status


@bp.route("/payments/disbursements/<int:disbursement_id>/edit", methods=["GET", "POST"])
@roles_required(*ACCESS["payments.handle"].roles)
def edit(disbursement_id: int):
    actor = current_actor()
    d = services.get_disbursement(actor, disbursement_id)
    form = BankDetailsForm(obj=d if request.method == "GET" else None)
    if form.validate_on_submit():
        was_approved = d.status == "approved"
        try:
            services.update_bank_details(actor, d.id, payee_name=form.payee_name.data, bank_name=form.bank_name.data,
                                         bank_account=form.bank_account.data,
                                         bank_code=form.bank_code.data or "")
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("The details are saved. The approval was voided: another finance officer must approve the "
                    "disbursement again.") if was_approved and d.status == "prepared"
                  else _("The details are saved."), "success")
            return redirect(url_for("payments.disbursement", disbursement_id=d.id))
    status = 422 if request.method == "POST" else 200
    return render_template("payments/edit.html", d=d, form=form, payee=d.payee), status


# --- batches ------------------------------------------------------------------------------------

@bp.get("/payments/batches")
@roles_required(*BUREAU)
def batches():
    status = request.args.get("status") if request.args.get("status") in BATCH_STATES else None
    fmt = requested_format()
    if fmt:
        everything = queries.batches_page(status, _programme_arg(), 1, EXPORT_LIMIT)
        progress = queries.batch_progress(b.id for b in everything.items)
        names = queries.user_names(b.created_by for b in everything.items)
        return send(fmt, "payment-batches",
                    [_("Reference"), _("Programme"), _("Lines"), _("Total"), _("Paid"), _("Failed"),
                     _("Waiting for the bank"), _("Status"), _("Confirmed by"), _("Confirmed")],
                    ([b.reference, b.programme.name, b.line_count, b.total, progress[b.id]["paid"],
                      progress[b.id]["failed"], progress[b.id]["in_batch"],
                      _label(queries.BATCH_STATUS_LABELS, b.status),
                      names.get(b.created_by, ""), local_time(b.created_at)] for b in everything.items),
                    everything.total)
    pagination = queries.batches_page(status, _programme_arg(), _page(), _per_page())
    progress = queries.batch_progress(b.id for b in pagination.items)
    names = queries.user_names(b.created_by for b in pagination.items)
    return render_template("payments/batches.html", pagination=pagination, progress=progress, names=names,
                           status=status, statuses=BATCH_STATES, ready=queries.approved_counts_by_programme())


def _batch_new_page(programme_id: int, form: BatchForm, status_code: int = 200, selected=None):
    from voucher.programmes.services import get_programme

    programme = get_programme(programme_id)
    rows = queries.approved_for_batch(programme.id)
    valid = {d.id for d in rows if services.approval_valid(d)}
    chosen = set(selected) if selected is not None else valid
    return render_template("payments/batch_new.html", programme=programme, rows=rows, valid=valid, chosen=chosen,
                           form=form), status_code


@bp.get("/payments/batches/new")
@roles_required(*ACCESS["payments.handle"].roles)
def batch_new():
    programme_id = _programme_arg()
    if programme_id is None:
        return redirect(url_for("payments.batches"))
    return _batch_new_page(programme_id, BatchForm(data={"programme_id": programme_id}))


@bp.post("/payments/batches/new")
@roles_required(*ACCESS["payments.handle"].roles)
def batch_create():
    form = BatchForm()
    if not form.validate_on_submit() or bounded_int(form.programme_id.data) is None:
        abort(400)
    ids = [bounded_int(v) for v in request.form.getlist("disbursement_ids") if bounded_int(v) is not None]
    try:
        batch = services.create_batch(current_actor(), bounded_int(form.programme_id.data), ids, note=form.note.data)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        form_errors_from(err, form)
        return _batch_new_page(int(form.programme_id.data), form, 422, selected=ids)
    flash(_("Payment batch %(reference)s is confirmed with %(count)s line(s), %(total)s in total. The bank file "
            "and the summary are being produced.", reference=batch.reference, count=batch.line_count,
            total=format_money(batch.total)), "success")
    return redirect(url_for("payments.batch", batch_id=batch.id))


def _batch_page(batch_id: int, status_code: int = 200, result_form=None, result_for=None, cancel_form=None):
    from voucher.documents import services as documents

    actor = current_actor()
    batch = services.get_batch(actor, batch_id)
    status = request.args.get("status") if request.args.get("status") in DISBURSEMENT_STATES else None
    lines = queries.batch_line_page(batch.id, status, _page(), _per_page() * 5)
    prime((d.source_type, d.source_id) for d in lines.items)
    progress = queries.batch_progress([batch.id])[batch.id]
    jobs = queries.jobs_for("payment_batch", batch.id, ["bank_file", "batch_summary"])
    orders_job = None
    if batch.orders_job_id:
        from voucher.documents.models import JobRecord
        from voucher.extensions import db

        orders_job = db.session.get(JobRecord, batch.orders_job_id)
    docs = documents.subject_documents(actor, "payment_batch", batch.id)
    return render_template("payments/batch.html", batch=batch, lines=lines, progress=progress, jobs=jobs,
                           orders_job=orders_job, docs=[d for d in docs if d.status == "valid"], status=status,
                           names=queries.user_names([batch.created_by]), confirm=ConfirmForm(),
                           result_form=result_form or ResultForm(), result_for=result_for,
                           cancel_form=cancel_form or ReasonForm(prefix="cancel"),
                           can_act=can(actor, "payments.handle")), status_code


@bp.get("/payments/batches/<int:batch_id>")
@roles_required(*BUREAU)
def batch(batch_id: int):
    fmt = requested_format()
    if fmt:
        b = services.get_batch(current_actor(), batch_id)
        status = request.args.get("status") if request.args.get("status") in DISBURSEMENT_STATES else None
        lines = queries.batch_line_page(b.id, status, 1, EXPORT_LIMIT)
        prime((d.source_type, d.source_id) for d in lines.items)
        return send(fmt, f"batch-{b.reference}",
                    [_("Reference"), _("Application number"), _("Payee"), _("Bank"), _("Account number"), _("Amount"), _("Status"),
                     _("Bank reference"), _("Reason"), _("Recorded")],
                    ([d.reference, number_of(d.source_type, d.source_id) or "", d.payee_name, d.bank_name, d.bank_account, d.amount,
                      _label(queries.STATUS_LABELS, d.status), d.bank_reference or "", d.result_reason or "",
                      local_time(d.result_recorded_at)] for d in lines.items), lines.total)
    return _batch_page(batch_id)


@bp.post("/payments/batches/<int:batch_id>/lines/<int:disbursement_id>/result")
@roles_required(*ACCESS["payments.handle"].roles)
def record_result(batch_id: int, disbursement_id: int):
    actor = current_actor()
    services.get_batch(actor, batch_id)
    d = services.get_disbursement(actor, disbursement_id)
    if d.batch_id != batch_id:
        abort(404)
    form = ResultForm()
    if form.validate_on_submit():
        try:
            services.record_result(actor, d.id, form.outcome.data, bank_reference=form.bank_reference.data,
                                   reason=form.reason.data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("%(reference)s: paid, the fund ledger is updated.", reference=d.reference)
                  if form.outcome.data == "paid" else
                  _("%(reference)s: failed; the item is back in the finance queue.", reference=d.reference),
                  "success")
            return redirect(url_for("payments.batch", batch_id=batch_id, status=request.args.get("status")))
    return _batch_page(batch_id, 422, result_form=form, result_for=d.id)


@bp.post("/payments/batches/<int:batch_id>/cancel")
@roles_required(*ACCESS["payments.handle"].roles)
def batch_cancel(batch_id: int):
    form = ReasonForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            services.cancel_batch(current_actor(), batch_id, form.reason.data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("The batch is cancelled; its lines are approved again and can go into a new batch."), "success")
            return redirect(url_for("payments.batch", batch_id=batch_id))
    return _batch_page(batch_id, 422, cancel_form=form)


@bp.post("/payments/batches/<int:batch_id>/<any(files, orders):what>")
@roles_required(*ACCESS["payments.handle"].roles)
def batch_documents(batch_id: int, what: str):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if what == "files":
            services.request_batch_files(current_actor(), batch_id)
            message = _("The bank file and the batch summary are being produced.")
        else:
            lang = "en" if str(request.form.get("lang")) == "en" else "zh"
            parent = services.request_payment_orders(current_actor(), batch_id, lang=lang)
            flash(_("The payment orders are being produced; this page shows their progress."), "info")
            from voucher.extensions import db

            db.session.flush()
            return redirect(url_for("documents.job", job_id=parent.id))
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        form_errors_from(err, None)
        return _batch_page(batch_id, 422)
    flash(message, "info")
    return redirect(url_for("payments.batch", batch_id=batch_id))


# --- public notices: the officers' side -----------------------------------------------------------

def _notices_page(form: PublishForm, status_code: int = 200):
    programme_id = _programme_arg()
    pagination = queries.notices_page(programme_id=programme_id, page=_page(), per_page=_per_page())
    counts = queries.notice_counts(n.id for n in pagination.items)
    chosen = form.programme_id.data if form.programme_id.data else None
    pending = queries.announceable_grants(chosen) if chosen else []
    return render_template("payments/notices.html", pagination=pagination, counts=counts, form=form,
                           programmes=queries.programme_choices(), programme_id=programme_id, pending=pending,
                           chosen=chosen, today=queries.local_today()), status_code


def _publish_form() -> PublishForm:
    form = PublishForm()
    form.programme_id.choices = queries.programme_choices()
    return form


@bp.get("/payments/notices")
@roles_required(*BUREAU)
def notices():
    fmt = requested_format()
    if fmt:
        everything = queries.notices_page(programme_id=_programme_arg(), page=1, per_page=EXPORT_LIMIT)
        counts = queries.notice_counts(n.id for n in everything.items)
        return send(fmt, "public-notices",
                    [_("No."), _("Notice"), _("Published"), _("Objections until"), _("Grants"), _("Open objections"),
                     _("Upheld"), _("Dismissed")],
                    ([n.id, n.title, local_time(n.published_on), n.ends_on.isoformat(), counts[n.id]["items"],
                      counts[n.id]["open"], counts[n.id]["upheld"], counts[n.id]["dismissed"]]
                     for n in everything.items), everything.total)
    form = _publish_form()
    form.programme_id.data = query_int("preview")
    return _notices_page(form)


@bp.post("/payments/notices")
@roles_required(*ACCESS["payments.notices"].roles)
def publish():
    form = _publish_form()
    if form.validate_on_submit():
        try:
            notice = services.publish_notice(current_actor(), form.programme_id.data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("The notice is published with %(count)s grant(s); objections are accepted until %(date)s.",
                    count=len(notice.items), date=notice.ends_on.isoformat()), "success")
            return redirect(url_for("payments.notice", notice_id=notice.id))
    return _notices_page(form, 422)


def _notice_page(notice_id: int, status_code: int = 200, resolve_form=None, resolve_for=None):
    notice = services.get_notice(notice_id)
    objections = queries.objections_of(notice.id)
    names = queries.user_names([notice.published_by, *[o.resolved_by for o in objections]])
    states = queries.notice_states((i.source_type, i.source_id) for i in notice.items)
    prime((i.source_type, i.source_id) for i in notice.items)
    return render_template("payments/notice.html", notice=notice, objections=objections, names=names,
                           resolve_form=resolve_form or ResolveForm(), resolve_for=resolve_for, states=states,
                           running=services.notice_open(notice), today=queries.local_today(),
                           can_resolve=can(current_actor(), "payments.notices")), status_code


def notice_item_state(notice, state, today) -> str:
    """Whether a grant on a notice can be paid, in words (as the notice page shows it)."""
    if state and state.upheld_objection:
        return _("not payable: objection upheld")
    if state and state.open_objection:
        return _("held: objection open")
    if today <= notice.ends_on:
        return _("payable after %(date)s", date=notice.ends_on.isoformat())
    return _("payable")


@bp.get("/payments/notices/<int:notice_id>")
@roles_required(*BUREAU)
def notice(notice_id: int):
    fmt = requested_format()
    if fmt:
        n = services.get_notice(notice_id)
        states = queries.notice_states((i.source_type, i.source_id) for i in n.items)
        prime((i.source_type, i.source_id) for i in n.items)
        today = queries.local_today()
        return send(fmt, f"notice-{n.id}",
                    [_("Application number"), _("Grant"), _("Enterprise"), _("Kind of support"), _("Amount"), _("Payment")],
                    ([number_of(i.source_type, i.source_id) or "", source_text(i.source_type, i.source_id),
                      i.enterprise_name, _label(FUNDING_KINDS, i.funding_kind),
                      i.amount, notice_item_state(n, states.get((i.source_type, i.source_id)), today)]
                     for i in n.items))
    return _notice_page(notice_id)


@bp.post("/payments/objections/<int:objection_id>/resolve")
@roles_required(*ACCESS["payments.notices"].roles)
def resolve(objection_id: int):
    from voucher.extensions import db
    from voucher.payments.models import NoticeObjection

    objection = db.session.get(NoticeObjection, objection_id)
    if objection is None:
        abort(404)
    notice_id = objection.notice_id
    form = ResolveForm()
    if form.validate_on_submit():
        try:
            services.resolve_objection(current_actor(), objection_id, form.decision.data, form.reason.data,
                                       cancel_grant=bool(form.cancel_grant.data))
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("The objection is decided."), "success")
            return redirect(url_for("payments.notice", notice_id=notice_id))
    return _notice_page(notice_id, 422, resolve_form=form, resolve_for=objection_id)


# --- public notices: the public side (no login) -----------------------------------------------------

@bp.get("/notices")
@limiter.limit("120 per minute")
def public_notices():
    fmt = requested_format()
    if fmt:
        everything = queries.public_notices(1, EXPORT_LIMIT)
        counts = queries.notice_counts(n.id for n in everything.items)
        return send(fmt, "public-notices",
                    [_("Notice"), _("Published"), _("Objections until"), _("Grants")],
                    ([n.title, local_time(n.published_on), n.ends_on.isoformat(), counts[n.id]["items"]]
                     for n in everything.items), everything.total)
    pagination = queries.public_notices(_page(), _per_page())
    counts = queries.notice_counts(n.id for n in pagination.items)
    return render_template("payments/public_notices.html", pagination=pagination, counts=counts,
                           today=queries.local_today())


def _objection_form(notice) -> ObjectionForm:
    form = ObjectionForm()
    form.item_id.choices = [("", _("The whole list"))] + [
        (str(i.id), f"{i.enterprise_name} — {FUNDING_KINDS.get(i.funding_kind, i.funding_kind)} — "
                    f"{format_money(i.amount)}") for i in notice.items]
    return form


@bp.route("/notices/<int:notice_id>", methods=["GET", "POST"])
@limiter.limit("120 per minute", methods=["GET"])
@limiter.limit(lambda: current_app.config.get("OBJECTION_RATE_LIMIT", "5 per minute;20 per day"), methods=["POST"])
def public_notice(notice_id: int):
    notice = services.get_notice(notice_id)
    fmt = requested_format() if request.method == "GET" else None
    if fmt:
        # The published list itself (no objection data): enterprise, kind and amount.
        return send(fmt, f"public-notice-{notice.id}", ["#", _("Enterprise"), _("Kind of support"), _("Amount")],
                    ([n, i.enterprise_name, _label(FUNDING_KINDS, i.funding_kind), i.amount]
                     for n, i in enumerate(notice.items, 1)))
    form = _objection_form(notice)
    if request.method == "POST" and form.validate_on_submit():
        item_id = bounded_int(form.item_id.data)
        try:
            services.file_objection(notice.id, item_id=item_id, name=form.name.data, contact=form.contact.data,
                                    text=form.text.data, ip=request.remote_addr)
        except NotFound:
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("Your objection is recorded. The grant(s) concerned are held until the bureau has examined it; "
                    "the bureau will contact you."), "success")
            return redirect(url_for("payments.public_notice", notice_id=notice.id))
    status = 422 if request.method == "POST" else 200
    return render_template("payments/public_notice.html", notice=notice, form=form,
                           running=services.notice_open(notice), today=queries.local_today()), status


# --- reports (document requests) --------------------------------------------------------------------

@bp.get("/payments/reports")
@roles_required(*BUREAU)
def reports():
    from voucher.documents.builders import KINDS

    actor = current_actor()
    programmes = queries.programme_choices()
    jobs = {pid: queries.jobs_for("programme", pid, ["programme_report"]).get("programme_report")
            for pid, _name in programmes}
    typed = (request.args.get("application_id") or "").strip()[:40]
    # The audit dossier is the trial voucher's (the kind with a dossier subject, voucher.grants).
    dossier_kind = next((k for k in kinds() if k.dossier_subject), None)
    application_id = find_id(dossier_kind.source_type, typed) if typed and dossier_kind else None
    if typed and application_id is None and typed.isdigit():
        application_id = query_int("application_id")
    if application_id and dossier_kind:
        return redirect(url_for("documents.subject", subject_type=dossier_kind.dossier_subject,
                                subject_id=application_id))
    return render_template("payments/reports.html", programmes=programmes, jobs=jobs,
                           can_report=actor.role in KINDS["programme_report"].roles,
                           can_dossier=actor.role in KINDS["audit_dossier"].roles)


# --- dashboard cards --------------------------------------------------------------------------------

def _finance_panel(actor):
    from voucher.dashboard.roles import payable_overview

    summary = payable_overview(0)[1]  # counted in SQL (shared with the start page's payables card)
    payable = summary.ready
    c = cached_figure("finance_counts", (local_today(),), queries.finance_counts)
    if c["awaiting_approval"]:
        text = _("%(n)s disbursement(s) wait for a second finance officer's approval.", n=c["awaiting_approval"])
    elif payable:
        text = _("%(n)s payment(s) can be prepared.", n=payable)
    else:
        text = _("Nothing waits in the payment queue.")
    return {"title": _l("Payments"), "text": text,
            "items": [(_l("Payable now"), payable), (_l("Held (notice, objection, bank details)"), summary.total - payable),
                      (_l("Awaiting approval"), c["awaiting_approval"]), (_l("Approved, not yet batched"), c["approved"]),
                      (_l("Batches waiting for bank results"), c["open_batches"]),
                      (_l("Paid this month"), format_money(c["paid_this_month"]))],
            "link": ("payments.queue", _l("Payment queue"))}


def _payee_panel(actor):
    if actor.organisation_id is None:
        return None
    c = queries.payee_counts(actor.organisation_id)
    if not (c["paid_count"] or c["under_way"]):
        return None
    return {"title": _l("Payments to us"),
            "text": _("%(n)s payment(s) are under way.", n=c["under_way"]) if c["under_way"] else "",
            "items": [(_l("Paid"), f"{c['paid_count']} · {format_money(c['paid_total'])}"),
                      (_l("Under way"), f"{c['under_way']} · {format_money(c['under_way_total'])}")],
            "link": ("payments.mine", _l("Payments received"))}


def _officer_panel(actor):
    n = queries.open_objections_count()
    return {"title": _l("Public notices"),
            "text": (_("%(n)s objection(s) to public notices wait for your decision.", n=n) if n
                     else _("No objection waits for a decision.")),
            "items": [(_l("Open objections"), n)], "link": ("payments.notices", _l("Public notices"))}
