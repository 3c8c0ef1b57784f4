from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import login_required_any
from voucher.errors import DomainError
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.notifications import queries, services
from voucher.notifications.forms import PreferencesForm
from voucher.pagination import page_arg, query_int
from voucher.ui import form_errors_from

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.get("/")
@login_required_any
def index():
    fmt = requested_format()
    if fmt:
        # Only the caller's own notifications, as the page shows them (every page).
        everything = queries.page_for(current_user.id, 1, EXPORT_LIMIT)
        return send(fmt, "notifications", [_("Notification"), _("Received"), _("Read at"), _("Link")],
                    ([n.text(), local_time(n.created_at), local_time(n.read_at), n.link or ""]
                     for n in everything.items), everything.total)
    pagination = queries.page_for(current_user.id, page_arg(),
                                  current_app.config["PAGE_SIZE"])
    return render_template("notifications/index.html", pagination=pagination, confirm=ConfirmForm())


@bp.post("/read")
@login_required_any
def mark_read():
    form = ConfirmForm()
    if form.validate_on_submit():
        nid = query_int("id", source=request.form)
        services.mark_read(current_user.id, nid)
        target = request.form.get("next")
        if target and target.startswith("/") and not target.startswith("//"):
            return redirect(target)
    return redirect(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required_any
def preferences():
    """The user's own choice of channels (part of their account)."""
    current = services.preferences_of([current_user.id])[current_user.id]
    form = PreferencesForm(data=current)
    if form.validate_on_submit():
        try:
            services.save_preferences(current_user.id, in_app=form.in_app.data, email=form.email.data,
                                      sms=form.sms.data, phone=form.phone.data)
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("Your notification settings are saved."), "success")
            return redirect(url_for("notifications.preferences"))
    status = 422 if request.method == "POST" else 200
    return render_template("notifications/preferences.html", form=form,
                           mail_on=bool(current_app.config.get("MAIL_SERVER"))), status
