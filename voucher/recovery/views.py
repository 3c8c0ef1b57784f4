"""Recovery pages: the officer records a breach from the grant's page, the bureau's list of orders
(search, pages, export), an order's page (working, settlements, the notice), finance records a
repayment; the debtor sees its own orders.  Thin views: parse, call the service, render; a refused
call answers 422 (the request rolls back)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher.access import can, require
from voucher.auth.policy import current_actor, roles_required
from voucher.deadlines import local_today
from voucher.documents.services import latest_document
from voucher.errors import DomainError
from voucher.grants import grant_kind
from voucher.list_export import EXPORT_LIMIT, requested_format, send
from voucher.pagination import page_arg
from voucher.recovery import queries, services
from voucher.recovery.access import RULES as ACCESS
from voucher.recovery.documents import working_lines
from voucher.recovery.forms import BreachForm, CancelForm, RepaymentForm
from voucher.ui import form_errors_from

bp = Blueprint("recovery", __name__, url_prefix="/recovery")


@bp.context_processor
def _labels():
    return {"recovery_status_labels": queries.STATUS_LABELS, "recovery_method_labels": queries.METHOD_LABELS,
            "obligation_label": queries.obligation_label}


@bp.route("/new/<source_type>/<int:source_id>", methods=["GET", "POST"])
@roles_required(*ACCESS["recovery.record"].roles)
def new(source_type: str, source_id: int):
    kind = grant_kind(source_type)
    if kind is None or not kind.exists(source_id):
        abort(404)
    actor = current_actor()
    obligations = kind.obligations(source_id)
    form = BreachForm()
    form.obligation.choices = [(o.code, o.label) for o in obligations]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                order = services.record_breach(
                    actor, source_type, source_id, obligation_code=form.obligation.data,
                    breach_on=form.breach_on.data, reason=form.reason.data,
                    evidence=form.evidence.data if form.evidence.data and form.evidence.data.filename else None,
                    method=form.method.data, today=local_today(),
                    deadline_working_days=form.deadline_working_days.data)
            except DomainError as err:
                if err.status == 403:
                    raise
                form_errors_from(err, form)
            else:
                flash(_("The recovery order was issued; the notice is being produced."), "success")
                return redirect(url_for("recovery.detail", order_id=order.id), 303)
    return render_template("recovery/new.html", form=form, obligations=obligations,
                           recoverable=services.recoverable(source_type, source_id),
                           grant_link=kind.detail_link(source_id), grant_label=kind.label(source_id)), status


@bp.get("/")
@roles_required(*ACCESS["recovery.read"].roles)
def index():
    actor = current_actor()
    debtor = None if can(current_user, "recovery.list") else actor.organisation_id
    if debtor is None and not can(current_user, "recovery.list"):
        abort(403)
    status = request.args.get("status", "all")
    q = request.args.get("q", "")[:40]
    fmt = requested_format()
    if fmt:
        everything = queries.search(status, q, 1, debtor_id=debtor, per_page=EXPORT_LIMIT)
        return send(fmt, "recovery-orders",
                    [_("Reference"), _("Application number"), _("Day of the breach"), _("Amount"), _("Repaid"),
                     _("Outstanding"), _("Pay back by"), _("Status")],
                    ([o.reference, o.application_number or "", o.breach_on.isoformat(), o.amount, o.settled_amount,
                      o.outstanding, o.due_on.isoformat(), str(queries.STATUS_LABELS[o.status])]
                     for o in everything.items), everything.total)
    page = queries.search(status, q, page_arg(), debtor_id=debtor)
    return render_template("recovery/index.html", page=page, status=status, q=q)


def _detail(order_id: int, status: int = 200, forms: dict | None = None):
    actor = current_actor()
    order = services.get_order(actor, order_id)
    forms = forms or {}
    kind = grant_kind(order.source_type)
    return render_template(
        "recovery/detail.html", o=order, working=working_lines(order),
        grant_link=kind.detail_link(order.source_id) if kind else None,
        notice=latest_document("recovery_notice", "recovery_order", order.id),
        actions=[a for a in services.MACHINE.available(order.status, actor.role) if not a.startswith("offset")],
        settlement_labels=queries.SETTLEMENT_LABELS,
        pending_offsets=[x for x in services.offsets_of_order(order.id) if x.status == "pending"],
        repay_form=forms.get("repay") or RepaymentForm(prefix="repay"),
        cancel_form=forms.get("cancel") or CancelForm(prefix="cancel")), status


@bp.get("/<int:order_id>")
@roles_required(*ACCESS["recovery.read"].roles)
def detail(order_id: int):
    return _detail(order_id)


@bp.post("/<int:order_id>/repay")
@roles_required(*ACCESS["recovery.settle"].roles)
def repay(order_id: int):
    actor = current_actor()
    require(actor, "recovery.settle", message="Only finance may record a repayment.")
    form = RepaymentForm(prefix="repay")
    if form.validate_on_submit():
        try:
            services.record_repayment(actor, order_id, amount=form.amount.data, paid_on=form.paid_on.data,
                                      bank_reference=form.bank_reference.data, today=local_today())
        except DomainError as err:
            if err.status == 403:
                raise
            form_errors_from(err, form)
        else:
            flash(_("The repayment was recorded; the money is back in the fund."), "success")
            return redirect(url_for("recovery.detail", order_id=order_id), 303)
    return _detail(order_id, 422, {"repay": form})


@bp.post("/<int:order_id>/cancel")
@roles_required(*ACCESS["recovery.record"].roles)
def cancel(order_id: int):
    actor = current_actor()
    form = CancelForm(prefix="cancel")
    if form.validate_on_submit():
        try:
            services.cancel(actor, order_id, form.reason.data)
        except DomainError as err:
            if err.status == 403:
                raise
            form_errors_from(err, form)
        else:
            flash(_("The recovery order was cancelled."), "success")
            return redirect(url_for("recovery.detail", order_id=order_id), 303)
    return _detail(order_id, 422, {"cancel": form})
