"""Programmes (funds): list with ledger figures, set up and change (officers), detail with the ledger."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.access import can
from voucher.appnumbers import number_of, prime
from voucher.auth.policy import current_actor, roles_required
from voucher.errors import DomainError
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.money import format_money
from voucher.pagination import page_arg, query_int
from voucher.programmes import queries, services
from voucher.programmes.access import RULES as ACCESS
from voucher.programmes.forms import PARAMETER_GROUPS, ProgrammeForm
from voucher.programmes.models import FUNDING_KIND_CODES
from voucher.reference import FUNDING_KINDS, label
from voucher.ui import form_errors_from

bp = Blueprint("programmes", __name__, url_prefix="/programmes")

WINDOW_LABELS = {"open": _l("Open for applications"), "upcoming": _l("Not open yet"),
                 "closed": _l("Closed for applications")}


@bp.get("/")
@roles_required(*ACCESS["programmes.read"].roles)
def index():
    q = (request.args.get("q") or "").strip() or None
    year = query_int("year", minimum=1, maximum=9999)
    fmt = requested_format()
    if fmt:
        everything = queries.programmes_page(q=q, year=year, page=1, per_page=EXPORT_LIMIT)
        figures = queries.balances_for(everything.items)
        return send(fmt, "programmes",
                    [_("Programme"), _("Year"), _("Opens on"), _("Closes on"), _("Status"), _("Budget"), _("Reserved"),
                     _("Paid"), _("Available")],
                    ([p.name, p.year, p.opens_on, p.closes_on, str(WINDOW_LABELS[queries.window_status(p)]),
                      figures[p.id].budget, figures[p.id].reserved, figures[p.id].paid, figures[p.id].available]
                     for p in everything.items), everything.total)
    pagination = queries.programmes_page(q=q, year=year, page=page_arg(),
                                         per_page=current_app.config["PAGE_SIZE"])
    figures = queries.balances_for(pagination.items)
    statuses = {p.id: queries.window_status(p) for p in pagination.items}
    return render_template("programmes/index.html", pagination=pagination, figures=figures, statuses=statuses,
                           q=q, year=year)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ACCESS["programmes.edit"].roles)
def new():
    form = ProgrammeForm()
    if request.method == "GET":
        form.year.data = queries.local_today().year
    if form.validate_on_submit():
        try:
            programme = services.create_programme(current_actor(), form.to_input())
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("Programme %(name)s is set up.", name=programme.name), "success")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    status = 422 if request.method == "POST" else 200
    return render_template("programmes/form.html", form=form, programme=None, groups=form.param_groups()), status


@bp.route("/<int:programme_id>/edit", methods=["GET", "POST"])
@roles_required(*ACCESS["programmes.edit"].roles)
def edit(programme_id: int):
    programme = services.get_programme(programme_id)
    form = ProgrammeForm(obj=programme)
    if request.method == "GET":  # the parameters of the rule version in force today
        for name, value in services.parameters_on(programme.id, queries.local_today())[1].items():
            getattr(form, name).data = value
    if form.validate_on_submit():
        try:
            _programme, changed = services.update_programme(current_actor(), programme.id, form.to_input())
        except DomainError as err:
            form_errors_from(err, form)
        else:
            if changed:
                flash(_("Saved. %(count)s setting(s) changed; the change is recorded in the audit trail.",
                        count=len(changed)), "success")
            else:
                flash(_("Nothing was changed."), "info")
            return redirect(url_for("programmes.detail", programme_id=programme.id))
    status = 422 if request.method == "POST" else 200
    return render_template("programmes/form.html", form=form, programme=programme,
                           balances=services.balances(programme), groups=form.param_groups()), status


@bp.get("/<int:programme_id>")
@roles_required(*ACCESS["programmes.read"].roles)
def detail(programme_id: int):
    programme = services.get_programme(programme_id)
    fmt = requested_format()
    if fmt:
        everything = queries.ledger_page(programme.id, page=1, per_page=EXPORT_LIMIT)
        prime((row[0].source_type, row[0].source_id) for row in everything.items)
        kinds = {"reserve": _("Reserved"), "release": _("Released"), "pay": _("Paid"), "return": _("Returned by the bank"),
                 "recover": _("Recovered")}
        milestones = {"advance": _("Advance"), "balance": _("Balance"), "full": _("Full amount")}
        return send(fmt, f"ledger-programme-{programme.id}",
                    ["#", _("When"), _("Entry"), _("Payment"), _("Support"), _("Amount"), _("Source"), _("Application number"),
                     _("Enterprise"), _("Provider"), _("Note"), _("Reserved after"), _("Paid after")],
                    ([row[0].seq, local_time(row[0].created_at), kinds[row[0].kind], milestones.get(row[0].milestone, row[0].milestone or ""),
                      label(FUNDING_KINDS, row[0].funding_kind), row[0].amount, row[0].source_type,
                      number_of(row[0].source_type, row[0].source_id) or row[0].source_id,
                      row.enterprise_name, row.provider_name or "", row[0].note or "", row[0].reserved_after,
                      row[0].paid_after] for row in everything.items), everything.total)
    ledger = queries.ledger_page(programme.id, page=page_arg(),
                                 per_page=current_app.config["PAGE_SIZE"])
    prime((row[0].source_type, row[0].source_id) for row in ledger.items)
    in_force, values = services.parameters_on(programme.id, queries.local_today())
    return render_template("programmes/detail.html", programme=programme, balances=services.balances(programme),
                           ledger=ledger, groups=PARAMETER_GROUPS, status=queries.window_status(programme),
                           funding_kinds=FUNDING_KIND_CODES, specs=services.PARAMETER_SPECS,
                           in_force=in_force, values=values)


# --- rule versions (issue 19 §3): read-only pages --------------------------------------------------

PARAMETER_LABELS = {name: lbl for _legend, items in PARAMETER_GROUPS for name, lbl, _help in items}
VERSION_STATUS = {"published": _l("Published"), "draft": _l("Draft"), "discarded": _l("Discarded")}


@bp.app_context_processor
def _rule_version_helpers():
    def rule_version_of(version_id):
        return services.get_version(version_id) if version_id else None

    return {"rule_version_of": rule_version_of}


@bp.get("/<int:programme_id>/rule-versions")
@roles_required(*ACCESS["programmes.rule_versions"].roles)
def rule_versions(programme_id: int):
    """The programme's rule versions: number, start day, status, note, what changed against the
    version it was based on (or the previous published one)."""
    programme = services.get_programme(programme_id)
    rows, changes = services.versions_with_changes(programme.id)
    in_force = services.version_in_force(programme.id, queries.local_today())
    return render_template("programmes/rule_versions.html", programme=programme, versions=rows, changes=changes,
                           labels=PARAMETER_LABELS, statuses=VERSION_STATUS, in_force=in_force,
                           draft_path=services.draft_rules_path(programme.id))


@bp.get("/rule-versions/<int:version_id>")
@roles_required(*ACCESS["programmes.rule_versions"].roles)
def rule_version(version_id: int):
    """One version: every parameter, who drafted and published it when, and how many decisions use it."""
    version = services.get_version(version_id)
    from voucher.auth.models import User
    from voucher.extensions import db

    people = {uid: db.session.get(User, uid) for uid in (version.created_by, version.published_by) if uid}
    return render_template("programmes/rule_version.html", v=version, programme=version.programme,
                           values=services.parse_parameters(version.parameters), groups=PARAMETER_GROUPS,
                           specs=services.PARAMETER_SPECS, statuses=VERSION_STATUS, people=people,
                           used=services.decisions_using(version.id))


def _bureau_panel(actor):
    programmes = queries.current_programmes()
    if not programmes:
        if not can(actor, "programmes.edit"):
            return None
        return {"title": _("Programmes"), "text": _("No programme is open for applications. Next step: set one up."),
                "link": ("programmes.new", _("New programme"))}
    figures = queries.balances_for(programmes)
    items = [(p.name, _("%(available)s available", available=format_money(figures[p.id].available))) for p in programmes]
    return {"title": _("Programmes open for applications"), "items": items,
            "link": ("programmes.index", _("All programmes"))}
