"""The start page (public welcome, or the role's own dashboard) and the programme statistics."""
from flask import Blueprint, abort, g, render_template, request
from flask_login import current_user

from voucher.auth.policy import current_actor, roles_required
from voucher.dashboard import figures, queries, roles
from voucher.enterprises.queries import organisation_with_enterprise
from voucher.pagination import bounded_int
from voucher.programmes.access import RULES as STATISTICS

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("dashboard/welcome.html")
    actor = current_actor()
    queries.open_shared_figures()
    if actor.organisation_id is not None:
        # Several cards read the user's organisation and enterprise; the session's identity map finds
        # them only while something holds them, so the request keeps them (one statement, not four).
        g.start_page_organisation = organisation_with_enterprise(actor.organisation_id)
    builder = roles.BUILDERS.get(actor.role)
    return render_template("dashboard/home.html", panels=queries.panels_for(actor), role=actor.role,
                           d=builder(actor) if builder else {}, kind_labels=roles.KIND_LABELS,
                           detail_endpoints=roles.DETAIL_ENDPOINTS)


@bp.get("/statistics")
@roles_required(*STATISTICS["statistics.read"].roles)
def statistics():
    """Fund use over time, by kind, district and industry; trial outcomes; adoption; statuses."""
    choices = figures.programme_choices()
    raw = request.args.get("programme_id", "")
    if raw in ("", "all"):
        programme_id = None
    elif bounded_int(raw) is not None and bounded_int(raw) in {pid for pid, _name in choices}:
        programme_id = bounded_int(raw)
    else:
        abort(404)
    return render_template("dashboard/statistics.html", charts=roles.statistics(programme_id),
                           programmes=choices, programme_id=programme_id)
