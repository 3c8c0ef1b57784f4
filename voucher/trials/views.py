"""Trial pages: the lists, one trial (milestones, evaluators, result, adoption, timeline), the
evaluator's declaration and form, and the officer's recommendation and ranking pages.

Thin views: parse the form, call a service, render.  A refused service call puts its message on
the form and answers 422 (so the request rolls back); success redirects (and commits).

Over 600 lines, on purpose: one blueprint (``/trials``) for every trial page, each view short
(parse, call, render); the pages share their helpers (``_detail_response``, the forms' error
rendering), which a split would have to import back and forth.
"""
from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voucher.access import can
from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import current_actor, roles_required
from voucher.catalogue import queries as catalogue_queries
from voucher.errors import DomainError, Forbidden, NotFound
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.pagination import page_arg, query_int
from voucher.storage import send_stored
from voucher.trials import queries, recommendation, services
from voucher.trials.access import RULES as ACCESS
from voucher.trials.forms import (
    AcceptanceForm,
    AdoptionForm,
    AssignForm,
    ConflictForm,
    DeclarationForm,
    DisputeForm,
    EvaluationForm,
    MilestoneConfirmForm,
    MilestoneReportForm,
    RemoveAssignmentForm,
)
from voucher.trials.models import CRITERIA, INDICATOR_CODES, MILESTONE_KINDS, TRIAL_STATES
from voucher.ui import form_errors_from

bp = Blueprint("trials", __name__, url_prefix="/trials")


@bp.context_processor
def _labels():
    from voucher.applications.forms import BASELINE_LABELS

    return {"status_labels": queries.STATUS_LABELS, "status_badges": queries.STATUS_BADGES,
            "milestone_labels": queries.MILESTONE_LABELS, "milestone_status_labels": queries.MILESTONE_STATUS_LABELS,
            "milestone_badges": queries.MILESTONE_BADGES, "assignment_labels": queries.ASSIGNMENT_STATUS_LABELS,
            "outcome_labels": queries.OUTCOME_LABELS, "recommendation_labels": queries.RECOMMENDATION_LABELS,
            "criterion_labels": queries.CRITERION_LABELS, "indicator_labels": BASELINE_LABELS,
            "improvement_reasons": queries.IMPROVEMENT_REASONS, "timeline_labels": queries.TIMELINE_LABELS,
            "milestone_kinds": MILESTONE_KINDS, "criteria": CRITERIA, "indicator_codes": INDICATOR_CODES,
            "acceptance_labels": queries.ACCEPTANCE_LABELS, "party_labels": queries.PARTY_LABELS,
            "early_pct": services.EARLY_FINISH_PCT,
            "today": services.applications.local_today()}


def _page() -> int:
    return page_arg()


def _filters(with_provider: bool) -> queries.TrialFilters:
    args = request.args
    status = args.get("status") if args.get("status") in TRIAL_STATES else None
    provider_id = query_int("provider_id") if with_provider else None
    q = (args.get("q") or "").strip()[:100] or None
    return queries.TrialFilters(status=status, overdue=args.get("overdue") == "1", provider_id=provider_id, q=q)


# --- lists ------------------------------------------------------------------------------------

def _trial_status(t) -> str:
    """The status as the lists show it (with "approval cancelled" and "overdue")."""
    if t.application.status == "cancelled":
        return _("Approval cancelled")
    text = str(queries.STATUS_LABELS.get(t.status, t.status))
    if t.is_overdue(services.applications.local_today()):
        text += " · " + _("Overdue")
    return text


def _export_trials(fmt: str, name: str, pagination, bureau: bool, role: str | None = None):
    waiting = queries.waiting_milestones([t.id for t in pagination.items])
    if bureau:
        headers = [_("Application number"), _("Solution"), _("Enterprise"), _("Provider"), _("Approved amount"), _("Status"), _("Start"), _("End"),
                   _("Milestones waiting"), _("Score"), _("Outcome")]

        def row(t):
            return [t.application.number, t.solution.title, t.enterprise.name, t.provider.name, t.approved_amount, _trial_status(t),
                    t.start_date, t.end_date, waiting.get(t.id, 0), t.score if t.score is not None else "",
                    str(queries.OUTCOME_LABELS[t.outcome]) if t.outcome else ""]
    else:
        headers = [_("Application number"), _("Solution"), _("Enterprise") if role == "provider" else _("Provider"), _("Status"), _("Start"),
                   _("End"), _("Milestones waiting for the enterprise")]

        def row(t):
            return [t.application.number, t.solution.title, t.enterprise.name if role == "provider" else t.provider.name, _trial_status(t),
                    t.start_date, t.end_date, waiting.get(t.id, 0)]
    return send(fmt, name, headers, (row(t) for t in pagination.items), pagination.total)


