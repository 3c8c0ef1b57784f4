"""The solution catalogue pages: the public catalogue (no login), the provider's solutions,
the evaluators' screening queue, and the bureau's solution pages.  Thin: parse, call a
service, render; a refused call re-renders with its messages and a 4xx status."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher.access import can
from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import current_actor, roles_required
from voucher.catalogue import queries, services
from voucher.catalogue.access import RULES as ACCESS
from voucher.catalogue.forms import ReasonForm, ScreeningForm, SolutionForm
from voucher.catalogue.labels import (
    DECISIONS,
    EVENT_LABELS,
    PROVIDER_NEXT_STEP,
    RUBRIC_LABELS,
    SORTS,
    STATUS_BADGES,
    STATUS_LABELS,
)
from voucher.catalogue.models import RUBRIC, SOLUTION_STATES
from voucher.errors import DomainError, Forbidden, NotFound
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.pagination import cursor_arg, page_arg
from voucher.reference import INDUSTRIES, SOLUTION_CATEGORIES, label
from voucher.ui import form_errors_from

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

PAGE_SIZE = 20


@bp.context_processor
def catalogue_labels():
    return {"status_labels": STATUS_LABELS, "status_badges": STATUS_BADGES, "next_steps": PROVIDER_NEXT_STEP,
            "rubric": RUBRIC, "rubric_labels": RUBRIC_LABELS, "decisions": DECISIONS,
            "event_labels": EVENT_LABELS}


def _page() -> int:
    return page_arg()


def _arg(name: str, allowed) -> str | None:
    value = (request.args.get(name) or "").strip()
    return value if value in allowed else None


def _q() -> str:
    return (request.args.get("q") or "").strip()[:100]


def _export(fmt: str, name: str, pagination, columns: list[str], with_stats: bool = False):
    """The list's solutions with the columns the page shows (and, for the catalogue, the trial figures)."""
    everything = pagination
    stats = queries.solution_stats([s.id for s in everything.items]) if with_stats else {}
    getters = {
        "submitted": (_("Submitted"), lambda s: local_time(s.submitted_at)),
        "title": (_("Title"), lambda s: s.title),
        "provider": (_("Provider"), lambda s: s.provider.name),
        "category": (_("Category"), lambda s: label(SOLUTION_CATEGORIES, s.category)),
        "industries": (_("Target industries"), lambda s: "、".join(label(INDUSTRIES, c) for c in s.target_industries or [])),
        "trial_price": (_("Trial price"), lambda s: s.trial_price),
        "list_price": (_("List price"), lambda s: s.list_price),
        "period": (_("Trial period (days)"), lambda s: s.trial_period_days),
        "status": (_("Status"), lambda s: str(STATUS_LABELS.get(s.status, s.status))),
        "next_step": (_("Next step"), lambda s: str(PROVIDER_NEXT_STEP.get(s.status, ""))),
        "updated": (_("Last change"), lambda s: local_time(s.updated_at)),
        "trials_run": (_("Trials run"), lambda s: stats[s.id].trials_run),
        "mean_score": (_("Mean evaluation score"), lambda s: stats[s.id].mean_score if stats[s.id].mean_score is not None else ""),
        "adoption_rate": (_("Adoption rate (%)"), lambda s: stats[s.id].adoption_rate if stats[s.id].adoption_rate is not None else ""),
    }
    return send(fmt, name, [getters[c][0] for c in columns],
                ([getters[c][1](s) for c in columns] for s in everything.items), everything.total)


# --- public catalogue -----------------------------------------------------------------------

@bp.get("/")
def public_list():
    """Listed and recommended solutions: anyone, no login."""
    q, category, industry = _q(), _arg("category", SOLUTION_CATEGORIES), _arg("industry", INDUSTRIES)
    sort = _arg("sort", SORTS) or "recommended"
    fmt = requested_format()
    if fmt:
        return _export(fmt, "solution-catalogue",
                       queries.public_page(q=q or None, category=category, industry=industry, sort=sort, page=1,
                                           per_page=EXPORT_LIMIT, seek=False),
                       ["title", "provider", "category", "industries", "trial_price", "list_price", "period", "status",
                        "trials_run", "mean_score", "adoption_rate"], with_stats=True)
    # Keyset pages: an altered ?cursor= raises CursorError (400, named on the error page).
    pagination = queries.public_page(q=q or None, category=category, industry=industry, sort=sort, page=1,
                                     per_page=queries.PUBLIC_PAGE_SIZE, cursor=cursor_arg())
    stats = queries.solution_stats([s.id for s in pagination.items])
    return render_template("catalogue/public_list.html", pagination=pagination, stats=stats, q=q,
                           category=category, industry=industry, sort=sort, sorts=SORTS)


@bp.get("/<int:solution_id>")
def public_detail(solution_id: int):
    solution = queries.public_solution(solution_id)
    if solution is None:
        abort(404)
    stats = queries.solution_stats([solution.id])[solution.id]
    can_manage = can(current_user, "catalogue.record", solution)
    return render_template("catalogue/public_detail.html", solution=solution, stats=stats, can_manage=can_manage)


