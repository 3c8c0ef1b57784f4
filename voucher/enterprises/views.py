"""Enterprise registration and profile (SME), the bureau's enterprise register, provider profiles."""
from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.auth.policy import current_actor, roles_required
from voucher.calc import CalcInputError
from voucher.enterprises import queries, services
from voucher.enterprises.access import RULES as ACCESS
from voucher.enterprises.forms import EnterpriseForm, ProviderProfileForm
from voucher.enterprises.models import SIZE_CLASS_CODES
from voucher.errors import DomainError
from voucher.forms import parse_amount
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.pagination import page_arg
from voucher.reference import DISTRICTS, INDUSTRIES, SIZE_CLASSES, label
from voucher.ui import add_service_errors, form_errors_from

bp = Blueprint("enterprises", __name__)


# Plain names of the audited fields, for the "recent changes" lists.
FIELD_LABELS = {
    "name": _l("Registered name"), "uscc": _l("Unified social credit code"), "district": _l("District"),
    "industry": _l("Industry"), "employees": _l("Employees"), "annual_revenue": _l("Annual revenue"),
    "industrial_park": _l("Small and micro industrial park"), "size_class": _l("Size class"),
    "contact_name": _l("Contact person"), "contact_phone": _l("Contact phone"), "bank_name": _l("Bank"),
    "bank_account": _l("Bank account number"), "bank_code": _l("Bank code (CNAPS)"),
    "description": _l("What you offer"),
}


@bp.context_processor
def _field_labels():
    return {"field_labels": FIELD_LABELS}


def size_view(employees, revenue) -> dict | None:
    """The size class and its working, ready for the page (None when the inputs are incomplete)."""
    if employees is None or revenue is None:
        return None
    try:
        result = services.size_of(employees, revenue)
    except CalcInputError:
        return None
    return {"code": result.size_class, "label": label(SIZE_CLASSES, result.size_class), "is_sme": result.is_sme,
            "working": [s.render(_) for s in result.working if s.code != "size.result"]}


def _initial(org) -> dict:
    ent = org.enterprise
    data = {"name": org.name, "uscc": org.uscc, "contact_name": org.contact_name,
            "contact_phone": org.contact_phone, "bank_name": org.bank_name, "bank_account": org.bank_account,
            "bank_code": org.bank_code}
    if ent is not None:
        data.update(district=ent.district, industry=ent.industry, employees=ent.employees,
                    annual_revenue=ent.annual_revenue, industrial_park=ent.industrial_park)
    return data


def _render_form(form, org, status=200):
    preview = size_view(form.employees.data, form.annual_revenue.data)
    return render_template("enterprises/form.html", form=form, org=org, preview=preview), status


@bp.route("/enterprise", methods=["GET", "POST"])
@roles_required(*ACCESS["enterprises.own_profile"].roles)
def my_enterprise():
    """GET: the user's enterprise, or the registration form when there is none.
    POST: register (no enterprise yet) or save changes (the edit form posts here too)."""
    actor = current_actor()
    org = services.my_enterprise(actor)
    if request.method == "GET":
        if org is None or org.enterprise is None:
            form = EnterpriseForm(data=_initial(org)) if org is not None else EnterpriseForm()
            return _render_form(form, org)
        ent = org.enterprise
        return render_template("enterprises/mine.html", org=org, ent=ent,
                               size=size_view(ent.employees, ent.annual_revenue),
                               users=queries.organisation_users(org.id),
                               changes=queries.recent_changes(org.id))
    form = EnterpriseForm()
    if form.validate_on_submit():
        try:
            if org is None:
                org = services.register_enterprise(actor, form.to_input())
                flash(_("Your enterprise is registered."), "success")
            else:
                _org, changed = services.update_enterprise(actor, org.id, form.to_input())
                flash(_("Your changes are saved.") if changed else _("Nothing was changed."),
                      "success" if changed else "info")
        except DomainError as err:
            form_errors_from(err, form)
        else:
            # The enterprise page says prominently whether the enterprise may apply (a large one may not).
            return redirect(url_for("enterprises.my_enterprise"))
    else:
        add_service_errors(form, lambda: services.clean_enterprise(form.to_input()))
    return _render_form(form, org, 422)


@bp.get("/enterprise/edit")
@roles_required(*ACCESS["enterprises.own_profile"].roles)
def edit_my_enterprise():
    org = services.my_enterprise(current_actor())
    if org is None:
        return redirect(url_for("enterprises.my_enterprise"))
    return _render_form(EnterpriseForm(data=_initial(org)), org)


_INT = re.compile(r"^[0-9]+$")


