"""Trial-voucher application pages: the SME's applications and the bureau's review.

Thin views: parse the form, call a service, render.  A refused service call puts its message
on the form and answers 422 (so the request rolls back); success redirects (and commits).
"""
from __future__ import annotations

import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.access import can
from voucher.applications import queries, services
from voucher.applications.access import RULES as ACCESS
from voucher.applications.forms import (
    BASELINE_LABELS,
    ApplicationContentForm,
    ApproveForm,
    CancelForm,
    NewApplicationForm,
    RejectForm,
    RemoveFileForm,
    ReturnForm,
    UploadForm,
    WithdrawForm,
)
from voucher.applications.models import INDICATOR_CODES
from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import current_actor, roles_required
from voucher.deadlines import deadline_text, review_deadline
from voucher.errors import DomainError, TransitionNotAllowed
from voucher.figures_cache import cached_figure
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.money import format_money
from voucher.pagination import cursor_arg, page_arg, query_int
from voucher.reference import DISTRICTS, INDUSTRIES, SIZE_CLASSES, SOLUTION_CATEGORIES, label
from voucher.storage import send_stored
from voucher.ui import form_errors_from

bp = Blueprint("applications", __name__, url_prefix="/applications")


@bp.context_processor
def _labels():
    return {"status_labels": queries.STATUS_LABELS, "status_badges": queries.STATUS_BADGES,
            "baseline_labels": BASELINE_LABELS, "indicator_codes": INDICATOR_CODES}


def _page() -> int:
    return page_arg()


# --- SME ------------------------------------------------------------------------------------

@bp.get("/mine")
@roles_required(*ACCESS["applications.file"].roles)
def my_applications():
    actor = current_actor()
    status = request.args.get("status") or None
    if status not in queries.STATUS_LABELS:
        status = None
    fmt = requested_format()
    if fmt:
        everything = queries.my_page(actor.organisation_id or -1, 1, EXPORT_LIMIT, status, seek=False)
        return send(fmt, "my-applications",
                    [_("Application number"), _("Solution"), _("Provider"), _("Amount"), _("Status"), _("Next step"), _("Created"),
                     _("Submitted")],
                    ([a.number, a.solution.title, a.provider.name, a.requested_amount, queries.status_label(a.status),
                      str(queries.SME_NEXT_STEP.get(a.status, "")), local_time(a.created_at), local_time(a.submitted_at)]
                     for a in everything.items), everything.total)
    pagination = queries.my_page(actor.organisation_id or -1, 1, current_app.config["PAGE_SIZE"], status,
                                 cursor_arg())
    programme = services.current_programme()
    quota = services.quota(programme, actor.organisation_id) if programme and actor.organisation_id else None
    problem = None
    try:
        services.own_enterprise(actor)
    except DomainError as err:
        problem = err.render(_)
    return render_template("applications/mine.html", pagination=pagination, programme=programme, quota=quota,
                           problem=problem, status=status, next_steps=queries.SME_NEXT_STEP)


def _material_uploads(checklist) -> dict[str, list]:
    """The files sent per material of the checklist (``material_<code>``, several each)."""
    return {m.code: [f for f in request.files.getlist(f"material_{m.code}") if f and f.filename]
            for m in checklist}


def _material_errors(err: DomainError) -> dict[str, str]:
    return {k[len("material_"):]: v for k, v in err.field_messages(_).items() if k.startswith("material_")}


def _store_materials(actor, application_id: int, uploads: dict) -> None:
    if any(uploads.values()):
        services.add_materials(actor, application_id, uploads,
                               max_bytes=current_app.config["UPLOAD_MAX_BYTES"])


def _materials_context(application, programme_id, errors=None) -> dict:
    from voucher.materials import checklist_for

    return {"checklist": checklist_for(programme_id, services.FUNDING_KIND),
            "files_by_material": services.materials_by_code(application.id) if application else {},
            "material_errors": errors or {}, "remove_form": RemoveFileForm(prefix="remove", formdata=None),
            "max_upload_mb": current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)}


def _programme_choices(day):
    return [(p.id, f"{p.name} ({p.opens_on.isoformat()} – {p.closes_on.isoformat()})")
            for p in services.open_programmes(day)]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*ACCESS["applications.file"].roles)