@bp.get("/")
@roles_required(*ACCESS["trials.index"].roles)
def index():
    filters = _filters(with_provider=True)
    fmt = requested_format()
    if fmt:
        return _export_trials(fmt, "trials", queries.trials_page(filters, 1, EXPORT_LIMIT), bureau=True)
    pagination = queries.trials_page(filters, _page(), current_app.config["PAGE_SIZE"])
    return render_template("trials/index.html", pagination=pagination, filters=filters,
                           providers=queries.provider_choices(), statuses=TRIAL_STATES,
                           waiting=queries.waiting_milestones([t.id for t in pagination.items]))


@bp.get("/mine")
@roles_required(*ACCESS["trials.mine"].roles)
def mine():
    actor = current_actor()
    filters = _filters(with_provider=False)
    org = actor.organisation_id or -1
    kwargs = {"provider_id": org} if actor.role == "provider" else {"enterprise_id": org}
    fmt = requested_format()
    if fmt:
        return _export_trials(fmt, "my-trials", queries.my_trials_page(filters=filters, page=1, per_page=EXPORT_LIMIT,
                                                                      **kwargs), bureau=False, role=actor.role)
    pagination = queries.my_trials_page(filters=filters, page=_page(), per_page=current_app.config["PAGE_SIZE"],
                                        **kwargs)
    return render_template("trials/mine.html", pagination=pagination, filters=filters, statuses=TRIAL_STATES,
                           waiting=queries.waiting_milestones([t.id for t in pagination.items]),
                           stages=queries.payment_stages(list(pagination.items)))


@bp.get("/evaluations")
@roles_required(*ACCESS["trials.evaluate"].roles)
def evaluations_mine():
    show_all = request.args.get("all") == "1"
    fmt = requested_format()
    if fmt:
        everything = queries.evaluator_page(current_actor().user_id, 1, EXPORT_LIMIT, show_all)
        return send(fmt, "my-evaluations", [_("Application number"), _("Solution"), _("Assigned"), _("Status")],
                    ([a.trial.application.number, a.trial.solution.title, local_time(a.assigned_at),
                      str(queries.ASSIGNMENT_STATUS_LABELS.get(a.status, a.status))] for a in everything.items),
                    everything.total)
    pagination = queries.evaluator_page(current_actor().user_id, _page(), current_app.config["PAGE_SIZE"], show_all)
    return render_template("trials/evaluations_mine.html", pagination=pagination, show_all=show_all)


# --- one trial --------------------------------------------------------------------------------

def _forms(overrides: dict | None = None) -> dict:
    forms = {"report": MilestoneReportForm(prefix="report", formdata=None),
             "confirm": MilestoneConfirmForm(prefix="confirm", formdata=None),
             "dispute": DisputeForm(prefix="dispute", formdata=None),
             "assign": AssignForm(prefix="assign", formdata=None),
             "remove": RemoveAssignmentForm(prefix="remove", formdata=None),
             "result": ConfirmForm(prefix="result", formdata=None),
             "adoption": AdoptionForm(prefix="adoption", formdata=None)}
    forms.update(overrides or {})
    forms["assign"].evaluator_id.choices = [("", _("— choose —"))] + [
        (u.id, f"{u.name} ({u.organisation.name if u.organisation else '—'})") for u in services.evaluator_choices()]
    return forms


