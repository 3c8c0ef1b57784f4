"""`/api/v1/benefit-candidates`, `/api/v1/benefit-sources`, `/api/v1/benefit-figures`: benefits without
applying (免申即享, issue 19 §1–§2).

An enterprise's users read their own candidates (amount, working, the source row behind each
condition), decline one with a reason, or confirm one: the application is created by the subsidies'
services exactly as the page does (``voucher.benefits.services.confirm``), with the files the form
requires sent in the body (base64); it is submitted when the materials checklist is complete, else it
stays a draft and the answer lists the materials still missing (attach them with
``POST /{robot,loan}-applications/{id}/materials``, then ``…/submit``).  The bureau (officers,
auditors) reads every candidate with filters, the imports with their SHA-256 and report, and the
figures by district and industry.  The same services and queries as the pages; no rule here."""
from __future__ import annotations

import re
from contextlib import contextmanager

from flask import current_app
from flask.views import MethodView
from flask_babel import gettext

from voucher.api import URL_PREFIX, api_blueprint
from voucher.api.auth import api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema, paginate_select
from voucher.benefits import queries, services
from voucher.benefits.access import RULES as ACCESS
from voucher.benefits.forms import SOURCE_LABELS
from voucher.benefits.models import BenefitCandidate, BenefitSource
from voucher.benefits.schemas import (
    CandidateListArgs,
    CandidateSchema,
    CandidateSummarySchema,
    ConfirmSchema,
    DeclineSchema,
    FigureArgs,
    FiguresSchema,
    SourceDetailSchema,
    SourceSchema,
)
from voucher.errors import DomainError, Forbidden
from voucher.reference import DISTRICTS, INDUSTRIES

LIST_ROLES = tuple(dict.fromkeys(("sme", *ACCESS["benefits.overview"].roles)))
READERS = ACCESS["benefits.read"].roles
ANSWERERS = ACCESS["benefits.decide"].roles
SOURCE_READERS = ACCESS["benefits.sources"].roles
OVERVIEW = ACCESS["benefits.overview"].roles
APPLICATION_RESOURCES = {"loan": "loan-applications", "robot": "robot-applications"}

blp = api_blueprint("api-benefits", __name__, description="Benefits without applying (免申即享): candidates "
                    "matched from the data the bureau already holds (banks' loan interest statements, robot "
                    "invoices from the tax side, the credit blacklist), each with its amount, working and the "
                    "source row behind every condition; the enterprise confirms (the application is created) or "
                    "declines; the bureau reads every candidate, the imports and the figures.")

CandidatePage = page_schema("BenefitCandidatePage", CandidateSummarySchema)
SourcePage = page_schema("BenefitSourcePage", SourceSchema)


class CandidateListQuery(PageArgs, CandidateListArgs):
    pass


# --- shapes ---------------------------------------------------------------------------------------

def _filters(args: dict, enterprise_id: int | None = None) -> queries.Filters:
    return queries.Filters(status=args.get("status"), kind=args.get("kind"), district=args.get("district"),
                           industry=args.get("industry"), enterprise_id=enterprise_id)


def summary_json(actor, c: BenefitCandidate, names: dict[int, str]) -> dict:
    """A candidate in a list: amount, working and evidence from its own row (no further query)."""
    from voucher.subsidies.common import render_step

    return {"id": c.id, "kind": c.kind, "kind_label": str(queries.KIND_LABELS[c.kind]), "status": c.status,
            "status_label": str(queries.STATUS_LABELS[c.status]),
            "enterprise": {"id": c.enterprise_id, "name": names.get(c.enterprise_id, "")},
            "programme_id": c.programme_id, "district": c.district, "industry": c.industry, "amount": c.amount,
            "matched_at": c.matched_at, "decided_at": c.decided_at, "application_id": c.application_id,
            "working": [{"code": s.get("code", ""), "text": render_step(s, gettext),
                         "values": {k: str(v) for k, v in (s.get("values") or {}).items()}} for s in c.working or []],
            "evidence": [_evidence_json(e) for e in c.evidence or []],
            "exclusion": _evidence_json(c.exclusion_reason) if c.exclusion_reason and actor.role != "sme" else None}