@bp.get("/enterprise/size-preview")
@roles_required(*ACCESS["enterprises.own_profile"].roles)
def size_preview():
    """The size class the entered figures give (read-only; the form page calls it with htmx)."""
    raw_employees = (request.args.get("employees") or "").strip()
    employees = int(raw_employees) if _INT.match(raw_employees) else None
    revenue = parse_amount(request.args.get("annual_revenue"))
    return render_template("enterprises/_size_preview.html", preview=size_view(employees, revenue))


@bp.get("/enterprises/")
@roles_required(*ACCESS["enterprises.index"].roles)
def index():
    args = {k: (request.args.get(k) or "").strip() or None for k in ("q", "district", "industry", "size_class")}
    fmt = requested_format()
    if fmt:
        everything = queries.enterprises_page(**args, page=1, per_page=EXPORT_LIMIT)
        return send(fmt, "enterprises",
                    [_("Registered name"), _("Credit code"), _("District"), _("Industry"), _("Employees"),
                     _("Annual revenue"), _("Size class"), _("Small and micro industrial park"), _("Registered on")],
                    ([o.name, o.uscc, label(DISTRICTS, o.enterprise.district), label(INDUSTRIES, o.enterprise.industry),
                      o.enterprise.employees, o.enterprise.annual_revenue, label(SIZE_CLASSES, o.enterprise.size_class),
                      o.enterprise.industrial_park or "", local_time(o.created_at)] for o in everything.items),
                    everything.total)
    pagination = queries.enterprises_page(**args, page=page_arg(),
                                          per_page=current_app.config["PAGE_SIZE"])
    return render_template("enterprises/index.html", pagination=pagination, args=args,
                           size_classes=SIZE_CLASS_CODES, districts=DISTRICTS, industries=INDUSTRIES)


@bp.get("/enterprises/<int:organisation_id>")
@roles_required(*ACCESS["enterprises.read"].roles)
def detail(organisation_id: int):
    org = services.get_enterprise(current_actor(), organisation_id)
    ent = org.enterprise
    return render_template("enterprises/detail.html", org=org, ent=ent,
                           size=size_view(ent.employees, ent.annual_revenue) if ent else None,
                           users=queries.organisation_users(org.id), changes=queries.recent_changes(org.id))


@bp.route("/provider/profile", methods=["GET", "POST"])
@roles_required(*ACCESS["enterprises.provider_profile"].roles)
def provider_profile():
    """The provider's own profile: the organisation comes from the login, never from the request."""
    actor = current_actor()
    org = services.own_provider(actor)
    status = 200
    if request.method == "POST":
        form = ProviderProfileForm()
        if form.validate_on_submit():
            try:
                _org, changed = services.update_provider_profile(actor, form.to_input())
            except DomainError as err:
                form_errors_from(err, form)
            else:
                flash(_("Your changes are saved.") if changed else _("Nothing was changed."),
                      "success" if changed else "info")
                return redirect(url_for("enterprises.provider_profile"))
        else:
            add_service_errors(form, lambda: services.clean_provider(form.to_input()))
        status = 422
    else:
        form = ProviderProfileForm(obj=org)
    return render_template("enterprises/provider_profile.html", form=form, org=org,
                           users=queries.organisation_users(org.id), changes=queries.recent_changes(org.id)), status


# --- start-page panels ------------------------------------------------------------------------

def _sme_panel(actor):
    org = services.my_enterprise(actor)
    title = _("My enterprise")
    if org is None or org.enterprise is None:
        return {"title": title,
                "text": _("Next step: register your enterprise. You need it to apply for trial vouchers and subsidies."),
                "link": ("enterprises.my_enterprise", _("Register your enterprise"))}
    ent = org.enterprise
    if ent.is_sme:
        next_step = _("Next step: choose a solution from the catalogue and apply for a trial voucher.")
        link = (("catalogue.public_list", _("Browse the solution catalogue"))
                if "catalogue.public_list" in current_app.view_functions
                else ("enterprises.my_enterprise", _("View your enterprise")))
    else:
        next_step = _("Large enterprises cannot apply for vouchers or subsidies.")
        link = ("enterprises.my_enterprise", _("View your enterprise"))
    return {"title": title, "text": next_step,
            "items": [(_("Enterprise"), org.name), (_("Size class"), label(SIZE_CLASSES, ent.size_class))],
            "link": link}


def _provider_panel(actor):
    try:
        org = services.own_provider(actor)
    except DomainError:
        return None
    missing = [lbl for lbl, value in ((_("Bank account"), org.bank_account), (_("Contact phone"), org.contact_phone),
                                      (_("Description"), org.description)) if not value]
    text = (_("Complete your profile: %(fields)s.", fields=", ".join(missing)) if missing
            else _("Your profile is complete."))
    return {"title": _("Provider profile"), "text": text, "items": [(_("Organisation"), org.name)],
            "link": ("enterprises.provider_profile", _("Edit the profile"))}