# --- the provider's solutions ---------------------------------------------------------------

@bp.get("/mine")
@roles_required(*ACCESS["catalogue.own_solutions"].roles)
def my_solutions():
    q, status = _q(), _arg("status", SOLUTION_STATES)
    actor = current_actor()
    if actor.organisation_id is None:
        raise Forbidden("Your account is not attached to a provider organisation.")
    fmt = requested_format()
    if fmt:
        return _export(fmt, "my-solutions", queries.provider_page(actor.organisation_id, q=q or None, status=status,
                                                                  page=1, per_page=EXPORT_LIMIT),
                       ["title", "category", "trial_price", "status", "next_step", "updated"])
    pagination = queries.provider_page(actor.organisation_id, q=q or None, status=status, page=_page(),
                                       per_page=PAGE_SIZE)
    return render_template("catalogue/my_solutions.html", pagination=pagination, q=q, status=status,
                           confirm=ConfirmForm())


def _solution_input(form: SolutionForm) -> services.SolutionInput:
    return services.SolutionInput(
        title=form.title.data or "", category=form.category.data or "",
        target_industries=tuple(form.target_industries.data or ()), description=form.description.data or "",
        list_price=form.list_price.data, trial_price=form.trial_price.data,
        trial_period_days=form.trial_period_days.data)


@bp.route("/mine/new", methods=["GET", "POST"])
@roles_required(*ACCESS["catalogue.own_solutions"].roles)
def new_solution():
    form = SolutionForm()
    if form.validate_on_submit():
        try:
            solution = services.create_solution(current_actor(), _solution_input(form))
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("Draft saved. Check it, then submit it for screening."), "success")
            return redirect(url_for("catalogue.detail", solution_id=solution.id))
    status = 422 if request.method == "POST" else 200
    return render_template("catalogue/form.html", form=form, solution=None), status


@bp.route("/mine/<int:solution_id>/edit", methods=["GET", "POST"])
@roles_required(*ACCESS["catalogue.own_solutions"].roles)
def edit_solution(solution_id: int):
    actor = current_actor()
    solution = services.own_solution(actor, solution_id)  # another provider's: 403
    if solution.status != "draft":
        if request.method == "POST":
            try:
                services.editable_solution(actor, solution.id)
            except DomainError as err:
                return _refused(solution.id, err)
        flash(_("Only a draft can be edited. A solution that was not listed can be revised back into a draft."),
              "info")
        return redirect(url_for("catalogue.detail", solution_id=solution.id))
    form = SolutionForm(obj=solution)
    if form.validate_on_submit():
        try:
            services.update_solution(actor, solution.id, _solution_input(form))
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for("catalogue.detail", solution_id=solution.id))
    status = 422 if request.method == "POST" else 200
    return render_template("catalogue/form.html", form=form, solution=solution), status


# --- the solution's internal page and its actions ---------------------------------------

def _detail_context(solution, reason_form=None):
    actor = current_actor()
    context = {
        "solution": solution,
        "screenings": queries.screenings_for(solution.id),
        "history": queries.history(solution.id),
        "actions": services.allowed_actions(actor, solution),
        "stats": queries.solution_stats([solution.id])[solution.id],
        "confirm": ConfirmForm(),
        "reason_form": reason_form or ReasonForm(),
        "eligibility": None,
    }
    if can(actor, "catalogue.eligibility") and solution.status == "listed":
        context["eligibility"] = services.recommendation_check(solution.id)
    return context


@bp.get("/solutions/<int:solution_id>")
@roles_required(*ACCESS["catalogue.record"].roles)
def detail(solution_id: int):
    solution = services.solution_for(current_actor(), solution_id)
    return render_template("catalogue/detail.html", **_detail_context(solution))


def _refused(solution_id: int, err: DomainError, reason_form=None):
    """Show the solution page again with the refusal (4xx: the request rolls back)."""
    if isinstance(err, (Forbidden, NotFound)):
        raise err
    if reason_form is not None and err.fields:
        form_errors_from(err, reason_form)
    else:
        flash(err.render(_), "danger")
    solution = services.solution_for(current_actor(), solution_id)
    status = 422 if err.status < 400 or err.status == 422 else err.status
    return render_template("catalogue/detail.html", **_detail_context(solution, reason_form)), status


def _expired(solution_id: int):
    flash(_("The form expired; please try again."), "danger")
    return redirect(url_for("catalogue.detail", solution_id=solution_id)), 303


def _button_action(solution_id: int, call, done_message: str, next_endpoint: str = "catalogue.detail"):
    if not ConfirmForm().validate_on_submit():
        return _expired(solution_id)
    try:
        call(current_actor(), solution_id)
    except DomainError as err:
        return _refused(solution_id, err)
    flash(done_message, "success")
    if next_endpoint == "catalogue.detail":
        return redirect(url_for(next_endpoint, solution_id=solution_id))
    return redirect(url_for(next_endpoint))