def new_application():
    """Without a solution: pick one from the catalogue.  With ``?solution_id=``: the form."""
    actor = current_actor()
    try:
        enterprise = services.own_enterprise(actor)
    except DomainError as err:
        return render_template("applications/not_eligible.html", message=err.render(_)), 200
    solution_id = query_int("solution_id", source=request.values)
    if not solution_id:
        q = (request.args.get("q") or "").strip() or None
        fmt = requested_format()
        if fmt:
            everything = queries.catalogue_page(q, 1, EXPORT_LIMIT)
            return send(fmt, "catalogue-for-trials",
                        [_("Solution"), _("Category"), _("Provider"), _("Trial price"), _("Trial period (days)"),
                         _("Recommended")],
                        ([s.title, label(SOLUTION_CATEGORIES, s.category), s.provider.name, s.trial_price,
                          s.trial_period_days, _("yes") if s.status == "recommended" else ""]
                         for s in everything.items), everything.total)
        pagination = queries.catalogue_page(q, _page(), current_app.config["PAGE_SIZE"])
        return render_template("applications/pick_solution.html", pagination=pagination, q=q)
    try:
        solution = services.catalogue_solution(solution_id)
    except DomainError:
        abort(404)
    if request.method == "GET" and solution.status not in services.CATALOGUE_STATES:
        flash(_("This solution is not in the catalogue (listed or recommended), so it cannot be chosen for a trial."),
              "warning")
        return redirect(url_for("applications.new_application"))
    day = services.local_today()
    form = NewApplicationForm()
    form.submission_day = day
    form.programme_id.choices = _programme_choices(day)
    if request.method == "GET":
        form.token.data = secrets.token_urlsafe(24)
        form.solution_id.data = solution.id
        if len(form.programme_id.choices) == 1:
            form.programme_id.data = form.programme_id.choices[0][0]
    material_errors = {}
    from voucher.materials import checklist_for

    uploads = _material_uploads(checklist_for(form.programme_id.data, services.FUNDING_KIND))
    if request.method == "POST" and form.validate_on_submit():
        try:
            application, created = services.create_application(
                actor, token=form.token.data, programme_id=form.programme_id.data, solution_id=solution.id,
                content=form.content(), today=day)
            if created:
                _store_materials(actor, application.id, uploads)
        except DomainError as err:
            form_errors_from(err, form)
            material_errors = _material_errors(err)
        else:
            if created:
                flash(_("Your application is saved as a draft. Check it, attach your documents, then submit it."),
                      "success")
            return redirect(url_for("applications.detail", application_id=application.id), 303)
    elif request.method == "POST":
        _all_errors_at_once(form, day, solution)
    status = 422 if request.method == "POST" else 200
    programme = services.get_programme_or_none(form.programme_id.data) or services.current_programme(day)
    return render_template("applications/form.html", form=form, application=None, solution=solution,
                           enterprise=enterprise, programme=programme,
                           industry_warning=_industry_warning(enterprise, solution),
                           quota=services.quota(programme, enterprise.organisation_id) if programme else None,
                           **_materials_context(None, programme.id if programme else None, material_errors)), status


def _industry_warning(enterprise, solution) -> str | None:
    """A warning, not a refusal, when the enterprise's industry is not one the solution targets."""
    if not services.industry_mismatch(enterprise, solution):
        return None
    return _("Your enterprise's industry (%(industry)s) is not among the industries this solution is meant for "
             "(%(targets)s). You may still apply; say in the need statement why it suits you.",
             industry=label(INDUSTRIES, enterprise.industry),
             targets=", ".join(label(INDUSTRIES, code) for code in solution.target_industries))


def _all_errors_at_once(form, day, solution, application=None) -> None:
    """The form refused some fields: check the rest with the services' rules too, so every problem
    shows in one round (a field the form already refused keeps its own message)."""
    for err in services.content_problems(form.content(), day, programme=(
            application.programme if application else services.get_programme_or_none(form.programme_id.data)),
            enterprise_id=current_actor().organisation_id, solution=solution):
        for name, message in err.field_messages(_).items():
            target = getattr(form, name, None)
            if target is not None and hasattr(target, "errors") and not target.errors:
                target.errors = list(target.errors or []) + [message]


