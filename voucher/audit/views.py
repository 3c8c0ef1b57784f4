import json

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from voucher.audit import queries
from voucher.audit.services import verify_chain
from voucher.auth.policy import roles_required
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


@bp.get("/")
@roles_required("auditor", "admin")
def index():
    args = {k: (request.args.get(k) or "").strip() or None for k in ("object_type", "object_id", "action")}
    fmt = requested_format()
    if fmt:
        everything = queries.events_page(**args, page=1, per_page=EXPORT_LIMIT)
        return send(fmt, "audit-trail",
                    ["#", _("Time"), _("Actor"), _("Role"), _("Action"), _("Object type"), _("Object id"), _("Before"),
                     _("After"), _("Reason"), _("Hash")],
                    ([e.id, local_time(e.occurred_at), e.actor_label, e.actor_role, e.action, e.object_type,
                      e.object_id, _json(e.before), _json(e.after), e.reason or "", e.hash] for e in everything.items),
                    everything.total)
    pagination = queries.events_page(**args, page=request.args.get("page", 1, type=int),
                                     per_page=current_app.config["PAGE_SIZE"] * 2)
    return render_template("audit/index.html", pagination=pagination, args=args, as_json=_json)


@bp.get("/verify")
@roles_required("auditor", "admin")
def verify():
    return render_template("audit/verify.html", report=verify_chain())
