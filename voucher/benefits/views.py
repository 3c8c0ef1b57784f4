"""Pages (thin): the officer's imports (list, upload, report, templates), all candidates (filters,
counts by district and industry, export, run the match), the enterprise's candidates and its answer."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from voucher.auth.policy import current_actor, roles_required
from voucher.benefits import matching, queries, services
from voucher.benefits.access import RULES as ACCESS
from voucher.benefits.forms import SOURCE_LABELS, ConfirmForm, DeclineForm, ImportForm
from voucher.benefits.tables import KINDS, MAX_FILE_BYTES, FileRefused, template_csv
from voucher.errors import DomainError, Forbidden, NotFound, TransitionNotAllowed
from voucher.extensions import db
from voucher.list_export import local_time, requested_format, send
from voucher.pagination import page_arg
from voucher.reference import DISTRICTS, INDUSTRIES
from voucher.subsidies.common import render_step
from voucher.ui import form_errors_from

bp = Blueprint("benefits", __name__, url_prefix="/benefits")
PER_PAGE = 50
EXPORT_LIMIT = 10_000


@bp.app_context_processor
def _helpers():
    return {"benefit_status_labels": queries.STATUS_LABELS, "benefit_kind_labels": queries.KIND_LABELS,
            "benefit_condition_labels": queries.CONDITION_LABELS, "benefit_source_labels": SOURCE_LABELS}


# --- the officer's imports ------------------------------------------------------------------------

def _sources_page(form: ImportForm | None = None, errors=None, status: int = 200):
    return render_template("benefits/sources.html", form=form or ImportForm(), errors=errors or [],
                           pagination=queries.sources_page(page_arg(), PER_PAGE), kinds=KINDS), status


@bp.get("/sources")
@roles_required(*ACCESS["benefits.sources"].roles)
def sources():
    return _sources_page()


@bp.post("/sources")
@roles_required(*ACCESS["benefits.import"].roles)
def import_source():
    form = ImportForm()
    if not form.validate_on_submit():
        return _sources_page(form, status=422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose the file.")]
        return _sources_page(form, status=422)
    try:
        source = services.import_source(current_actor(), form.kind.data, filename=upload.filename,
                                        data=upload.read(MAX_FILE_BYTES + 1))
    except (Forbidden, NotFound):
        raise
    except FileRefused as err:
        form.file.errors = [err.render(_)]
        return _sources_page(form, [(e.row, e.column, _(e.message, **e.params)) for e in err.errors], 422)
    except DomainError as err:
        form_errors_from(err, form)
        return _sources_page(form, status=422)
    flash(_("The file is imported: %(rows)s row(s) kept, %(refused)s row(s) refused.", rows=source.row_count,
            refused=source.refused_count), "success" if not source.refused_count else "warning")
    return redirect(url_for("benefits.source", source_id=source.id))


@bp.get("/sources/<int:source_id>")
@roles_required(*ACCESS["benefits.sources"].roles)
def source(source_id: int):
    item = services.get_source(current_actor(), source_id)
    report = [(r["row"], r["column"], _(r["message"], **(r.get("params") or {}))) for r in item.report]
    # The file's columns by the page's language: the template's Chinese heading, or its English one.
    return render_template("benefits/source.html", source=item, report=report, rows=services.source_rows(item),
                           columns=KINDS[item.kind], english_heading={c.heading: c.english for c in KINDS[item.kind]})


@bp.get("/templates/<kind>.csv")
@roles_required(*ACCESS["benefits.sources"].roles)
def template(kind: str):
    if kind not in KINDS:
        abort(404)
    return Response(template_csv(kind), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={kind}-template.csv"})


# --- all candidates (the bureau) -------------------------------------------------------------------

def _filters() -> queries.Filters:
    args = request.args
    return queries.Filters(status=args.get("status") if args.get("status") in queries.STATUS_LABELS else None,
                           kind=args.get("kind") if args.get("kind") in queries.KIND_LABELS else None,
                           district=args.get("district") if args.get("district") in DISTRICTS else None,
                           industry=args.get("industry") if args.get("industry") in INDUSTRIES else None)


def _label(table: dict, code: str | None) -> str:
    return str(table.get(code, code or ""))


@bp.get("/candidates")
@roles_required(*ACCESS["benefits.overview"].roles)
def candidates():
    filters = _filters()
    fmt = requested_format()
    if fmt:
        everything = queries.candidates_page(filters, 1, EXPORT_LIMIT)
        names = _enterprise_names(everything.items)
        return send(fmt, "benefit-candidates",
                    [_("Candidate"), _("Kind"), _("Enterprise"), _("District"), _("Industry"), _("Amount"),
                     _("Status"), _("Matched"), _("Reason")],
                    ([c.id, _label(queries.KIND_LABELS, c.kind), names.get(c.enterprise_id, ""),
                      _label(DISTRICTS, c.district), _label(INDUSTRIES, c.industry), c.amount,
                      _label(queries.STATUS_LABELS, c.status), local_time(c.matched_at),
                      c.decline_reason or _exclusion_text(c)] for c in everything.items), everything.total)
    pagination = queries.candidates_page(filters, page_arg(), PER_PAGE)
    return render_template("benefits/candidates.html", pagination=pagination, filters=filters,
                           names=_enterprise_names(pagination.items), districts=DISTRICTS, industries=INDUSTRIES,
                           by_district=queries.counts_by("district", filters),
                           by_industry=queries.counts_by("industry", filters), exclusion_text=_exclusion_text)


def _exclusion_text(c) -> str:
    if not c.exclusion_reason:
        return ""
    v = c.exclusion_reason["values"]
    return _("On the credit blacklist from %(start)s to %(end)s (source: %(source)s, import %(import)s row %(row)s).",
             start=v["listed_from"], end=v["listed_to"] or _("no end date"), source=v["listed_by"],
             **{"import": c.exclusion_reason["source_id"], "row": c.exclusion_reason["row_number"]})


def _enterprise_names(items) -> dict[int, str]:
    from sqlalchemy import select

    from voucher.enterprises.models import Organisation

    ids = {c.enterprise_id for c in items}
    if not ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


@bp.post("/match")
@roles_required(*ACCESS["benefits.import"].roles)
def run_match():
    counts = matching.match_candidates(current_actor())
    flash(_("Matching done: %(robot)s new robot subsidy candidate(s), %(loan)s new loan discount candidate(s), "
            "%(excluded)s excluded by the credit blacklist.", **counts), "success")
    return redirect(url_for("benefits.candidates"))


# --- the enterprise ---------------------------------------------------------------------------------

@bp.get("/mine")
@roles_required("sme")
def mine():
    actor = current_actor()
    if actor.organisation_id is None:
        abort(403)
    pagination = queries.candidates_page(queries.Filters(enterprise_id=actor.organisation_id), page_arg(), PER_PAGE)
    return render_template("benefits/mine.html", pagination=pagination)


def _detail(candidate_id: int, decline_form=None, confirm_form=None, errors=None, status: int = 200):
    candidate = services.get_candidate(current_actor(), candidate_id)
    org = services.candidate_enterprise(candidate)
    invoices = [e for e in candidate.evidence if e["condition"] == "invoice"]
    return render_template("benefits/detail.html", candidate=candidate, org=org, invoices=invoices,
                           decline_form=decline_form or DeclineForm(), confirm_form=confirm_form or ConfirmForm(),
                           errors=errors or {}, exclusion_text=_exclusion_text(candidate),
                           working=[render_step(step, _) for step in candidate.working],
                           district=_label(DISTRICTS, candidate.district),
                           industry=_label(INDUSTRIES, candidate.industry)), status


@bp.get("/candidates/<int:candidate_id>")
@roles_required(*ACCESS["benefits.read"].roles)
def detail(candidate_id: int):
    return _detail(candidate_id)


@bp.post("/candidates/<int:candidate_id>/decline")
@roles_required(*ACCESS["benefits.decide"].roles)
def decline(candidate_id: int):
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            services.decline(current_actor(), candidate_id, form.reason.data)
        except (Forbidden, NotFound, TransitionNotAllowed):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("You declined this subsidy."), "success")
            return redirect(url_for("benefits.mine"))
    services.get_candidate(current_actor(), candidate_id)
    return _detail(candidate_id, decline_form=form, status=422)


@bp.post("/candidates/<int:candidate_id>/confirm")
@roles_required(*ACCESS["benefits.decide"].roles)
def confirm(candidate_id: int):
    from voucher.subsidies.common import InputRefused, Upload

    form = ConfirmForm()
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        uploads = {name: Upload(f.stream, f.filename) for name, f in request.files.items() if f and f.filename}
        try:
            candidate = services.confirm(current_actor(), candidate_id, declaration=form.declaration.data,
                                         account_confirmed=form.account.data, uploads=uploads,
                                         max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
        except (Forbidden, NotFound, TransitionNotAllowed):
            raise
        except InputRefused as err:
            errors = err.field_messages(_)
        except DomainError as err:
            errors = err.field_messages(_) or {"": err.render(_)}
        else:
            from voucher.subsidies.common import detail_path

            flash(_("Your application is created from this subsidy; follow it on its page."), "success")
            return redirect(detail_path(candidate.kind, candidate.application_id))
    return _detail(candidate_id, confirm_form=form, errors=errors, status=422)


def sme_panel(actor):
    if actor.organisation_id is None:
        return None
    n, total = queries.open_count(actor.organisation_id)
    if not n:
        return None
    from voucher.money import format_money

    return {"title": _("Subsidies you can receive without applying"),
            "text": _("The bureau's data show that your enterprise qualifies: check the evidence, then confirm or "
                      "decline."),
            "items": [(_("Waiting for your answer"), n), (_("Amount"), format_money(total))],
            "link": ("benefits.mine", _("See them"))}


def officer_panel(actor):
    from sqlalchemy import func, select

    from voucher.benefits.models import BenefitCandidate

    n = db.session.scalar(select(func.count()).where(BenefitCandidate.status == "open")) or 0
    return {"title": _("Benefits without applying"),
            "items": [(_("Candidates waiting for the enterprise"), n)],
            "link": ("benefits.candidates", _("All candidates"))}
