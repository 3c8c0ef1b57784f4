from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import login_required_any
from voucher.notifications import mail, queries, services  # noqa: F401  (mail: registers the after-commit mailer)

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required_any
def index():
    pagination = queries.page_for(current_user.id, request.args.get("page", 1, type=int),
                                  current_app.config["PAGE_SIZE"])
    return render_template("notifications/index.html", pagination=pagination, confirm=ConfirmForm())


@bp.post("/read")
@login_required_any
def mark_read():
    form = ConfirmForm()
    if form.validate_on_submit():
        nid = request.form.get("id", type=int)
        services.mark_read(current_user.id, nid)
        target = request.form.get("next")
        if target and target.startswith("/") and not target.startswith("//"):
            return redirect(target)
    return redirect(url_for("notifications.index"))
