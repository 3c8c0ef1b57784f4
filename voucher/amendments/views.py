"""Amendment pages: the SME's "Request a change" on an approved grant, the officer's queue and the
decision page (before and after side by side, a confirmation before approving).  Thin views: parse,
call the service, render; a refused call answers 422 (the request rolls back)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voucher.access import require
from voucher.amendments import queries, services
from voucher.amendments.access import RULES as ACCESS
from voucher.amendments.forms import (
    ApproveAmendmentForm,
    LoanAmendmentForm,
    RefuseAmendmentForm,
    RobotAmendmentForm,
    TrialAmendmentForm,
    WithdrawAmendmentForm,
)
from voucher.auth.policy import current_actor, roles_required
from voucher.deadlines import local_today
from voucher.errors import DomainError
from voucher.grants import grant_kind
from voucher.pagination import page_arg
from voucher.ui import form_errors_from

bp = Blueprint("amendments", __name__, url_prefix="/amendments")


@dataclass(frozen=True)
class Upload:
    """An uploaded file as the kinds' services take it (a stream and the name it was sent with)."""

    stream: BinaryIO
    filename: str
FORMS = {"trial_application": TrialAmendmentForm, "loan_application": LoanAmendmentForm,
         "robot_application": RobotAmendmentForm}


@bp.context_processor
def _labels():
    return {"field_labels": queries.FIELD_LABELS, "money_fields": queries.MONEY_FIELDS,
            "amendment_status_labels": queries.STATUS_LABELS}


def _subject_or_404(source_type: str, source_id: int):
    if source_type not in FORMS:
        abort(404)
    return services.subject_of(source_type, source_id)


@bp.route("/new/<source_type>/<int:source_id>", methods=["GET", "POST"])
@roles_required(*ACCESS["amendments.request"].roles)
def new(source_type: str, source_id: int):
    actor = current_actor()
    subject = _subject_or_404(source_type, source_id)
    services.ensure_may_request(actor, subject)
    form = FORMS[source_type]()
    kind = grant_kind(source_type)
    status = 200
    if form.validate_on_submit():
        asked = {name: form[name].data for name in kind.amendable_fields if name in form}
        for name in kind.amendment_files:  # an uploaded file as the services take it
            storage = asked.get(name)
            asked[name] = Upload(storage.stream, storage.filename or "") if storage and storage.filename else None
        try:
            amendment = services.request_amendment(actor, source_type, source_id, asked, form.reason.data,
                                                   local_today())
        except DomainError as err:
            if err.status == 403:
                raise
            form_errors_from(err, form)
        else:
            flash(_("Your request to change the grant was sent to the bureau."), "success")
            return redirect(url_for("amendments.detail", amendment_id=amendment.id), 303)
        status = 422
    elif request.method == "POST":
        status = 422
    # A grant that cannot change at all (fully paid, a payment under way) says so instead of a form.
    refusal = kind.amendment_refusal(source_id) if request.method == "GET" else None
    return render_template("amendments/new.html", form=form, subject=subject,
                           refusal=refusal.render(_) if refusal is not None else None,
                           grant_link=kind.detail_link(source_id),
                           pending=services.open_amendment(source_type, source_id)), status


@bp.get("/")
@roles_required(*ACCESS["amendments.queue"].roles)
def queue():
    status = request.args.get("status", "requested")
    q = request.args.get("q", "")[:40]
    page = queries.queue(status, q, page_arg())
    return render_template("amendments/queue.html", page=page, status=status, q=q)


def _detail(amendment_id: int, status: int = 200, forms: dict | None = None):
    actor = current_actor()
    amendment = services.get_amendment(actor, amendment_id)
    forms = forms or {}
    kind = grant_kind(amendment.source_type)
    return render_template(
        "amendments/detail.html", a=amendment,
        grant_link=kind.detail_link(amendment.source_id) if kind else None,
        actions=services.MACHINE.available(amendment.status, actor.role),
        approve_form=forms.get("approve") or ApproveAmendmentForm(prefix="approve"),
        refuse_form=forms.get("refuse") or RefuseAmendmentForm(prefix="refuse"),
        withdraw_form=WithdrawAmendmentForm(prefix="withdraw")), status


@bp.get("/<int:amendment_id>")
@roles_required(*ACCESS["amendments.read"].roles)
def detail(amendment_id: int):
    return _detail(amendment_id)


@bp.post("/<int:amendment_id>/<any(approve, refuse, withdraw):action>")
@roles_required(*(set(ACCESS["amendments.decide"].roles) | set(ACCESS["amendments.request"].roles)))
def decide(amendment_id: int, action: str):
    actor = current_actor()
    # Who may is checked before the form: a refused role gets 403 whatever it sent.
    if action == "withdraw":
        require(actor, "amendments.request", services.get_amendment(actor, amendment_id),
                message="This grant belongs to another enterprise.")
    else:
        require(actor, "amendments.decide", message="Only a programme officer may decide on amendments.")
    form = {"approve": ApproveAmendmentForm, "refuse": RefuseAmendmentForm,
            "withdraw": WithdrawAmendmentForm}[action](prefix=action)
    if form.validate_on_submit():
        try:
            if action == "approve":
                services.approve(actor, amendment_id, form.comment.data)
            elif action == "refuse":
                services.refuse(actor, amendment_id, form.reason.data)
            else:
                services.withdraw(actor, amendment_id)
        except DomainError as err:
            if err.status == 403:
                raise
            form_errors_from(err, form)
        else:
            flash({"approve": _("The change was approved."), "refuse": _("The change was refused."),
                   "withdraw": _("Your request was withdrawn.")}[action], "success")
            return redirect(url_for("amendments.detail", amendment_id=amendment_id), 303)
    return _detail(amendment_id, 422, {action: form})
