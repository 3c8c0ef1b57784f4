"""Pages: the open risk signals (filters, search by application number, CSV/Excel export), one
signal with the rows behind it and the dismissal form; the panel the review and approval pages
include (``risk_signals_for``).  Bureau roles only: SMEs and providers get 403."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher.access import can
from voucher.auth.policy import current_actor, roles_required
from voucher.errors import DomainError
from voucher.list_export import local_time, requested_format, send
from voucher.pagination import page_arg
from voucher.risk import queries, services
from voucher.risk.access import RULES as ACCESS
from voucher.risk.forms import DismissForm
from voucher.ui import form_errors_from

bp = Blueprint("risk", __name__, url_prefix="/risk")
PER_PAGE = 50
EXPORT_LIMIT = 10_000


@bp.app_context_processor
def _panel_helpers():
    def risk_signals_for(source_type: str, source_id: int, enterprise_id: int | None = None, *_others):
        """The open signals of an application, for a reader allowed to see them (else none)."""
        if not current_user.is_authenticated or not can(current_user, "risk.read"):
            return []
        return queries.signals_for(source_type, source_id, enterprise_id)

    return {"risk_signals_for": risk_signals_for, "risk_kind_labels": queries.KIND_LABELS,
            "risk_status_labels": queries.STATUS_LABELS, "risk_reason": queries.reason_text,
            "risk_what": queries.WHAT_LABELS}


def _filters() -> queries.Filters:
    status = request.args.get("status", "open")
    return queries.Filters(kind=request.args.get("kind") or None,
                           status=status if status in queries.STATUS_LABELS else None,
                           q=(request.args.get("q") or "").strip()[:60] or None)


def _why(signal) -> str:
    rows = signal.evidence.get("rows", ())
    return queries.reason_text(signal) + " — " + "; ".join(
        " ".join(str(v) for v in (r.get("organisation") or r.get("enterprise") or "", r.get("number") or "",
                                  r.get("value") or "") if v) for r in rows)


@bp.get("/")
@roles_required(*ACCESS["risk.read"].roles)
def index():
    filters = _filters()
    fmt = requested_format()
    if fmt:
        everything = queries.signals_page(filters, 1, EXPORT_LIMIT)
        return send(fmt, "risk-signals",
                    [_("Signal"), _("Kind"), _("Application number"), _("Status"), _("Why"), _("Detected"),
                     _("Reason")],
                    ([s.id, str(queries.KIND_LABELS[s.kind]), s.numbers or "", str(queries.STATUS_LABELS[s.status]),
                      _why(s), local_time(s.detected_at), s.dismiss_reason or ""] for s in everything.items),
                    everything.total)
    return render_template("risk/index.html", pagination=queries.signals_page(filters, page_arg(), PER_PAGE),
                           filters=filters, kinds=queries.KIND_LABELS, statuses=queries.STATUS_LABELS,
                           counts=queries.open_counts())


@bp.route("/<int:signal_id>", methods=["GET", "POST"])
@roles_required(*ACCESS["risk.read"].roles)
def detail(signal_id: int):
    actor = current_actor()
    signal = services.get_signal(actor, signal_id)
    form = DismissForm()
    if request.method == "POST":
        if not can(current_user, "risk.dismiss"):
            abort(403)
        status = 422
        if form.validate_on_submit():
            try:
                services.dismiss(actor, signal_id, form.reason.data)
            except DomainError as err:   # a reason refused (422), already dismissed (409)
                form_errors_from(err, form)
                status = err.status
            else:
                flash(_("The signal is dismissed."), "success")
                return redirect(url_for("risk.detail", signal_id=signal_id))
        return render_template("risk/detail.html", signal=signal, form=form), status
    return render_template("risk/detail.html", signal=signal, form=form)
