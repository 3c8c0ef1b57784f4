from flask import Blueprint, current_app, render_template, request

from voucher.audit import queries
from voucher.audit.services import verify_chain
from voucher.auth.policy import roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
@roles_required("auditor", "admin")
def index():
    args = {k: (request.args.get(k) or "").strip() or None for k in ("object_type", "object_id", "action")}
    pagination = queries.events_page(**args, page=request.args.get("page", 1, type=int),
                                     per_page=current_app.config["PAGE_SIZE"] * 2)
    return render_template("audit/index.html", pagination=pagination, args=args)


@bp.get("/verify")
@roles_required("auditor", "admin")
def verify():
    return render_template("audit/verify.html", report=verify_chain())