def _detail_response(trial_id: int, status: int = 200, forms: dict | None = None, dispute_kind: str | None = None):
    actor = current_actor()
    trial = services.get_trial(actor, trial_id)
    reported = services.milestones(trial.id)
    assignment_rows = queries.assignment_rows(trial.id)
    evaluations = queries.evaluations_of(trial.id)
    latest = services.latest_evaluations(trial.id)
    visible = {e.id for e in evaluations if services.can_see_comments(actor, trial, e)}
    own_assignment = services.assignment_of(actor, trial.id) if actor.role == "evaluator" else None
    active = [a for a in assignment_rows if a.status in ("assigned", "cleared", "submitted")]
    can_record_result = (can(actor, "trials.manage") and trial.status == "completed" and active
                         and all(a.status == "submitted" for a in active))
    return render_template(
        "trials/detail.html", t=trial, a=trial.application, reported=reported,
        next_kind=services.next_reportable(trial, reported), assignments=assignment_rows, evaluations=evaluations,
        latest_ids={e.id for e in latest.values()}, visible=visible, own_assignment=own_assignment,
        can_record_result=can_record_result, forms=_forms(forms), dispute_kind=dispute_kind,
        next_step=queries.next_step(actor.role, trial, reported, services.next_reportable(trial, reported),
                                    own_assignment),
        timeline=queries.timeline(trial, list(reported.values()), assignment_rows),
        advance_preview=services.advance_preview(trial),
        early_days=services.early_finish_days(trial, services.applications.local_today()),
        acceptances=services.acceptances(trial.id),
        stages=queries.payment_stages([trial])[trial.id] if can(actor, "trials.follow") else None,
        overdue=trial.is_overdue(services.applications.local_today()),
        max_upload_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)), status


@bp.get("/<int:trial_id>")
@roles_required(*ACCESS["trials.view"].roles)
def detail(trial_id: int):
    actor = current_actor()
    if actor.role == "evaluator":
        trial, assignment = services.evaluator_assignment(actor, trial_id)
        if assignment.status == "assigned":
            return redirect(url_for("trials.declaration", trial_id=trial_id))
    return _detail_response(trial_id)


def _refused(trial_id: int, err: DomainError, form=None, key: str | None = None, **extra):
    if isinstance(err, (Forbidden, NotFound)):
        raise err
    if form is not None:
        form_errors_from(err, form)
    else:
        flash(err.render(_), "danger")
    return _detail_response(trial_id, status=422, forms={key: form} if key and form is not None else None, **extra)


def _expired(trial_id: int):
    flash(_("The form expired; please try again."), "danger")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


