"""Job status (with a live progress bar), retry, documents per subject, download, revoke, and the
public verification page."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from voucher.auth.forms import ConfirmForm
from voucher.auth.policy import current_actor, login_required_any, roles_required
from voucher.documents import queries, services
from voucher.documents.access import RULES as ACCESS
from voucher.documents.builders import (
    DOCUMENT_STATUS_LABELS,
    JOB_STATUS_LABELS,
    KINDS,
    kind_label,
    subject_ref,
    subject_type_label,
    verify_note,
)
from voucher.documents.forms import RequestDocumentForm, RevokeForm, VerifyForm
from voucher.documents.jobs import display_code, normalise_code
from voucher.documents.models import JOB_STATUSES
from voucher.errors import DomainError, Forbidden, NotFound
from voucher.extensions import limiter
from voucher.list_export import EXPORT_LIMIT, local_time, requested_format, send
from voucher.pagination import bounded_int, page_arg
from voucher.storage import send_stored
from voucher.ui import form_errors_from

bp = Blueprint("documents", __name__)


@bp.record_once
def _template_globals(state) -> None:
    # Globals (not a context processor) so macros imported by other domains' templates see them.
    state.app.jinja_env.globals.update(
        kind_label=kind_label, subject_type_label=subject_type_label, display_code=display_code,
        subject_ref=subject_ref,
        job_status_label=lambda s: str(JOB_STATUS_LABELS.get(s, s)),
        document_status_label=lambda s: str(DOCUMENT_STATUS_LABELS.get(s, s)))


def _job_page(record, status_code: int = 200):
    actor = current_actor()
    view = queries.job_view(record)
    children = names = docs = None
    downloadable: set[int] = set()
    child_status = request.args.get("status") or None
    if record.is_batch:
        children = queries.children_page(record.id, status=child_status, page=page_arg(),
                                         per_page=current_app.config["PAGE_SIZE"] * 2)
        docs = queries.documents_by_id(c.result_document_id for c in children.items)
        downloadable = {d.id for d in docs.values() if services.can_download(actor, d)}
    names = queries.user_names([record.requested_by])
    can_download = bool(view.document) and services.can_download(actor, view.document)
    return render_template("documents/job.html", view=view, record=record, children=children, docs=docs,
                           child_status=child_status if child_status in JOB_STATUSES else None,
                           names=names, downloadable=downloadable, show_errors=services.may_see_job_errors(actor),
                           can_download=can_download, confirm=ConfirmForm()), status_code


@bp.get("/jobs")
@roles_required(*ACCESS["documents.jobs"].roles)
def jobs():
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    mine = request.args.get("mine") == "1"
    filters = {"status": status if status in JOB_STATUSES else None, "kind": kind if kind in KINDS else None,
               "mine_of": current_user.id if mine else None}
    fmt = requested_format()
    if fmt:
        return _export_jobs(fmt, queries.jobs_page(**filters, page=1, per_page=EXPORT_LIMIT))
    pagination = queries.jobs_page(**filters, page=page_arg(),
                                   per_page=current_app.config["PAGE_SIZE"])
    names = queries.user_names(r.requested_by for r in pagination.items)
    return render_template("documents/jobs.html", pagination=pagination, names=names, status=status, kind=kind,
                           mine=mine, statuses=JOB_STATUSES, kinds=KINDS,
                           show_errors=services.may_see_job_errors(current_actor()))


def _export_jobs(fmt: str, everything):
    """The jobs the list shows (same filters, every page), with the list's columns."""
    names = queries.user_names(r.requested_by for r in everything.items)

    def row(r):
        if r.is_batch:
            document = _("Batch: %(kind)s", kind=kind_label(r.kind))
            about = _("%(n)s items", n=(r.params or {}).get("count", 0))
        else:
            document = kind_label(r.kind)
            about = f"{subject_type_label(r.subject_type)} {subject_ref(r.subject_type, r.subject_id)}"
        return [r.id, document, about, names.get(r.requested_by) or _("the system"), local_time(r.created_at),
                str(JOB_STATUS_LABELS.get(r.status, r.status)), r.progress]

    return send(fmt, "document-jobs",
                [_("Job"), _("Document"), _("About"), _("Asked for by"), _("Asked for at"), _("Status"),
                 _("Progress (%)")],
                (row(r) for r in everything.items), everything.total)


@bp.get("/jobs/<int:job_id>")
@login_required_any
def job(job_id: int):
    return _job_page(services.get_job(current_actor(), job_id))


@bp.get("/jobs/<int:job_id>/progress")
@login_required_any
def job_progress(job_id: int):
    """The progress bar alone, polled by htmx while the job runs; once it has finished, htmx is
    told to reload the page (which then shows the result and stops polling)."""
    record = services.get_job(current_actor(), job_id)
    view = queries.job_view(record)
    response = make_response(render_template("documents/_progress.html", view=view, record=record))
    if view.finished and request.headers.get("HX-Request"):
        response.headers["HX-Refresh"] = "true"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/jobs/<int:job_id>/retry")