@bp.post("/mine/<int:solution_id>/submit")
@roles_required(*ACCESS["catalogue.own_solutions"].roles)
def submit_solution(solution_id: int):
    return _button_action(solution_id, services.submit,
                          _("Submitted for screening. The evaluation institution has been notified."))


@bp.post("/mine/<int:solution_id>/revise")
@roles_required(*ACCESS["catalogue.own_solutions"].roles)
def revise_solution(solution_id: int):
    return _button_action(solution_id, services.revise,
                          _("The solution is a draft again: revise it, then submit it."))


@bp.post("/solutions/<int:solution_id>/recommend")
@roles_required(*ACCESS["catalogue.curate"].roles)
def recommend(solution_id: int):
    return _button_action(solution_id, services.promote_to_recommended,
                          _("The solution is now on the recommendation catalogue."))


def _reason_action(solution_id: int, call, done_message: str):
    form = ReasonForm()
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(solution_id)
        solution = services.solution_for(current_actor(), solution_id)
        return render_template("catalogue/detail.html", **_detail_context(solution, form)), 422
    try:
        call(current_actor(), solution_id, form.reason.data)
    except DomainError as err:
        return _refused(solution_id, err, form)
    flash(done_message, "success")
    return redirect(url_for("catalogue.detail", solution_id=solution_id))


@bp.post("/solutions/<int:solution_id>/delist")
@roles_required(*ACCESS["catalogue.curate"].roles)
def delist(solution_id: int):
    return _reason_action(solution_id, services.delist, _("The solution was delisted."))


@bp.post("/solutions/<int:solution_id>/relist")
@roles_required(*ACCESS["catalogue.curate"].roles)
def relist(solution_id: int):
    return _reason_action(solution_id, services.relist, _("The solution is listed again."))


@bp.get("/solutions")
@roles_required(*ACCESS["catalogue.manage"].roles)
def manage():
    q, status, category = _q(), _arg("status", SOLUTION_STATES), _arg("category", SOLUTION_CATEGORIES)
    fmt = requested_format()
    if fmt:
        return _export(fmt, "solutions", queries.manage_page(q=q or None, status=status, category=category, page=1,
                                                             per_page=EXPORT_LIMIT),
                       ["title", "provider", "category", "trial_price", "status", "updated"])
    pagination = queries.manage_page(q=q or None, status=status, category=category, page=_page(),
                                     per_page=PAGE_SIZE)
    return render_template("catalogue/manage.html", pagination=pagination, q=q, status=status, category=category,
                           counts=queries.status_counts())


# --- screening ---------------------------------------------------------------------------

@bp.get("/screening")
@roles_required(*ACCESS["catalogue.screen"].roles)
def screening_queue():
    status = _arg("status", queries.QUEUE_STATES)
    fmt = requested_format()
    if fmt:
        return _export(fmt, "screening-queue", queries.screening_queue_page(status=status, page=1,
                                                                           per_page=EXPORT_LIMIT),
                       ["submitted", "title", "provider", "category", "trial_price", "status"])
    pagination = queries.screening_queue_page(status=status, page=_page(), per_page=PAGE_SIZE)
    return render_template("catalogue/screening_queue.html", pagination=pagination, status=status,
                           confirm=ConfirmForm())


def _screen_page(solution, form, status=200):
    return render_template("catalogue/screen.html", solution=solution, form=form, confirm=ConfirmForm(),
                           screenings=queries.screenings_for(solution.id)), status


@bp.route("/screening/<int:solution_id>", methods=["GET", "POST"])
@roles_required(*ACCESS["catalogue.screen"].roles)
def screen(solution_id: int):
    actor = current_actor()
    solution = services.solution_for(actor, solution_id)
    form = ScreeningForm()
    if form.validate_on_submit():
        data = services.ScreeningInput(**{name: getattr(form, name).data for name in RUBRIC},
                                       decision=form.decision.data, reasons=form.reasons.data or "")
        try:
            record = services.screen(actor, solution.id, data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
            return _screen_page(solution, form, 422 if err.status == 422 else err.status)
        flash(_("Screening recorded: the solution is listed.") if record.decision == "list"
              else _("Screening recorded: the solution is not listed."), "success")
        return redirect(url_for("catalogue.screening_queue"))
    return _screen_page(solution, form, 422 if request.method == "POST" else 200)


@bp.post("/screening/<int:solution_id>/start")
@roles_required(*ACCESS["catalogue.screen"].roles)
def start_screening(solution_id: int):
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("catalogue.screening_queue")), 303
    try:
        services.start_screening(current_actor(), solution_id)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        flash(err.render(_), "danger")
        return _screen_page(services.get_solution(solution_id), ScreeningForm(formdata=None), err.status)
    flash(_("Screening started: score the solution and record the decision."), "success")
    return redirect(url_for("catalogue.screen", solution_id=solution_id))