@bp.post("/<int:trial_id>/milestones/<kind>/report")
@roles_required(*ACCESS["trials.report_milestone"].roles)
def report(trial_id: int, kind: str):
    actor = current_actor()
    services.get_trial(actor, trial_id)  # 403/404 before reading the file
    form = MilestoneReportForm(prefix="report")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(trial_id)
        return _detail_response(trial_id, status=422, forms={"report": form})
    upload = None
    if form.file.data and getattr(form.file.data, "filename", ""):
        upload = services.Upload(form.file.data.stream, form.file.data.filename,
                                 current_app.config["UPLOAD_MAX_BYTES"])
    try:
        services.report_milestone(actor, trial_id, kind, form.note.data, upload)
    except DomainError as err:
        return _refused(trial_id, err, form, "report")
    flash(_("Milestone reported. The enterprise has been asked to confirm it."), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


def _expected_advance(value: str | None) -> Decimal | None:
    """The advance amount the page showed (a hidden field); None when absent or not a plain amount."""
    from decimal import InvalidOperation

    text = (value or "").strip()
    if not text or len(text) > 20:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


@bp.post("/<int:trial_id>/milestones/<kind>/confirm")
@roles_required(*ACCESS["trials.confirm_milestone"].roles)
def confirm(trial_id: int, kind: str):
    form = MilestoneConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(trial_id)
        services.get_trial(current_actor(), trial_id)
        return _detail_response(trial_id, status=422, forms={"confirm": form})
    try:
        services.confirm_milestone(current_actor(), trial_id, kind, early_reason=form.early_reason.data,
                                   expected_advance=_expected_advance(form.advance.data))
    except DomainError as err:
        return _refused(trial_id, err, form, "confirm")
    if kind == "kickoff":
        flash(_("Kick-off confirmed: the trial has started and the advance is now payable to the provider."),
              "success")
    elif kind == "final_report":
        flash(_("Final report confirmed: the trial is completed. Now accept the delivered scope."), "success")
        return redirect(url_for("trials.acceptance", trial_id=trial_id), 303)
    else:
        flash(_("Milestone confirmed."), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


# --- acceptance (验收) -------------------------------------------------------------------------

def checklist_text(item) -> str:
    """A checklist item in the reader's language (the indicator named by its label)."""
    from voucher.applications.forms import BASELINE_LABELS

    params = dict(item["params"] if isinstance(item, dict) else item.params)
    template = item["template"] if isinstance(item, dict) else item.template
    if "indicator" in params:
        params["indicator"] = str(BASELINE_LABELS.get(params["indicator"], params["indicator"]))
    return _(template, **params)


def _acceptance_page(trial_id: int, form=None, status: int = 200):
    actor = current_actor()
    trial = services.get_trial(actor, trial_id)
    if actor.role == "evaluator":
        raise Forbidden("The acceptance is between the enterprise and the provider.")
    items = services.acceptance_checklist(trial)
    party = actor.role if actor.role in ("sme", "provider") else None
    forms = services.acceptances(trial.id)
    can_accept = party is not None and services.acceptance_open(trial) and party not in forms
    if form is None:
        form = AcceptanceForm(prefix="accept", formdata=None)
    form.checklist.choices = [(i.code, checklist_text(i)) for i in items]
    return render_template("trials/acceptance.html", t=trial, a=trial.application, checklist_items=items, party=party,
                           forms_by_party=forms, can_accept=can_accept, form=form,
                           stages=queries.payment_stages([trial])[trial.id], checklist_text=checklist_text,
                           names=queries.evaluator_names([f.confirmed_by for f in forms.values() if f.confirmed_by]),
                           max_upload_mb=current_app.config["UPLOAD_MAX_BYTES"] // (1024 * 1024)), status


@bp.get("/<int:trial_id>/acceptance")
@roles_required(*ACCESS["trials.follow"].roles)
def acceptance(trial_id: int):
    return _acceptance_page(trial_id)


@bp.post("/<int:trial_id>/acceptance")
@roles_required(*ACCESS["trials.accept"].roles)
def accept(trial_id: int):
    actor = current_actor()
    services.get_trial(actor, trial_id)  # 403/404 before reading the file
    form = AcceptanceForm(prefix="accept")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            flash(_("The form expired; please try again."), "danger")
            return redirect(url_for("trials.acceptance", trial_id=trial_id), 303)
        return _acceptance_page(trial_id, form, 422)
    upload = None
    if form.file.data and getattr(form.file.data, "filename", ""):
        upload = services.Upload(form.file.data.stream, form.file.data.filename,
                                 current_app.config["UPLOAD_MAX_BYTES"])
    data = services.AcceptanceInput(form.delivered_scope.data or "", frozenset(form.checklist.data or ()), upload)
    try:
        services.record_acceptance(actor, trial_id, data)
    except DomainError as err:
        if isinstance(err, (Forbidden, NotFound)):
            raise
        form_errors_from(err, form)
        return _acceptance_page(trial_id, form, 422)
    flash(_("Your acceptance of the delivered scope was recorded."), "success")
    return redirect(url_for("trials.acceptance", trial_id=trial_id), 303)


@bp.get("/<int:trial_id>/acceptance/<int:acceptance_id>/file")
@roles_required(*ACCESS["trials.follow"].roles)
def acceptance_file(trial_id: int, acceptance_id: int):
    stored = services.acceptance_file(current_actor(), trial_id, acceptance_id)
    return send_stored(stored, max_age=0)


@bp.post("/<int:trial_id>/milestones/<kind>/dispute")
@roles_required(*ACCESS["trials.confirm_milestone"].roles)
def dispute(trial_id: int, kind: str):
    form = DisputeForm(prefix="dispute")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(trial_id)
        services.get_trial(current_actor(), trial_id)
        return _detail_response(trial_id, status=422, forms={"dispute": form}, dispute_kind=kind)
    try:
        services.dispute_milestone(current_actor(), trial_id, kind, form.reason.data)
    except DomainError as err:
        return _refused(trial_id, err, form, "dispute", dispute_kind=kind)
    flash(_("Milestone disputed. The provider has been notified and will report it again."), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


@bp.get("/<int:trial_id>/milestones/<int:milestone_id>/file")
@roles_required(*ACCESS["trials.view"].roles)
def milestone_file(trial_id: int, milestone_id: int):
    stored = services.milestone_file(current_actor(), trial_id, milestone_id)
    return send_stored(stored, max_age=0)


@bp.post("/<int:trial_id>/evaluators")
@roles_required(*ACCESS["trials.manage"].roles)
def assign(trial_id: int):
    form = AssignForm(prefix="assign")
    form.evaluator_id.choices = [("", "")] + [(u.id, u.name) for u in services.evaluator_choices()]
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(trial_id)
        services.get_trial(current_actor(), trial_id)
        return _detail_response(trial_id, status=422, forms={"assign": form})
    try:
        assignment = services.assign_evaluator(current_actor(), trial_id, form.evaluator_id.data)
    except DomainError as err:
        return _refused(trial_id, err, form, "assign")
    flash(_("%(name)s was assigned and notified.", name=assignment.evaluator.name), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


@bp.post("/<int:trial_id>/evaluators/<int:assignment_id>/remove")
@roles_required(*ACCESS["trials.manage"].roles)
def remove_evaluator(trial_id: int, assignment_id: int):
    form = RemoveAssignmentForm(prefix="remove")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(trial_id)
        return _detail_response(trial_id, status=422, forms={"remove": form})
    try:
        services.remove_assignment(current_actor(), trial_id, assignment_id, form.reason.data)
    except DomainError as err:
        return _refused(trial_id, err, form, "remove")
    flash(_("The evaluator was removed from this trial."), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


@bp.post("/<int:trial_id>/result")
@roles_required(*ACCESS["trials.manage"].roles)
def record_result(trial_id: int):
    if not ConfirmForm(prefix="result").validate_on_submit():
        return _expired(trial_id)
    try:
        result = services.record_result(current_actor(), trial_id)
    except DomainError as err:
        return _refused(trial_id, err)
    flash(_("The result was recorded: trial score %(score)s.", score=result.mean), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


@bp.post("/<int:trial_id>/adoption")
@roles_required(*ACCESS["trials.confirm_milestone"].roles)
def adoption(trial_id: int):
    form = AdoptionForm(prefix="adoption")
    if not form.validate_on_submit():
        if form.errors.get("csrf_token"):
            return _expired(trial_id)
        services.get_trial(current_actor(), trial_id)
        return _detail_response(trial_id, status=422, forms={"adoption": form})
    try:
        services.record_adoption(current_actor(), trial_id, form.adopted.data == "yes", form.reason.data)
    except DomainError as err:
        return _refused(trial_id, err, form, "adoption")
    flash(_("Your decision was recorded. The trial is closed."), "success")
    return redirect(url_for("trials.detail", trial_id=trial_id), 303)


# --- the evaluator's declaration and form -----------------------------------------------------

@bp.route("/<int:trial_id>/declaration", methods=["GET", "POST"])
@roles_required(*ACCESS["trials.evaluate"].roles)
def declaration(trial_id: int):
    actor = current_actor()
    trial, assignment = services.evaluator_assignment(actor, trial_id)
    if assignment.status != "assigned":
        return redirect(url_for("trials.evaluate", trial_id=trial_id))
    text = _(services.DECLARATION_TEXT)
    form = DeclarationForm(prefix="declare")
    conflict_form = ConflictForm(prefix="conflict")
    status = 200
    if request.method == "POST":
        status = 422
        if request.form.get("choice") == "conflict":
            form = DeclarationForm(prefix="declare", formdata=None)
            if conflict_form.validate_on_submit():
                try:
                    services.declare_conflict(actor, trial_id, conflict_form.reason.data)
                except DomainError as err:
                    if isinstance(err, (Forbidden, NotFound)):
                        raise
                    form_errors_from(err, conflict_form)
                else:
                    flash(_("Your conflict of interest was recorded; the programme officer will assign another "
                            "evaluator."), "info")
                    return redirect(url_for("trials.evaluations_mine"), 303)
        else:
            conflict_form = ConflictForm(prefix="conflict", formdata=None)
            if form.validate_on_submit():
                try:
                    services.declare_no_conflict(actor, trial_id, bool(form.confirm.data), text)
                except DomainError as err:
                    if isinstance(err, (Forbidden, NotFound)):
                        raise
                    form_errors_from(err, form)
                else:
                    flash(_("Declaration recorded. The evaluation form is open."), "success")
                    return redirect(url_for("trials.evaluate", trial_id=trial_id), 303)
    return render_template("trials/declaration.html", t=trial, text=text, form=form,
                           conflict_form=conflict_form), status


def _evaluation_context(trial, assignment, form, submitted=None):
    latest = services.latest_evaluations(trial.id).get(assignment.id)
    improvements = None
    if submitted is not None or latest is not None:
        shown = submitted or latest
        improvements = services.improvements_for(trial, shown.afters)
    return {"t": trial, "a": trial.application, "assignment": assignment, "form": form, "latest": latest,
            "improvements": improvements, "params": services.form_params(trial, latest)}


def _preview_lines(preview, form) -> list[str]:
    """The working of a previewed total, in the reader's language (criteria by their form labels)."""
    from voucher.calc.evaluation import CRITERIA_LABELS

    codes = {label: code for code, label in CRITERIA_LABELS.items()}
    lines = []
    for line in preview.working:
        if line.code != "evaluation.criterion":
            continue
        field = getattr(form, f"score_{codes.get(line.values['criterion'], '')}", None)
        values = {**line.values, "criterion": field.label.text if field is not None else line.values["criterion"]}
        lines.append(_("%(criterion)s: score %(score)s × weight %(weight)s%% = %(contribution)s", **values))
    lines.append(_("Sum %(exact)s, rounded to 0.1: %(overall)s", exact=preview.exact.normalize(),
                   overall=preview.overall))
    return lines


def _preview_changed(actor, trial_id: int, form) -> bool:
    """True when the form confirms a previewed total that the figures no longer give (edited after
    the preview): the evaluator is shown the new total to confirm instead of submitting."""
    shown = (request.form.get("previewed_total") or "").strip()
    if not shown:
        return False
    try:
        return services.preview_evaluation(actor, trial_id, form.to_input()).overall != Decimal(shown)
    except ArithmeticError:
        return True


@bp.route("/<int:trial_id>/evaluation", methods=["GET", "POST"])
@roles_required(*ACCESS["trials.evaluate"].roles)
def evaluate(trial_id: int):
    actor = current_actor()
    trial, assignment = services.evaluator_assignment(actor, trial_id)
    if assignment.status == "assigned":
        flash(_("Declare that you have no conflict of interest before the form opens."), "info")
        return redirect(url_for("trials.declaration", trial_id=trial_id))
    latest = services.latest_evaluations(trial.id).get(assignment.id)
    if request.method == "GET":
        form = EvaluationForm(formdata=None)
        if latest is not None:
            for code in INDICATOR_CODES:
                getattr(form, f"after_{code}").data = getattr(latest, f"after_{code}")
            for code in CRITERIA:
                getattr(form, f"score_{code}").data = getattr(latest, f"score_{code}").quantize(Decimal("0.1"))
            form.comments.data = latest.comments
            form.recommendation.data = latest.recommendation
        return render_template("trials/evaluate.html", **_evaluation_context(trial, assignment, form))
    form = EvaluationForm()
    action = request.form.get("action", "submit")
    if form.validate_on_submit():
        try:
            if action == "preview" or _preview_changed(actor, trial_id, form):
                # The server's weighted total, computed as the submit computes it; nothing is saved.
                preview = services.preview_evaluation(actor, trial_id, form.to_input())
                return render_template("trials/evaluate.html", preview=preview,
                                       preview_working=_preview_lines(preview, form),
                                       changed=action != "preview",
                                       **_evaluation_context(trial, assignment, form))
            submitted = services.submit_evaluation(actor, trial_id, form.to_input())
        except DomainError as err:
            if isinstance(err, (Forbidden, NotFound)):
                raise
            form_errors_from(err, form)
        else:
            if submitted.result is not None and submitted.evaluation.version == 1:
                flash(_("Your evaluation was submitted (overall score %(score)s). Every evaluator has now submitted: "
                        "the trial score is %(trial_score)s.", score=submitted.score.overall,
                        trial_score=submitted.result.mean), "success")
            elif submitted.evaluation.version > 1:
                flash(_("Version %(version)s of your evaluation was saved (overall score %(score)s).",
                        version=submitted.evaluation.version, score=submitted.score.overall), "success")
            else:
                flash(_("Your evaluation was submitted (overall score %(score)s).", score=submitted.score.overall),
                      "success")
            return redirect(url_for("trials.evaluation_detail", trial_id=trial_id,
                                    evaluation_id=submitted.evaluation.id), 303)
    return render_template("trials/evaluate.html", **_evaluation_context(trial, assignment, form)), 422


@bp.get("/<int:trial_id>/evaluations/<int:evaluation_id>")
@roles_required(*ACCESS["trials.view"].roles)
def evaluation_detail(trial_id: int, evaluation_id: int):
    trial, evaluation = services.get_evaluation(current_actor(), trial_id, evaluation_id)
    # The outcome's rule version once decided (else the version in force today).
    from voucher.programmes.services import get_version

    version = get_version(trial.rule_version_id) if trial.rule_version_id else None
    params = services.evaluation_params(trial.programme, version=version)
    return render_template("trials/evaluation.html", t=trial, e=evaluation,
                           improvements=services.improvements_for(trial, evaluation.afters), params=params)


# --- officer: recommendation and ranking ------------------------------------------------------

@bp.get("/candidates")
@roles_required(*ACCESS["trials.recommendations"].roles)
def recommendations():
    only_eligible = request.args.get("eligible") == "1"
    per_page = current_app.config["PAGE_SIZE"]
    page = _page()
    fmt = requested_format()
    if fmt:
        everything, total = catalogue_queries.recommendation_candidates(1, EXPORT_LIMIT, only_eligible)
        return send(fmt, "recommendation-candidates",
                    [_("Solution"), _("Provider"), _("Passed evaluations"), _("Required"), _("Mean score"),
                     _("Excellent score"), _("Trials run"), _("Adoption rate (%)"), _("Eligible")],
                    ([c.solution.title, c.solution.provider.name, c.passed, c.min_evaluations,
                      c.mean if c.mean is not None else "", c.remarkable, c.figures.get("trials_run", 0),
                      c.figures.get("adoption_rate") if c.figures.get("adoption_rate") is not None else "",
                      _("Eligible") if c.eligible else _("Not yet")] for c in everything), total)
    candidates, total = catalogue_queries.recommendation_candidates(page, per_page, only_eligible)
    pages = max((total + per_page - 1) // per_page, 1)
    return render_template("trials/recommendations.html", candidates=candidates, total=total, page=page, pages=pages,
                           only_eligible=only_eligible, confirm=ConfirmForm())


@bp.post("/candidates/<int:solution_id>/promote")
@roles_required(*ACCESS["trials.manage"].roles)
def promote(solution_id: int):
    from voucher.catalogue import services as catalogue

    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("trials.recommendations"), 303)
    try:
        solution = catalogue.promote_to_recommended(current_actor(), solution_id)
    except DomainError as err:
        if isinstance(err, (Forbidden, NotFound)):
            raise
        flash(err.render(_), "danger")
        candidates, total = catalogue_queries.recommendation_candidates(1, current_app.config["PAGE_SIZE"])
        pages = max((total + current_app.config["PAGE_SIZE"] - 1) // current_app.config["PAGE_SIZE"], 1)
        return render_template("trials/recommendations.html", candidates=candidates, total=total, page=1, pages=pages,
                               only_eligible=False, confirm=ConfirmForm()), 422
    flash(_("%(title)s is now on the recommendation catalogue.", title=solution.title), "success")
    return redirect(url_for("trials.recommendations"), 303)


@bp.get("/ranking")
@roles_required(*ACCESS["trials.recommendations"].roles)
def ranking():
    programme_id = query_int("programme_id") or None
    result = recommendation.ranking(programme_id)
    fmt = requested_format()
    if fmt:
        codes = [c.code for c in recommendation.RANKING_CRITERIA]
        return send(fmt, "solution-ranking",
                    [_("Rank"), _("Solution"), _("Provider"), _("Evaluated trials")]
                    + [str(recommendation.RANKING_LABELS[c]) for c in codes]
                    + [_("Distance to best"), _("Distance to worst"), _("Closeness")],
                    ([r.rank, r.solution.title, r.solution.provider.name, r.evaluated]
                     + [r.values[c] for c in codes]
                     + [round(r.d_plus, 4), round(r.d_minus, 4), round(r.closeness, 4)] for r in result.rows))
    return render_template("trials/ranking.html", ranking=result, programme_id=programme_id,
                           programmes=recommendation.programme_choices(), criteria=recommendation.RANKING_CRITERIA,
                           criterion_names=recommendation.RANKING_LABELS)
