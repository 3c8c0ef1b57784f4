"""`/api/v1/documents` and `/api/v1/jobs`: generated documents (metadata and download, through the
subject's download rule) and the background jobs that produce them (request, status, progress,
retry).  Every call goes through `voucher.documents.services`."""
from __future__ import annotations

from flask.views import MethodView

from voucher.access import can
from voucher.api import api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema
from voucher.documents import queries, services
from voucher.documents.access import RULES as ACCESS
from voucher.documents.builders import DOCUMENT_STATUS_LABELS, JOB_STATUS_LABELS, kind_label
from voucher.documents.schemas import DocumentListArgs, DocumentRequestSchema, DocumentSchema, JobListArgs, JobSchema
from voucher.pagination import page_of
from voucher.storage import send_stored

blp = api_blueprint("api-documents", __name__, description="Generated documents (payment orders, audit dossiers, "
                    "programme reports, ...): metadata and download for whoever the subject's rule lets in; the "
                    "background jobs that produce them, with their progress.")

DocumentPage = page_schema("DocumentPage", DocumentSchema)
JobPage = page_schema("JobPage", JobSchema)
FILE_TYPES = ("application/pdf", "text/csv", "application/octet-stream")


class DocumentListQuery(PageArgs, DocumentListArgs):
    pass


class JobListQuery(PageArgs, JobListArgs):
    pass


def document_json(d) -> dict:
    stored = d.stored_file
    return {"id": d.id, "kind": d.kind, "kind_label": kind_label(d.kind), "subject_type": d.subject_type,
            "subject_id": d.subject_id, "version": d.version, "status": d.status,
            "status_label": str(DOCUMENT_STATUS_LABELS.get(d.status, d.status)), "lang": d.lang, "sha256": d.sha256,
            "verification_code": d.verification_code, "filename": stored.original_name,
            "content_type": stored.content_type, "size_bytes": stored.size_bytes, "created_at": d.created_at,
            "status_reason": d.status_reason, "download_path": f"/api/v1/documents/{d.id}/file"}


def job_json(record, actor) -> dict:
    view = queries.job_view(record)
    return {"id": record.id, "kind": record.kind, "subject_type": record.subject_type,
            "subject_id": record.subject_id, "lang": record.lang, "status": view.status,
            "status_label": str(JOB_STATUS_LABELS.get(view.status, view.status)), "progress": view.progress,
            "finished": view.finished, "is_batch": record.is_batch, "counts": dict(view.counts), "total": view.total,
            "attempts": record.attempts,
            "message": record.message if services.may_see_job_errors(actor) else None,
            "document_id": record.result_document_id, "created_at": record.created_at,
            "started_at": record.started_at, "finished_at": record.finished_at}


@blp.route("/documents")
class DocumentList(MethodView):
    @auth(blp)
    @blp.arguments(DocumentListQuery, location="query")
    @blp.response(200, DocumentPage)
    def get(self, args):
        """The documents about one subject (e.g. `subject_type=application&subject_id=12`), every kind and
        version, for whoever the subject's download rule lets in (403 otherwise)."""
        docs = services.subject_documents(api_actor(), args["subject_type"], args["subject_id"])
        page = page_of(docs, args["page"], args["per_page"])
        return page_json(page, [document_json(d) for d in page.items])

    @auth(blp)
    @errors(blp, 400, 409)
    @blp.arguments(DocumentRequestSchema)
    @blp.response(202, JobSchema)
    def post(self, body):
        """Ask for a document of a kind about one subject: answers its background job (follow it at
        `/api/v1/jobs/{id}`). Asking again while it runs answers the same job; once finished, the next version."""
        actor = api_actor()
        record = services.request_document(actor, body["kind"], body["subject_type"], body["subject_id"],
                                           lang=body["lang"])
        return job_json(record, actor)


@blp.route("/documents/<id:document_id>")
class DocumentItem(MethodView):
    @auth(blp)
    @errors(blp, 404)
    @blp.response(200, DocumentSchema)
    def get(self, document_id: int):
        """A document's metadata (whoever its subject's download rule lets in)."""
        return document_json(services.get_document(api_actor(), document_id))


def download(document_id: int):
    """Download a document's file: served only while its bytes still match the recorded SHA-256."""
    document, opened = services.document_file(api_actor(), document_id)
    response = send_stored(document.stored_file, opened, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-SHA256"] = document.sha256
    return response


_decorated = download
for _type in FILE_TYPES:
    _decorated = blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=_type,
                                  description="The document's bytes", success=True)(_decorated)
_decorated = auth(blp)(errors(blp, 404, 409)(_decorated))
blp.route("/documents/<id:document_id>/file", endpoint="document_file")(_decorated)


@blp.route("/jobs")
class JobList(MethodView):
    @auth(blp)
    @blp.arguments(JobListQuery, location="query")
    @blp.response(200, JobPage)
    def get(self, args):
        """Document jobs, newest first: bureau roles and administrators see all (or theirs with `mine`);
        everyone else only the jobs they asked for."""
        actor = api_actor()
        mine = bool(args.get("mine")) or not can(actor, "documents.read_any_job")
        page = queries.jobs_page(status=args.get("status"), kind=args.get("kind"),
                                 mine_of=actor.user_id if mine else None, page=args["page"], per_page=args["per_page"],
                                 cursor=args.get("cursor"), seek=True)
        return page_json(page, [job_json(r, actor) for r in page.items])


@blp.route("/jobs/<id:job_id>")
class JobItem(MethodView):
    @auth(blp)
    @errors(blp, 404)
    @blp.response(200, JobSchema)
    def get(self, job_id: int):
        """A job's status and progress (its requester, bureau roles, administrators)."""
        actor = api_actor()
        return job_json(services.get_job(actor, job_id), actor)


@blp.route("/jobs/<id:job_id>/retry")
class JobRetry(MethodView):
    @auth(blp, *ACCESS["documents.retry_job"].roles)
    @errors(blp, 404, 409)
    @blp.response(200, JobSchema)
    def post(self, job_id: int):
        """Run a failed job again without ever making a second document (finance officers, administrators)."""
        actor = api_actor()
        return job_json(services.retry_job(actor, job_id), actor)
