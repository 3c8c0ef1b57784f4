"""Pages: an enterprise's self-assessments (take one, its result with the radar chart and the
suggestions with their evidence), the bureau's overview by district and industry with the change
around trials (export), the questionnaire's versions (the officer publishes a new one)."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from voucher.access import can
from voucher.auth.policy import current_actor, roles_required
from voucher.calc.maturity import MIN_EVIDENCE, score_assessment
from voucher.enterprises.models import Enterprise
from voucher.errors import DomainError
from voucher.extensions import db
from voucher.list_export import local_time, requested_format, send
from voucher.maturity import queries, services
from voucher.maturity.access import RULES as ACCESS
from voucher.maturity.forms import PublishForm, TakeForm
from voucher.maturity.models import MaturityQuestionnaire
from voucher.maturity.questionnaire import DIMENSION_LABELS, DIMENSIONS, LEVEL_LABELS, LEVELS, structure
from voucher.maturity.radar import radar
from voucher.reference import DISTRICTS, INDUSTRIES, SIZE_CLASSES, SOLUTION_CATEGORIES
from voucher.ui import form_errors_from

bp = Blueprint("maturity", __name__, url_prefix="/maturity")


def text_of(value: dict) -> str:
    """A questionnaire text in the reader's language (Chinese unless the page is in English)."""
    locale = get_locale()
    return value["en"] if locale is not None and locale.language == "en" else value["zh"]


@bp.app_context_processor
def _helpers():
    return {"maturity_dimensions": DIMENSION_LABELS, "maturity_levels": LEVEL_LABELS, "maturity_text": text_of}


def _step_text(s) -> str:
    values = dict(s.values)
    if "dimension" in values:
        values["dimension"] = str(DIMENSION_LABELS.get(values["dimension"], values["dimension"]))
    return _(s.text).format_map(values)


@bp.get("/")
@roles_required(*ACCESS["maturity.take"].roles)
def index():
    rows = queries.history(current_actor().organisation_id) if current_actor().organisation_id else []
    return render_template("maturity/index.html", rows=list(reversed(rows)))


@bp.route("/take", methods=["GET", "POST"])
@roles_required(*ACCESS["maturity.take"].roles)
def take():
    actor = current_actor()
    if db.session.get(Enterprise, actor.organisation_id or 0) is None:
        return render_template("maturity/need_enterprise.html"), 403
    questionnaire = services.current_questionnaire()
    form = TakeForm()
    errors: dict[str, str] = {}
    chosen = {}
    if request.method == "POST":
        chosen = {k: request.form.get(k) for k in request.form}
        if form.validate_on_submit():
            try:
                row = services.take_assessment(actor, chosen)
            except DomainError as err:
                errors = err.field_messages(_)
                flash(err.render(_), "danger")
            else:
                flash(_("Your self-assessment is saved."), "success")
                return redirect(url_for("maturity.result", assessment_id=row.id), 303)
        return render_template("maturity/take.html", questionnaire=questionnaire, form=form, errors=errors,
                               chosen=chosen), 422
    return render_template("maturity/take.html", questionnaire=questionnaire, form=form, errors=errors, chosen=chosen)


@bp.get("/<int:assessment_id>")
@roles_required(*ACCESS["maturity.read"].roles)
def result(assessment_id: int):
    actor = current_actor()
    assessment = services.get_assessment(actor, assessment_id)
    first, _latest = queries.first_and_latest(assessment.enterprise_id)
    series = []
    compare = first if first is not None and first.id != assessment.id else None
    if compare is not None:
        series.append((_("First (%(date)s)", date=local_time(compare.taken_at)), compare))
    series.append((_("This one (%(date)s)", date=local_time(assessment.taken_at)), assessment))
    chart = radar([str(DIMENSION_LABELS[d]) for d in DIMENSIONS],
                  [(label, [a.level(d) or 0 for d in DIMENSIONS]) for label, a in series])
    working = score_assessment(structure(assessment.questionnaire.content), assessment.answers).working
    enterprise = db.session.get(Enterprise, assessment.enterprise_id)
    return render_template("maturity/result.html", assessment=assessment, chart=chart, series=series,
                           working=[_step_text(s) for s in working],
                           suggestions=queries.suggestions(assessment), enterprise=enterprise,
                           categories=SOLUTION_CATEGORIES, industries=INDUSTRIES, sizes=SIZE_CLASSES,
                           own=actor.organisation_id == assessment.enterprise_id, min_evidence=MIN_EVIDENCE)


def _group_rows(field: str):
    labels = DISTRICTS if field == "district" else INDUSTRIES
    return [(str(labels.get(r.key, r.key)), r) for r in queries.levels_by(field)]


@bp.get("/overview")
@roles_required(*ACCESS["maturity.overview"].roles)
def overview():
    fmt = requested_format()
    if fmt:
        table = request.args.get("table", "district")
        if table == "changes":
            changes = queries.changes_around_trials()
            headers = [_("Enterprise"), _("Solution"), _("Level before"), _("Level after"), _("Level change")] + \
                [str(DIMENSION_LABELS[d]) for d in DIMENSIONS]
            return send(fmt, "maturity-change", headers,
                        ([c.enterprise_name, c.solution_title, c.before.overall_level, c.after.overall_level,
                          c.overall_change] + [c.change(d) for d in DIMENSIONS] for c in changes))
        field = "industry" if table == "industry" else "district"
        headers = [_("Industry") if field == "industry" else _("District"), _("Enterprises assessed")] + \
            [str(LEVEL_LABELS[lv]) for lv in LEVELS] + [_("Mean overall level")] + \
            [str(DIMENSION_LABELS[d]) for d in DIMENSIONS]
        return send(fmt, f"maturity-by-{field}", headers,
                    ([label, r.assessed] + [r.by_level[lv] for lv in LEVELS] + [str(r.mean_overall)] +
                     [str(r.mean_levels[d]) for d in DIMENSIONS] for label, r in _group_rows(field)))
    return render_template("maturity/overview.html", by_district=_group_rows("district"),
                           by_industry=_group_rows("industry"), changes=queries.changes_around_trials(100),
                           levels=LEVELS, dimensions=DIMENSIONS)


@bp.route("/questionnaire", methods=["GET", "POST"])
@roles_required(*ACCESS["maturity.questionnaire"].roles)
def questionnaire():
    actor = current_actor()
    current = services.current_questionnaire()
    versions = list(db.session.scalars(db.select(MaturityQuestionnaire).order_by(MaturityQuestionnaire.version.desc())))
    form = PublishForm()
    status = 200
    if request.method == "POST":
        if not can(current_user, "maturity.publish"):
            abort(403)
        status = 422
        if form.validate_on_submit():
            try:
                content = json.loads(form.content.data)
            except ValueError as err:
                form.content.errors = list(form.content.errors or []) + [
                    _("The questions are not valid JSON (line %(line)s): %(error)s", line=err.lineno, error=err.msg)]
            else:
                try:
                    row = services.publish_questionnaire(actor, content, form.note.data)
                except DomainError as err:
                    form_errors_from(err, form)
                else:
                    flash(_("Version %(version)s is published.", version=row.version), "success")
                    return redirect(url_for("maturity.questionnaire"), 303)
    elif not form.content.data:
        form.content.data = json.dumps(current.content, ensure_ascii=False, indent=1)
    return render_template("maturity/questionnaire.html", current=current, versions=versions, form=form), status