def _evidence_json(e: dict) -> dict:
    return {"condition": e["condition"], "condition_label": str(queries.CONDITION_LABELS.get(e["condition"],
                                                                                             e["condition"])),
            "source_id": e.get("source_id"), "row_id": e.get("row_id"), "row_number": e.get("row_number"),
            "values": dict(e.get("values") or {})}


def _application_json(actor, c: BenefitCandidate) -> dict | None:
    if c.application_id is None:
        return None
    from voucher.materials import missing_required
    from voucher.subsidies import services as subsidies

    try:
        app = subsidies.get_application(actor, c.kind, c.application_id)
    except (Forbidden, DomainError):
        return None
    missing = missing_required(subsidies.checklist(c.kind, app), subsidies.materials_by_code(c.kind, app.id))
    return {"kind": c.kind, "id": app.id, "number": app.number, "status": app.status,
            "url": f"{URL_PREFIX}/{APPLICATION_RESOURCES[c.kind]}/{app.id}",
            "missing_materials": [{"code": m.code, "label": str(m.label)} for m in missing]}


def candidate_json(actor, c: BenefitCandidate) -> dict:
    out = summary_json(actor, c, queries.enterprise_names([c.enterprise_id]))
    own = actor.role == "sme" and actor.organisation_id == c.enterprise_id
    out.update({
        "parameters": dict(c.params or {}), "decline_reason": c.decline_reason, "payee_account": c.payee_account,
        "application": _application_json(actor, c),
        "allowed_actions": ["confirm", "decline"] if own and c.status == "open" else []})
    return out


def source_json(s: BenefitSource) -> dict:
    return {"id": s.id, "kind": s.kind, "kind_label": str(SOURCE_LABELS[s.kind]), "filename": s.filename,
            "sha256": s.sha256, "size_bytes": s.size, "rows": s.row_count, "refused_rows": s.refused_count,
            "imported_by": s.imported_by, "imported_at": s.imported_at}


# --- the services' field names as the API's ---------------------------------------------------------

_FIELD = {"account": "account_confirmed"}


def api_field(name: str) -> str:
    """``lines.2.invoice_file`` (the robot form's upload) → ``invoice_files.2``; ``account`` →
    ``account_confirmed``; every other name as the service gives it."""
    match = re.fullmatch(r"lines\.(\d+)\.invoice_file", name or "")
    if match:
        return f"invoice_files.{match.group(1)}"
    return _FIELD.get(name, name)


@contextmanager
def _api_fields():
    try:
        yield
    except DomainError as err:
        err.fields = {api_field(k): v for k, v in err.fields.items()}
        if err.field:
            err.field = api_field(err.field)
        problems = getattr(err, "problems", None)
        if problems is not None:
            err.problems = [(api_field(f), m, p) for f, m, p in problems]
        raise


# --- candidates -------------------------------------------------------------------------------------

@blp.route("/benefit-candidates")
class CandidateList(MethodView):
    @auth(blp, *LIST_ROLES)
    @blp.arguments(CandidateListQuery, location="query")
    @blp.response(200, CandidatePage)
    def get(self, args):
        """Candidates, newest first, each with its amount, working and evidence: an SME's users their own
        enterprise's (open, confirmed, declined; never an excluded one), officers and auditors every candidate. Filters `status`, `kind`, `district`, `industry`;
        keyset-paged (`pagination.next`)."""
        actor = api_actor()
        enterprise_id = None
        if actor.role == "sme":
            if actor.organisation_id is None:
                raise Forbidden("Register your enterprise first.")
            enterprise_id = actor.organisation_id
        page = paginate_select(queries.statement(_filters(args, enterprise_id)), args, keys=[BenefitCandidate.id],
                               list_name="benefit-candidates")
        names = queries.enterprise_names(c.enterprise_id for c in page.items)
        return page_json(page, [summary_json(actor, c, names) for c in page.items])


@blp.route("/benefit-candidates/<id:candidate_id>")
class CandidateItem(MethodView):
    @auth(blp, *READERS)
    @errors(blp, 404)
    @blp.response(200, CandidateSchema)
    def get(self, candidate_id: int):
        """One candidate with its amount, working and the source row behind each condition (its enterprise's
        users and the bureau; another enterprise's user 403). An excluded candidate shows the bureau the
        blacklist row; to its enterprise it is 404."""
        actor = api_actor()
        return candidate_json(actor, services.get_candidate(actor, candidate_id))


