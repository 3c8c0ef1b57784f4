"""Pages: the operator's parks; one park (figures, confirmed enterprises with their programme use,
search, CSV/Excel of the list, the report workbook, the membership requests to decide); the SME's
park (name, change, leave; a panel on its enterprise page); the officer's list of parks (register one).
The operator reads only: no page of it changes an enterprise, and another park's pages answer 403."""
from __future__ import annotations

from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher.access import can
from voucher.auth.policy import current_actor, roles_required
from voucher.deadlines import local_today
from voucher.enterprises.models import Organisation
from voucher.errors import DomainError
from voucher.exports import XLSX_TYPE
from voucher.extensions import db
from voucher.list_export import requested_format, send
from voucher.pagination import page_arg
from voucher.parks import queries, services, workbook
from voucher.parks.access import RULES as ACCESS
from voucher.parks.forms import DecideForm, LeaveParkForm, NameParkForm, ParkForm
from voucher.reference import DISTRICTS, label
from voucher.ui import form_errors_from

bp = Blueprint("parks", __name__, url_prefix="/parks")
PER_PAGE = 50


@bp.app_context_processor
def _panel_helpers():
    def park_membership_of(organisation_id):
        """The enterprise's live membership (its own users' panel)."""
        return services.live_membership(organisation_id)

    return {"park_membership_of": park_membership_of, "park_status_labels": queries.STATUS_LABELS}


@bp.get("/")
@roles_required(*ACCESS["parks.read"].roles)
def index():
    actor = current_actor()
    parks = queries.all_parks() if actor.role != "park_operator" else queries.parks_of_operator(actor.organisation_id)
    if actor.role == "park_operator" and len(parks) == 1:
        return redirect(url_for("parks.detail", park_id=parks[0].id))
    return render_template("parks/index.html", parks=parks, districts=DISTRICTS)


def _search() -> str | None:
    return (request.args.get("q") or "").strip()[:60] or None


@bp.get("/<int:park_id>")
@roles_required(*ACCESS["parks.read"].roles)
def detail(park_id: int):
    park = services.get_park(current_actor(), park_id)
    q = _search()
    fmt = requested_format()
    if fmt:
        everything = queries.members_page(park.id, q, 1, workbook.ROW_LIMIT)
        return send(fmt, "park-enterprises", workbook.enterprise_headers(),
                    (workbook.enterprise_row(n, m) for n, m in enumerate(everything.items, start=1)),
                    everything.total)
    deciding = can(current_user, "parks.decide", park)
    return render_template("parks/detail.html", park=park, q=q, figures=queries.figures(park.id),
                           pagination=queries.members_page(park.id, q, page_arg(), PER_PAGE),
                           requests=queries.pending_requests(park.id) if deciding else [],
                           deciding=deciding, kinds=queries.KIND_LABELS, statuses=queries.status_labels(),
                           district=label(DISTRICTS, park.district), form=DecideForm())


@bp.get("/<int:park_id>/workbook")
@roles_required(*ACCESS["parks.read"].roles)
def report_workbook(park_id: int):
    park = services.get_park(current_actor(), park_id)
    today = local_today()
    response = make_response(workbook.build(park, today))
    response.mimetype = XLSX_TYPE
    response.headers["Content-Disposition"] = f'attachment; filename="park-{park.id}-report-{today:%Y%m%d}.xlsx"'
    return response


@bp.post("/requests/<int:membership_id>")
@roles_required(*ACCESS["parks.decide"].roles)
def decide(membership_id: int):
    form = DecideForm()
    if not form.validate_on_submit() or form.decision.data not in ("confirm", "decline"):
        abort(400)
    try:
        membership = services.decide(current_actor(), membership_id, form.decision.data == "confirm",
                                     form.reason.data)
    except DomainError as err:
        if err.status in (403, 404):
            abort(err.status)
        db.session.rollback()  # nothing changed (the state and the reason are checked first); say so
        flash(err.render(_), "danger")
        return redirect(request.referrer or url_for("parks.index"), 303)
    flash(_("The enterprise is confirmed as a member of the park.") if membership.status == "confirmed"
          else _("The request is declined; the enterprise sees your reason."), "success")
    return redirect(url_for("parks.detail", park_id=membership.park_id), 303)


def _park_choices() -> list[tuple[int, str]]:
    return [(p.id, f"{p.name} ({label(DISTRICTS, p.district)})") for p in queries.all_parks()]


@bp.route("/mine", methods=["GET", "POST"])
@roles_required(*ACCESS["parks.join"].roles)
def mine():
    actor = current_actor()
    form, leave_form = NameParkForm(prefix="name"), LeaveParkForm(prefix="leave")
    form.park_id.choices = _park_choices()
    status = 200
    if request.method == "POST":
        status = 422
        target = leave_form if "leave-confirm" in request.form or "leave-submit" in request.form else form
        if target.validate_on_submit():
            try:
                if target is leave_form:
                    services.leave_park(actor)
                    message = _("Your enterprise has left the park.")
                else:
                    services.name_park(actor, form.park_id.data)
                    message = _("Your request is sent: the park's operator confirms it.")
            except DomainError as err:
                form_errors_from(err, target)
                status = err.status
            else:
                flash(message, "success")
                return redirect(url_for("parks.mine"), 303)
    membership = services.live_membership(actor.organisation_id)
    history = queries.memberships_of(actor.organisation_id)
    return render_template("parks/mine.html", form=form, leave_form=leave_form, membership=membership,
                           history=history, statuses=queries.STATUS_LABELS, districts=DISTRICTS), status


@bp.route("/manage", methods=["GET", "POST"])
@roles_required(*ACCESS["parks.manage"].roles)
def manage():
    form = ParkForm()
    form.district.choices = [(code, str(word)) for code, word in DISTRICTS.items()]
    form.operator_id.choices = [(0, _("— none —"))] + [(o.id, o.name) for o in db.session.scalars(
        db.select(Organisation).where(Organisation.kind == "park").order_by(Organisation.name))]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                services.create_park(current_actor(), form.name.data, form.district.data, form.operator_id.data or None,
                                     form.operator_name.data)
            except DomainError as err:
                form_errors_from(err, form)
                status = err.status
            else:
                flash(_("The park is registered."), "success")
                return redirect(url_for("parks.manage"), 303)
    return render_template("parks/manage.html", form=form, parks=queries.all_parks(), districts=DISTRICTS), status