@bp.route("/<int:application_id>/edit", methods=["GET", "POST"])
@roles_required(*ACCESS["applications.file"].roles)
def edit(application_id: int):
    actor = current_actor()
    application = services.get_application(actor, application_id)
    if application.enterprise_id != actor.organisation_id:
        abort(403)
    if not application.editable:
        flash(_("This application can no longer be changed."), "warning")
        return redirect(url_for("applications.detail", application_id=application.id), 303)
    day = services.local_today()
    form = ApplicationContentForm(obj=application)
    form.submission_day = day
    material_errors = {}
    if form.validate_on_submit():
        try:
            services.update_application(actor, application.id, form.content(), today=day)
            _store_materials(actor, application.id, _material_uploads(services.checklist(application)))
        except DomainError as err:
            form_errors_from(err, form)
            material_errors = _material_errors(err)
        else:
            flash(_("Your changes are saved. Submit the application when it is complete."), "success")
            return redirect(url_for("applications.detail", application_id=application.id), 303)
    elif request.method == "POST":
        _all_errors_at_once(form, day, application.solution, application)
    status = 422 if request.method == "POST" else 200
    return render_template("applications/form.html", form=form, application=application,
                           solution=application.solution, enterprise=application.enterprise.enterprise,
                           programme=application.programme,
                           industry_warning=_industry_warning(application.enterprise.enterprise, application.solution),
                           quota=services.quota(application.programme, application.enterprise_id),
                           **_materials_context(application, application.programme_id, material_errors)), status


def _sme_action(application_id: int, form, call, success: str):
    actor = current_actor()
    if not form.validate_on_submit():
        return _detail_response(application_id, status=422, forms={"withdraw": form} if isinstance(form, WithdrawForm)
                                else None)
    try:
        call(actor)
    except DomainError as err:
        if err.status == 403:
            raise
        flash(err.render(_), "danger")
        return _detail_response(application_id, status=422)
    flash(success, "success")
    return redirect(url_for("applications.detail", application_id=application_id), 303)


@bp.post("/<int:application_id>/submit")
@roles_required(*ACCESS["applications.file"].roles)
def submit(application_id: int):
    return _sme_action(application_id, ConfirmForm(prefix="submit"),
                       lambda actor: services.submit(actor, application_id),
                       _("Your application was submitted. The bureau will review it; you will be notified."))


@bp.post("/<int:application_id>/withdraw")
@roles_required(*ACCESS["applications.file"].roles)
def withdraw(application_id: int):
    form = WithdrawForm(prefix="withdraw")
    return _sme_action(application_id, form,
                       lambda actor: services.withdraw(actor, application_id, form.reason.data),
                       _("Your application was withdrawn."))