@roles_required(*ACCESS["documents.retry_job"].roles)
def job_retry(job_id: int):
    form = ConfirmForm()
    record = services.get_job(current_actor(), job_id)
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return _job_page(record, 422)
    try:
        services.retry_job(current_actor(), job_id)
    except (Forbidden, NotFound):
        raise
    except DomainError as err:
        form_errors_from(err, None)
        return _job_page(record, 422)
    flash(_("The job has been queued again."), "success")
    return redirect(url_for("documents.job", job_id=job_id))


@bp.post("/documents/request")
@login_required_any
def request_document():
    """Ask for a document from a button on another page (documents/_request_button.html)."""
    form = RequestDocumentForm()
    if not form.validate_on_submit() or bounded_int(form.subject_id.data) is None:
        abort(400)
    record = services.request_document(current_actor(), form.kind.data, form.subject_type.data,
                                       bounded_int(form.subject_id.data), lang=form.lang.data or "zh")
    flash(_("The document is being produced; this page shows its progress."), "info")
    return redirect(url_for("documents.job", job_id=record.id))


def _subject_page(subject_type: str, subject_id: int, revoke_form=None, status_code: int = 200):
    actor = current_actor()
    documents = services.subject_documents(actor, subject_type, subject_id)
    latest = {}
    for d in documents:
        latest.setdefault(d.kind, d.created_at)
    open_jobs = [j for j in queries.open_jobs_for_subject(subject_type, subject_id)
                 if j.status != "failed" or (latest.get(j.kind) is None or j.created_at > latest[j.kind])]
    downloadable = {d.id for d in documents if services.can_download(actor, d)}
    revocable = {d.id for d in documents if d.status != "revoked" and KINDS.get(d.kind)
                 and actor.role in KINDS[d.kind].roles}
    requestable = [k for k, spec in KINDS.items() if spec.subject_type == subject_type and actor.role in spec.roles
                   and services.builder_for(k) is not None]
    return render_template("documents/subject.html", subject_type=subject_type, subject_id=subject_id,
                           documents=documents, open_jobs=open_jobs, downloadable=downloadable,
                           revocable=revocable, requestable=requestable,
                           revoke_form=revoke_form or RevokeForm()), status_code


@bp.get("/documents/<subject_type>/<int:subject_id>")
@login_required_any
def subject(subject_type: str, subject_id: int):
    fmt = requested_format()
    if fmt:
        # The register of what was issued about the item, as the page lists it (full hashes).
        documents = services.subject_documents(current_actor(), subject_type, subject_id)
        return send(fmt, f"documents-{subject_type}-{subject_id}",
                    [_("Document"), _("Version"), _("Status"), _("Reason"), _("Issued"), _("Verification code"),
                     "SHA-256"],
                    ([kind_label(d.kind), d.version, str(DOCUMENT_STATUS_LABELS.get(d.status, d.status)),
                      d.status_reason or "", local_time(d.created_at), display_code(d.verification_code), d.sha256]
                     for d in documents))
    return _subject_page(subject_type, subject_id)


@bp.get("/documents/<int:document_id>/download")
@login_required_any
def download(document_id: int):
    document, opened = services.document_file(current_actor(), document_id)
    response = send_stored(document.stored_file, opened, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.post("/documents/<int:document_id>/revoke")
@login_required_any
def revoke(document_id: int):
    form = RevokeForm()
    document = services.get_document(current_actor(), document_id)
    if form.validate_on_submit():
        try:
            services.revoke_document(current_actor(), document_id, form.reason.data)
        except (Forbidden, NotFound):
            raise
        except DomainError as err:
            form_errors_from(err, form)
        else:
            flash(_("The document has been revoked; its check page now says so."), "success")
            return redirect(url_for("documents.subject", subject_type=document.subject_type,
                                    subject_id=document.subject_id))
    return _subject_page(document.subject_type, document.subject_id, revoke_form=form, status_code=422)


# --- public -----------------------------------------------------------------------------------

@bp.get("/verify")
@limiter.limit("60 per minute")
def verify_form():
    form = VerifyForm(request.args)
    if request.args.get("code") is not None and form.validate():
        return redirect(url_for("documents.verify", code=normalise_code(form.code.data) or "-"))
    status = 422 if request.args.get("code") is not None else 200
    return render_template("documents/verify.html", form=form, document=None, code=None), status


@bp.get("/verify/<code>")
@limiter.limit("60 per minute")
def verify(code: str):
    """Public (no login): only the kind, the subject's reference, the SHA-256, the status and the
    issue time of the document with this code, and for a signed kind who signed it, when, and
    whether the stored file is intact — nothing else."""
    document = services.verify(code)
    form = VerifyForm(data={"code": code})
    signature = services.signature_check(document) if document is not None else None
    note = verify_note(document) if document is not None else None  # e.g. a payment order: paid / returned
    return render_template("documents/verify.html", form=form, document=document, signature=signature,
                           note=note, code=normalise_code(code)), 200 if document else 404