@blp.route("/benefit-candidates/<id:candidate_id>/decline", methods=["POST"])
@auth(blp, *ANSWERERS)
@errors(blp, 400, 404, 409)
@blp.arguments(DeclineSchema)
@blp.response(200, CandidateSchema)
def decline(body, candidate_id: int):
    """Decline an open candidate (its enterprise's users; `reason` required). Its invoices or loan days are
    never offered again."""
    actor = api_actor()
    return candidate_json(actor, services.decline(actor, candidate_id, body.get("reason")))


@blp.route("/benefit-candidates/<id:candidate_id>/confirm", methods=["POST"])
@auth(blp, *ANSWERERS)
@errors(blp, 400, 404, 409, 413)
@blp.arguments(ConfirmSchema)
@blp.response(200, CandidateSchema)
def confirm(body, candidate_id: int):
    """Confirm an open candidate (its enterprise's users): `declaration` and `account_confirmed` true (the
    enterprise's registered account is the payee), and the files the application form requires (robot: one
    `invoice_files` entry per invoice; loan: `plan_file` and `statement_file`). The application is created by
    the subsidies' services with all their checks and submitted when its materials checklist is complete;
    otherwise it stays a draft and `application.missing_materials` lists what to attach
    (`POST /{robot,loan}-applications/{id}/materials`, then `…/submit`). Nothing is saved when refused."""
    actor = api_actor()
    uploads = {f"lines.{n}.invoice_file": f for n, f in enumerate(body.get("invoice_files") or [])}
    for name in ("plan_file", "statement_file"):
        if body.get(name) is not None:
            uploads[name] = body[name]
    with _api_fields():
        candidate = services.confirm(actor, candidate_id, declaration=body["declaration"],
                                     account_confirmed=body["account_confirmed"], uploads=uploads,
                                     max_bytes=current_app.config["UPLOAD_MAX_BYTES"])
    return candidate_json(actor, candidate)


# --- the bureau: imports and figures -----------------------------------------------------------------

@blp.route("/benefit-sources")
class SourceList(MethodView):
    @auth(blp, *SOURCE_READERS)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, SourcePage)
    def get(self, args):
        """The imports (newest first): kind, file name, the file's SHA-256, size, rows kept and refused, who and
        when. Keyset-paged."""
        page = paginate_select(queries.sources_statement(), args, keys=[BenefitSource.id],
                               list_name="benefit-sources")
        return page_json(page, [source_json(s) for s in page.items])


@blp.route("/benefit-sources/<id:source_id>")
class SourceItem(MethodView):
    @auth(blp, *SOURCE_READERS)
    @errors(blp, 404)
    @blp.response(200, SourceDetailSchema)
    def get(self, source_id: int):
        """One import with the report of its refused cells (row, column, message in the request's language)."""
        source = services.get_source(api_actor(), source_id)
        out = source_json(source)
        out["report"] = [{"row": r.get("row"), "column": r.get("column"),
                          "message": gettext(r["message"], **(r.get("params") or {}))} for r in source.report or []]
        return out


@blp.route("/benefit-figures")
class Figures(MethodView):
    @auth(blp, *OVERVIEW)
    @blp.arguments(FigureArgs, location="query")
    @blp.response(200, FiguresSchema)
    def get(self, args):
        """Candidates and their amounts by district and by industry, and the count per status, under the list's
        filters (as the page /benefits/candidates shows them)."""
        from decimal import Decimal

        f = _filters(args)

        def rows(column: str, labels: dict) -> list[dict]:
            return [{"code": code, "label": str(labels.get(code, code)), "candidates": n,
                     "amount": total or Decimal("0.00")} for code, n, total in queries.counts_by(column, f)]

        by_district = rows("district", DISTRICTS)
        return {"candidates": sum(r["candidates"] for r in by_district),
                "amount": sum((r["amount"] for r in by_district), Decimal("0.00")),
                "by_status": queries.status_counts(f), "by_district": by_district,
                "by_industry": rows("industry", INDUSTRIES)}
