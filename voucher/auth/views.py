"""Login, logout, password change, SME self-registration, language; admin user management."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from voucher.auth import queries, services
from voucher.auth.forms import (
    ConfirmForm,
    LoginForm,
    PasswordChangeForm,
    PasswordResetForm,
    RegisterForm,
    UserCreateForm,
    UserEditForm,
)
from voucher.auth.policy import current_actor, login_required_any, roles_required
from voucher.auth.throttle import login_limits, reauth_limits
from voucher.errors import DomainError
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.pagination import page_arg
from voucher.reference import ORGANISATION_KINDS, ROLES, label
from voucher.ui import form_errors_from

bp = Blueprint("auth", __name__)
admin_bp = Blueprint("admin", __name__, url_prefix="/admin")


def _safe_next(target: str | None) -> str:
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.home")


def _begin(user) -> None:
    session.clear()  # no session fixation: a fresh cookie for a fresh login
    session["sid"] = services.start_session(user, request.remote_addr)
    session.permanent = True
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@login_limits(methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            lang = session.get("lang")
            _begin(user)
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("Unknown e-mail or wrong password (or the account is deactivated)."))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required_any
def logout():
    services.end_session(session.get("sid"))
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required_any
@reauth_limits(methods=["POST"])
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user._get_current_object(), form.current_password.data,
                                     form.new_password.data)
        except DomainError as err:
            form_errors_from(err, form)
        else:
            _begin(current_user._get_current_object())
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("dashboard.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/password.html", form=form), status


@bp.route("/register", methods=["GET", "POST"])
@login_limits(methods=["POST"])
def register():
    """Enterprise staff open their own account, then register their enterprise."""
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(None, email=form.email.data, name=form.name.data,
                                        password=form.password.data, role="sme")
        except DomainError as err:
            form_errors_from(err, form)
        else:
            lang = session.get("lang")  # the language chosen before opening the account stays
            _begin(user)
            if lang:
                session["lang"] = lang
            flash(_("Your account is ready. Next step: register your enterprise."), "success")
            return redirect(url_for("dashboard.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.post("/lang")
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        flash(_("Unknown language."), "danger")
        return redirect(_safe_next(request.form.get("next"))), 303
    session["lang"] = lang
    if current_user.is_authenticated:
        services.set_locale(current_user._get_current_object(), lang, current_app.config["LANGUAGES"])
    return redirect(_safe_next(request.form.get("next")))


# --- admin: user management -------------------------------------------------------------

def _organisation_choices():
    choices = [("", _("— none —"))]
    for org_id, kind, name in queries.organisation_choices():
        choices.append((str(org_id), f"{name} ({ORGANISATION_KINDS.get(kind, kind)})"))
    return choices


@admin_bp.get("/users")
@roles_required("admin")
def users():
    page = page_arg()
    q = request.args.get("q", "").strip()
    role = request.args.get("role") or None
    if role not in ROLES:
        role = None
    fmt = requested_format()
    if fmt:
        everything = queries.users_page(q, role, 1, EXPORT_LIMIT)
        return send(fmt, "users", [_("Name"), _("E-mail"), _("Role"), _("Organisation"), _("Status"), _("Last login")],
                    ([u.name, u.email, label(ROLES, u.role), u.organisation.name if u.organisation else "",
                      _("Active") if u.active else _("Deactivated"), local_time(u.last_login_at)]
                     for u in everything.items), everything.total)
    pagination = queries.users_page(q, role, page, current_app.config["PAGE_SIZE"])
    return render_template("admin/users.html", pagination=pagination, q=q, role=role, confirm=ConfirmForm())


@admin_bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def user_new():
    form = UserCreateForm()
    form.organisation_id.choices = _organisation_choices()
    if form.validate_on_submit():
        try:
            user = services.create_user(current_actor(), email=form.email.data, name=form.name.data,
                                        password=form.password.data, role=form.role.data,
                                        organisation_id=form.organisation_id.data)
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=None), status


@admin_bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user_edit(user_id: int):
    user = services.get_user(user_id)
    form = UserEditForm(obj=user)
    form.organisation_id.choices = _organisation_choices()
    reset_form = PasswordResetForm(prefix="reset")
    if form.validate_on_submit():
        try:
            services.update_user(current_actor(), user.id, name=form.name.data, role=form.role.data,
                                 organisation_id=form.organisation_id.data)
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("User %(email)s updated.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/user_form.html", form=form, user=user, reset_form=reset_form,
                           confirm=ConfirmForm()), status


@admin_bp.post("/users/<int:user_id>/active")
@roles_required("admin")
def user_set_active(user_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("admin.users")), 303
    active = request.form.get("active") == "1"
    try:
        user = services.set_active(current_actor(), user_id, active)
    except DomainError as err:
        flash(err.render(_), "danger")
        return redirect(url_for("admin.users")), 303
    flash(_("User %(email)s activated.", email=user.email) if active
          else _("User %(email)s deactivated; their sessions have ended.", email=user.email), "success")
    return redirect(url_for("admin.users"))


@admin_bp.post("/users/<int:user_id>/password")
@roles_required("admin")
def user_reset_password(user_id: int):
    user = services.get_user(user_id)
    reset_form = PasswordResetForm(prefix="reset")
    if reset_form.validate_on_submit():
        try:
            services.reset_password(current_actor(), user.id, reset_form.new_password.data)
        except DomainError as err:
            form_errors_from(err, reset_form)
        else:
            flash(_("A new password was set for %(email)s; their sessions have ended.", email=user.email), "success")
            return redirect(url_for("admin.user_edit", user_id=user.id))
    form = UserEditForm(obj=user)
    form.organisation_id.choices = _organisation_choices()
    return render_template("admin/user_form.html", form=form, user=user, reset_form=reset_form,
                           confirm=ConfirmForm()), 422