@bp.post("/<int:application_id>/attachments")
@roles_required(*ACCESS["applications.file"].roles)
def upload(application_id: int):
    """Add files to materials of the checklist (several per material at once)."""
    actor = current_actor()
    form = UploadForm(prefix="upload")
    application = services.get_application(actor, application_id)  # 403/404 before reading the files
    if form.validate_on_submit():
        try:
            stored = services.add_materials(actor, application_id, _material_uploads(services.checklist(application)),
                                            max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
        except DomainError as err:
            if err.status == 403:
                raise
            errors = _material_errors(err)
            if not errors:
                flash(err.render(_), "danger")
            return _detail_response(application_id, status=422, material_errors=errors)
        else:
            flash(_("%(count)s documents attached: %(names)s.", count=len(stored),
                    names=", ".join(s.original_name for s in stored)), "success")
            return redirect(url_for("applications.detail", application_id=application_id) + "#materials", 303)
    return _detail_response(application_id, status=422)


@bp.post("/<int:application_id>/attachments/<int:file_id>/remove")
@roles_required(*ACCESS["applications.file"].roles)
def remove_attachment(application_id: int, file_id: int):
    """Take a file off before (re)submission (to replace it, upload the new one)."""
    form = RemoveFileForm(prefix="remove")
    if not form.validate_on_submit():
        return _detail_response(application_id, status=422)
    try:
        stored = services.remove_attachment(current_actor(), application_id, file_id)
    except DomainError as err:
        if err.status in (403, 404):
            raise
        flash(err.render(_), "danger")
        return _detail_response(application_id, status=422)
    flash(_("Document %(name)s removed.", name=stored.original_name), "success")
    return redirect(url_for("applications.detail", application_id=application_id) + "#materials", 303)


@bp.get("/<int:application_id>/attachments/<int:file_id>")
@roles_required(*ACCESS["applications.read"].roles)
def download(application_id: int, file_id: int):
    stored = services.get_attachment(current_actor(), application_id, file_id)
    return send_stored(stored, max_age=0)


# --- one application (SME and bureau) ---------------------------------------------------------

def _forms(overrides: dict | None = None) -> dict:
    forms = {"submit": ConfirmForm(prefix="submit", formdata=None),
             "withdraw": WithdrawForm(prefix="withdraw", formdata=None),
             "upload": UploadForm(prefix="upload", formdata=None),
             "approve": ApproveForm(prefix="approve", formdata=None),
             "reject": RejectForm(prefix="reject", formdata=None),
             "return": ReturnForm(prefix="return", formdata=None),
             "cancel": CancelForm(prefix="cancel", formdata=None)}
    forms.update(overrides or {})
    return forms


def _detail_response(application_id: int, status: int = 200, forms: dict | None = None,
                     material_errors: dict | None = None):
    actor = current_actor()
    application = services.get_application(actor, application_id)
    file = queries.application_file(application)
    actions = services.MACHINE.available(application.status, actor.role)
    if actor.role == "sme" and not can(actor, "applications.file", application):
        actions = []
    next_steps = queries.SME_NEXT_STEP if actor.role == "sme" else queries.OFFICER_NEXT_STEP
    from voucher.amendments import queries as amendment_queries
    from voucher.recovery import queries as recovery_queries
    from voucher.timeline import build as build_timeline
    from voucher.trials.queries import trial_for_application  # the link to its trial (a read, no service)

    timeline = build_timeline(services.SOURCE_TYPE, services.MACHINE, application, file.events)
    return render_template("applications/detail.html", f=file, a=application, actions=actions, timeline=timeline,
                           **amendment_queries.page_context(actor, services.SOURCE_TYPE, application.id,
                                                            application.status, application),
                           **recovery_queries.page_context(actor, services.SOURCE_TYPE, application.id),
                           trial=trial_for_application(application.id),
                           forms=_forms(forms), next_step=next_steps.get(application.status, ""),
                           timeline_labels=queries.TIMELINE_LABELS,
                           missing_materials=services.missing_materials(application) if application.editable else [],
                           **_materials_context(application, application.programme_id, material_errors)), status


@bp.get("/<int:application_id>")
@roles_required(*ACCESS["applications.read"].roles)
def detail(application_id: int):
    return _detail_response(application_id)


# --- the bureau's review ----------------------------------------------------------------------

@bp.get("/review")
@roles_required(*ACCESS["applications.review_queue"].roles)
def review_queue():
    args = request.args
    status = args.get("status", "submitted")
    status = status if status in queries.QUEUE_STATUSES else None
    district = args.get("district") if args.get("district") in DISTRICTS else None
    industry = args.get("industry") if args.get("industry") in INDUSTRIES else None
    sort = args.get("sort") if args.get("sort") in queries.SORTS else "submitted_desc"
    q = (args.get("q") or "").strip()[:100] or None
    filters = queries.QueueFilters(status=status, district=district, industry=industry,
                                   solution_id=query_int("solution_id"), q=q, sort=sort,
                                   solution=(args.get("solution") or "").strip()[:100] or None)
    fmt = requested_format()
    if fmt:
        everything = queries.review_page(filters, 1, EXPORT_LIMIT, seek=False)

        def row(a):
            ent = a.enterprise.enterprise
            d = review_deadline(a.submitted_at) if a.status == "submitted" else None
            return [a.number, a.enterprise.name, label(SIZE_CLASSES, ent.size_class) if ent else "",
                    label(DISTRICTS, ent.district) if ent else "", label(INDUSTRIES, ent.industry) if ent else "",
                    a.solution.title, a.provider.name, a.requested_amount, local_time(a.submitted_at),
                    queries.status_label(a.status), deadline_text(d)]

        return send(fmt, "trial-applications",
                    [_("Application number"), _("Enterprise"), _("Size class"), _("District"), _("Industry"), _("Solution"),
                     _("Provider"), _("Amount"), _("Submitted"), _("Status"), _("Review deadline")],
                    (row(a) for a in everything.items), everything.total)
    # Keyset pages: an altered ?cursor= raises CursorError (400, named on the error page).
    pagination = queries.review_page(filters, 1, current_app.config["PAGE_SIZE"], cursor_arg())
    deadlines = {a.id: review_deadline(a.submitted_at) for a in pagination.items if a.status == "submitted"}
    return render_template("applications/review_queue.html", pagination=pagination, filters=filters,
                           deadlines=deadlines,
                           statuses=queries.QUEUE_STATUSES, sorts=queries.SORTS, districts=DISTRICTS,
                           industries=INDUSTRIES, solution_title=queries.solution_title(filters.solution_id),
                           next_steps=queries.OFFICER_NEXT_STEP)


DECISIONS = {
    "approve": (ApproveForm, lambda actor, app_id, form: services.approve(actor, app_id, form.comment.data),
                _l("The application was approved and %(amount)s reserved in the fund.")),
    "reject": (RejectForm, lambda actor, app_id, form: services.reject(actor, app_id, form.reason.data),
               _l("The application was rejected; the enterprise has been notified.")),
    "return": (ReturnForm, lambda actor, app_id, form: services.return_for_revision(actor, app_id, form.reason.data),
               _l("The application was returned for revision; the enterprise has been notified.")),
    "cancel": (CancelForm, lambda actor, app_id, form: services.cancel(actor, app_id, form.reason.data),
               _l("The approval was cancelled and the reservation released.")),
}


DECISION_TARGETS = {"approve": "approved", "reject": "rejected", "return": "returned", "cancel": "cancelled"}


@bp.post("/<int:application_id>/<any(approve, reject, return, cancel):action>")
@roles_required(*ACCESS["applications.decide"].roles)
def decide(application_id: int, action: str):
    form_class, call, success = DECISIONS[action]
    form = form_class(prefix=action)
    if form.validate_on_submit():
        try:
            application = call(current_actor(), application_id, form)
        except TransitionNotAllowed as err:
            # A double click: the first request already recorded this very decision.
            current = services.get_application(current_actor(), application_id)
            if current.status == DECISION_TARGETS[action]:
                flash(_("This decision was already recorded."), "info")
                return redirect(url_for("applications.detail", application_id=application_id), 303)
            form_errors_from(err, form)
        except DomainError as err:
            if err.status == 403:
                raise
            # A missing reason lands on its field; the ledger's refusals (budget, caps) are flashed.
            form_errors_from(err, form)
        else:
            flash(str(success) % {"amount": format_money(application.requested_amount)}, "success")
            return redirect(url_for("applications.detail", application_id=application_id), 303)
    return _detail_response(application_id, status=422, forms={action: form})


# --- start-page panels ----------------------------------------------------------------------

def _sme_panel(actor):
    if actor.organisation_id is None:
        return None
    from voucher.dashboard.queries import shared

    programme = shared(("current_programme",), services.current_programme)
    items = []
    if programme is not None:
        q = shared(("quota", programme.id, actor.organisation_id),
                   lambda: services.quota(programme, actor.organisation_id))
        items += [(_("Trial-voucher quota used (%(programme)s)", programme=programme.name), format_money(q.used)),
                  (_("Quota remaining"), format_money(q.remaining))]
    waiting = queries.needing_action_count(actor.organisation_id)
    items.append((_("Applications needing your action"), str(waiting)))
    return {"title": _("Trial vouchers"),
            "text": (_("Drafts to submit or applications returned for revision are waiting for you.") if waiting
                     else _("Apply for a trial voucher for a solution from the catalogue.")),
            "items": items, "link": ("applications.my_applications", _("My applications"))}


def _officer_panel(actor):
    waiting = cached_figure("trial_waiting_count", (), queries.waiting_count)
    return {"title": _("Trial-voucher applications"),
            "items": [(_("Waiting for review"), str(waiting))],
            "link": ("applications.review_queue", _("Open the review queue"))}
