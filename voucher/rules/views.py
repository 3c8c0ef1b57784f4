"""Pages of a rule change (issue 19 §4): the programme's drafts and a new one; one draft with its
parameters, the replay over past decisions (figures, budget impact by month, district and industry, the
changed cases, an Excel export of every case), publishing with a start day, discarding."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from voucher.auth.policy import current_actor, roles_required
from voucher.errors import DomainError, Forbidden, NotFound
from voucher.list_export import requested_format, send
from voucher.pagination import page_arg
from voucher.programmes import queries as programme_queries
from voucher.programmes import services as programmes
from voucher.programmes.forms import PARAMETER_GROUPS
from voucher.reference import DISTRICTS, INDUSTRIES, label
from voucher.rules.access import RULES as ACCESS
from voucher.rules.forms import DiscardForm, DraftForm, PublishForm
from voucher.rules.replay import replay_version
from voucher.ui import form_errors_from

bp = Blueprint("rules", __name__, url_prefix="/rules")
PER_PAGE = 50
LABELS = {name: lbl for _legend, items in PARAMETER_GROUPS for name, lbl, _help in items}
MONEY_PARAMS = frozenset(name for name, spec in programmes.PARAMETER_SPECS.items() if spec.kind == "money")
KIND_LABELS = {"robot_subsidy": _l("Robot purchase subsidy"), "loan_discount": _l("Loan interest discount"),
               "trial_voucher": _l("Trial voucher approval"), "evaluation": _l("Evaluation outcome")}
OUTCOME_LABELS = {"granted": _l("Granted"), "nothing": _l("Nothing due"), "refused": _l("Refused"),
                  "approved": _l("Approved"), "over_cap": _l("Over the cap"), "passed": _l("Passed"),
                  "failed": _l("Failed"), "excellent": _l("Excellent")}


def _draft(version_id: int):
    version = programmes.get_version(version_id)
    if version.status != "draft":
        raise NotFound("No such draft.")
    return version


def _submit(form, call):
    """The service call's result when the form validates and the service accepts; otherwise None, with
    the refusal's messages on the form's fields (a 403 is raised as it is)."""
    if not form.validate_on_submit():
        return None
    try:
        return call()
    except DomainError as err:
        if err.status == 403:
            raise
        form_errors_from(err, form)
        return None


@bp.route("/programmes/<int:programme_id>", methods=["GET", "POST"])
@roles_required(*ACCESS["rules.replay"].roles)
def programme(programme_id: int):
    """The programme's open drafts and a new draft, prefilled with the version in force today."""
    record = programmes.get_programme(programme_id)
    in_force = programmes.version_in_force(record.id, programme_queries.local_today())
    form = DraftForm(data=programmes.parse_parameters(in_force.parameters) if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        draft = _submit(form, lambda: programmes.draft_rule_change(current_actor(), record.id, form.parameters(),
                                                                   form.note.data))
        if draft is None:
            status = 422
        else:
            flash(_("Draft saved. Its replay over past decisions is below."), "success")
            return redirect(url_for("rules.draft", version_id=draft.id), 303)
    drafts = [v for v in programmes.versions(record.id) if v.status == "draft"]
    return render_template("rules/programme.html", programme=record, in_force=in_force, drafts=drafts, form=form,
                           changes={d.id: programmes.changed_parameters(d.based_on, d) for d in drafts if d.based_on},
                           labels=LABELS, money_params=MONEY_PARAMS), status


@bp.route("/drafts/<int:version_id>", methods=["GET", "POST"])
@roles_required(*ACCESS["rules.read_replay"].roles)
def draft(version_id: int):
    """One draft: its changes, the replay, publish and discard (officer); ``?format=xlsx`` every case."""
    version = _draft(version_id)
    actor = current_actor()
    officer = actor.role in ACCESS["rules.replay"].roles
    form = DraftForm(data={"note": version.note, **programmes.parse_parameters(version.parameters)}
                     if request.method == "GET" else None, prefix="draft")
    status = 200
    if request.method == "POST":
        if not officer:
            raise Forbidden("Only a programme officer may change a draft.")
        if _submit(form, lambda: programmes.update_draft(actor, version.id, form.parameters(),
                                                         form.note.data or "")) is None:
            status = 422
        else:
            flash(_("Draft saved and replayed."), "success")
            return redirect(url_for("rules.draft", version_id=version.id), 303)
    result = replay_version(version)
    fmt = requested_format()
    if fmt:
        return _export(fmt, version, result)
    return _render(version, result, form, PublishForm(prefix="publish", formdata=None),
                   DiscardForm(prefix="discard", formdata=None), officer), status


def _render(version, result, form, publish_form, discard_form, officer):
    only = request.args.get("show", "changed")
    kind = request.args.get("kind") if request.args.get("kind") in KIND_LABELS else None
    rows = result.cases if only == "all" else result.changed
    if kind:
        rows = [c for c in rows if c.kind == kind]
    page = page_arg()
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = min(page, pages)
    base = version.based_on
    return render_template(
        "rules/draft.html", version=version, programme=version.programme, base=base, result=result,
        changes=programmes.changed_parameters(base, version) if base else {}, labels=LABELS, form=form,
        money_params=MONEY_PARAMS,
        publish_form=publish_form, discard_form=discard_form, officer=officer,
        rows=rows[(page - 1) * PER_PAGE: page * PER_PAGE], page=page, pages=pages, total_rows=len(rows),
        only=only, kind=kind, kinds=KIND_LABELS, outcomes=OUTCOME_LABELS,
        months=result.by("month"), districts=[(label(DISTRICTS, k), v, n) for k, v, n in result.by("district")],
        industries=[(label(INDUSTRIES, k), v, n) for k, v, n in result.by("industry")])


def _export(fmt, version, result):
    headers = [_("Kind"), _("Application number"), _("Enterprise"), _("District"), _("Industry"), _("Month"),
               _("Rule version used"), _("Stored outcome"), _("Replayed outcome"), _("Stored amount (yuan)"),
               _("Replayed amount (yuan)"), _("Difference (yuan)"), _("Flipped")]
    rows = [[str(KIND_LABELS[c.kind]), c.number or "", c.enterprise, label(DISTRICTS, c.district) if c.district else "",
             label(INDUSTRIES, c.industry) if c.industry else "", c.month, c.version_number or "",
             str(OUTCOME_LABELS.get(c.before_outcome, c.before_outcome)),
             str(OUTCOME_LABELS.get(c.after_outcome, c.after_outcome)), c.before_amount, c.after_amount,
             c.difference, _("yes") if c.flipped else ""] for c in result.cases]
    return send(fmt, f"rule-replay-{version.programme_id}-draft-{version.id}", headers, rows)


@bp.post("/drafts/<int:version_id>/publish")
@roles_required(*ACCESS["rules.replay"].roles)
def publish(version_id: int):
    """Publish the draft as the programme's next version from the start day given (confirmed)."""
    version = _draft(version_id)
    publish_form = PublishForm(prefix="publish")
    published = _submit(publish_form, lambda: programmes.publish_rule_version(
        current_actor(), version.id, publish_form.effective_from.data))
    if published is not None:
        flash(_("Published as rule version %(number)s, in force from %(day)s. Decisions already made keep "
                "their version.", number=published.number, day=published.effective_from.isoformat()), "success")
        return redirect(url_for("programmes.rule_version", version_id=published.id), 303)
    form = DraftForm(data={"note": version.note, **programmes.parse_parameters(version.parameters)}, prefix="draft")
    return _render(version, replay_version(version), form, publish_form, DiscardForm(prefix="discard", formdata=None),
                   True), 422


@bp.post("/drafts/<int:version_id>/discard")
@roles_required(*ACCESS["rules.replay"].roles)
def discard(version_id: int):
    """Discard the draft, with the reason (nothing it held ever applied)."""
    version = _draft(version_id)
    discard_form = DiscardForm(prefix="discard")
    if _submit(discard_form, lambda: programmes.discard_draft(current_actor(), version.id,
                                                              discard_form.reason.data)) is not None:
        flash(_("The draft was discarded."), "success")
        return redirect(url_for("rules.programme", programme_id=version.programme_id), 303)
    form = DraftForm(data={"note": version.note, **programmes.parse_parameters(version.parameters)}, prefix="draft")
    return _render(version, replay_version(version), form, PublishForm(prefix="publish", formdata=None),
                   discard_form, True), 422
