import json

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _

from voucher.audit import queries
from voucher.audit.services import anchors, ensure_daily_anchor, verify_chain
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
    # An altered ?cursor= raises CursorError: the error page, 400, names it.
    pagination = queries.events_seek(**args, cursor=request.args.get("cursor") or None,
                                     per_page=current_app.config["PAGE_SIZE"] * 2)
    from voucher.appnumbers import prime

    prime((e.object_type, e.object_id) for e in pagination.items if str(e.object_id).isdigit())
    return render_template("audit/index.html", pagination=pagination, args=args, as_json=_json,
                           anchor=ensure_daily_anchor())


@bp.get("/verify")
@roles_required("auditor", "admin")
def verify():
    report = verify_chain()
    return render_template("audit/verify.html", report=report, anchor=ensure_daily_anchor() if report.ok else None)


ANCHOR_FIELDS = ("day", "anchored_at", "chain_length", "head_hash")


def _anchor_rows():
    return [{"day": a.anchored_on.isoformat(), "anchored_at": a.anchored_at.isoformat(timespec="seconds"),
             "chain_length": a.chain_length, "head_hash": a.head_hash} for a in anchors()]


@bp.get("/anchors")
@roles_required("auditor", "admin")
def anchor_list():
    """The published daily chain heads; the auditor keeps the export outside the system and gives it
    to ``flask voucher audit-verify --anchor FILE``."""
    ensure_daily_anchor()
    return render_template("audit/anchors.html", anchors=anchors(limit=60))


@bp.get("/anchors.<any(json, csv):fmt>")
@roles_required("auditor", "admin")
def anchor_export(fmt: str):
    ensure_daily_anchor()
    rows = _anchor_rows()
    if fmt == "json":
        body = json.dumps({"anchors": rows}, ensure_ascii=False, indent=1)
        mimetype = "application/json"
    else:
        import csv
        import io

        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=ANCHOR_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        body, mimetype = out.getvalue(), "text/csv"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f"attachment; filename=audit-anchors.{fmt}"})
