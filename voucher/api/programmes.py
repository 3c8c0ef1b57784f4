"""`/api/v1/programmes`: programmes (funds) with their fund-ledger summary, the ledger entries, and
the export of a programme's grants for upstream reporting (JSON or CSV)."""
from __future__ import annotations

from datetime import date

from flask import Response
from flask.views import MethodView
from sqlalchemy import BigInteger, case, func, select, type_coerce

from voucher.api import api_blueprint
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema
from voucher.db import utcnow
from voucher.enterprises.models import Enterprise, Organisation
from voucher.extensions import db
from voucher.programmes import queries, services
from voucher.programmes.access import RULES as ACCESS
from voucher.programmes.models import FundLedgerEntry, Programme, paid_delta
from voucher.programmes.schemas import (
    EXPORT_COLUMNS,
    ExportArgs,
    ExportSchema,
    LedgerEntrySchema,
    OpenProgrammeArgs,
    OpenProgrammeSchema,
    ProgrammeDetailSchema,
    ProgrammeListArgs,
    ProgrammeSchema,
    RuleVersionDetailSchema,
    RuleVersionSchema,
)

BUREAU = ACCESS["programmes.read"].roles

blp = api_blueprint("api-programmes", __name__, description="Programmes (funds): window, kinds funded, rule "
                    "parameters, fund-ledger summary (budget, reserved, paid, available), ledger entries, and the "
                    "export of every grant for upstream reporting.")

ProgrammePage = page_schema("ProgrammePage", ProgrammeSchema)
LedgerPage = page_schema("LedgerEntryPage", LedgerEntrySchema)


class ProgrammeListQuery(PageArgs, ProgrammeListArgs):
    pass


def _base(programme: Programme, today: date | None = None) -> dict:
    return {"id": programme.id, "name": programme.name, "year": programme.year, "opens_on": programme.opens_on,
            "closes_on": programme.closes_on, "window_status": queries.window_status(programme, today),
            "funds": {kind: programme.funds(kind) for kind in ("trial_voucher", "loan_discount", "robot_subsidy")},
            "pilot_industries": list(programme.pilot_industries or [])}


def ledger_json(balances) -> dict:
    return {"budget": balances.budget, "reserved": balances.reserved, "paid": balances.paid,
            "available": balances.available}


def programme_json(programme: Programme, balances, *, detail: bool = False) -> dict:
    out = {**_base(programme), "ledger": ledger_json(balances)}
    if detail:
        # The rule version in force today (every decision reads its day's version, issue 19 §3).
        out["parameters"] = services.parameters_on(programme.id, queries.local_today())[1]
    return out


@blp.route("/programmes")
class ProgrammeList(MethodView):
    @auth(blp, *BUREAU)
    @blp.arguments(ProgrammeListQuery, location="query")
    @blp.response(200, ProgrammePage)
    def get(self, args):
        """Programmes, newest first, each with its fund-ledger summary; search by name, filter by year."""
        pagination = queries.programmes_page(q=args.get("q"), year=args.get("year"), page=args["page"],
                                             per_page=args["per_page"])
        figures = queries.balances_for(pagination.items)
        return page_json(pagination, [programme_json(p, figures[p.id]) for p in pagination.items])


@blp.route("/programmes/open")
class OpenProgrammes(MethodView):
    @auth(blp)
    @blp.arguments(OpenProgrammeArgs, location="query")
    @blp.response(200, OpenProgrammeSchema(many=True))
    def get(self, args):
        """Programmes accepting applications today (the ids to apply to), optionally only those funding a kind."""
        today = queries.local_today()
        found = [p for p in queries.current_programmes(today) if not args.get("kind") or p.funds(args["kind"])]
        return [_base(p, today) for p in found]


@blp.route("/programmes/<id:programme_id>")
class ProgrammeItem(MethodView):
    @auth(blp, *BUREAU)
    @errors(blp, 404)
    @blp.response(200, ProgrammeDetailSchema)
    def get(self, programme_id: int):
        """A programme with its rule parameters and fund-ledger summary."""
        programme = services.get_programme(programme_id)
        return programme_json(programme, services.balances(programme), detail=True)


# --- rule versions (issue 19 §3) ---------------------------------------------------------------------

RULE_READERS = ACCESS["programmes.rule_versions"].roles


def _version_rows(programme_id: int) -> tuple[list, dict, int]:
    rows, changes = services.versions_with_changes(programme_id)
    return rows, changes, services.version_in_force(programme_id, queries.local_today()).id


def rule_version_json(v, changed: dict, in_force_id: int) -> dict:
    return {"id": v.id, "programme_id": v.programme_id, "number": v.number, "status": v.status,
            "effective_from": v.effective_from, "note": v.note, "based_on_id": v.based_on_id,
            "created_at": v.created_at, "published_at": v.published_at, "in_force_today": v.id == in_force_id,
            "changed": changed}


@blp.route("/programmes/<id:programme_id>/rule-versions")
class RuleVersionList(MethodView):
    @auth(blp, *RULE_READERS)
    @errors(blp, 404)
    @blp.response(200, RuleVersionSchema(many=True))
    def get(self, programme_id: int):
        """The programme's rule versions: published ones newest first, then drafts, then discarded ones,
        each with the parameters it changed against the previous published version (or its base)."""
        programme = services.get_programme(programme_id)
        rows, changes, in_force = _version_rows(programme.id)
        return [rule_version_json(v, changes[v.id], in_force) for v in rows]


@blp.route("/programmes/<id:programme_id>/rule-versions/<id:version_id>")
class RuleVersionItem(MethodView):
    @auth(blp, *RULE_READERS)
    @errors(blp, 404)
    @blp.response(200, RuleVersionDetailSchema)
    def get(self, programme_id: int, version_id: int):
        """One rule version with every parameter and how many decisions were made under it."""
        version = services.get_version(version_id)
        if version.programme_id != programme_id:
            from voucher.errors import NotFound

            raise NotFound("No such rule version.")
        rows, changes, in_force = _version_rows(programme_id)
        return {**rule_version_json(version, changes.get(version.id, {}), in_force),
                "parameters": services.parse_parameters(version.parameters),
                "decisions": services.decisions_using(version.id)}


@blp.route("/programmes/<id:programme_id>/ledger")
class ProgrammeLedger(MethodView):
    @auth(blp, *BUREAU)
    @errors(blp, 404)
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, LedgerPage)
    def get(self, args, programme_id: int):
        """The programme's fund-ledger entries, newest first."""
        programme = services.get_programme(programme_id)
        page = queries.ledger_page(programme.id, page=args["page"], per_page=args["per_page"])
        items = [{**{c: getattr(row.FundLedgerEntry, c) for c in (
            "seq", "kind", "funding_kind", "amount", "enterprise_id", "provider_id", "source_type", "source_id",
            "milestone", "note", "created_at", "reserved_after", "paid_after")},
            "enterprise_name": row.enterprise_name, "provider_name": row.provider_name} for row in page.items]
        return page_json(page, items)


# --- the export --------------------------------------------------------------------------------

EXPORT_DESCRIPTION = """Every grant of the programme, one row per application that has at least one
fund-ledger entry, for upstream reporting (e.g. the provincial platform). Layout version 1:

| column | meaning |
|---|---|
| programme_id | the programme's id |
| kind | `trial_voucher`, `loan_discount` or `robot_subsidy` |
| application_type | `trial_application`, `loan_application` or `robot_application` |
| application_id | the application's id (its API resource: `/api/v1/trial-applications/{id}`, ...) |
| enterprise_id | the enterprise's organisation id |
| enterprise_name | registered name |
| uscc | unified social credit code (18 characters) |
| district | district code (e.g. `lucheng`) |
| industry | industry code (e.g. `pumps_valves`) |
| amount_approved | yuan, two decimals: the total reserved for the grant at approval |
| reserved | yuan: still reserved (neither paid nor released) |
| paid | yuan: paid out |
| released | yuan: given back to the fund (amount_approved = reserved + paid + released) |
| status | the application's status code (e.g. `approved`, `trial_running`, `cancelled`) |

Rows are ordered by kind, then application id. `format=json` (default) answers the object below
(`ledger` holds the programme's totals: budget, reserved, paid, available); `format=csv` answers
`text/csv` in UTF-8 with a byte-order mark (so spreadsheet programs read Chinese names), a header
row with the column names above, money as plain decimals (`150000.00`), and
`Content-Disposition: attachment`. The sums of `reserved` and `paid` over the rows equal the
ledger's `reserved` and `paid`."""


def _fen(value):
    from decimal import Decimal

    return (Decimal(int(value or 0)) / 100).quantize(Decimal("0.01"))


def grant_rows(programme_id: int) -> list[dict]:
    """One row per (kind, application) with ledger entries: approved, still reserved, paid, released
    summed from the append-only ledger (integer fen), with the enterprise and the application's status."""
    from voucher.applications.models import TrialApplication
    from voucher.subsidies.models import LoanApplication, RobotApplication

    c = FundLedgerEntry.__table__.c
    fen = type_coerce(c.amount, BigInteger)
    sums = (select(c.funding_kind, c.source_type, c.source_id, c.enterprise_id,
                   func.sum(case((c.kind == "reserve", fen), else_=0)).label("reserved_total"),
                   func.sum(paid_delta(c.kind, fen)).label("paid"),  # net of returns (退汇)
                   func.sum(case((c.kind == "release", fen), else_=0)).label("released"))
            .where(c.programme_id == programme_id)
            .group_by(c.funding_kind, c.source_type, c.source_id, c.enterprise_id)).subquery()
    rows = db.session.execute(
        select(sums, Organisation.name, Organisation.uscc, Enterprise.district, Enterprise.industry)
        .join(Organisation, Organisation.id == sums.c.enterprise_id)
        .outerjoin(Enterprise, Enterprise.organisation_id == sums.c.enterprise_id)
        .order_by(sums.c.funding_kind, sums.c.source_id)).all()
    statuses: dict[tuple[str, int], str] = {}
    for source_type, model in (("trial_application", TrialApplication), ("loan_application", LoanApplication),
                               ("robot_application", RobotApplication)):
        ids = [r.source_id for r in rows if r.source_type == source_type]
        if ids:
            statuses.update({(source_type, i): s for i, s in
                             db.session.execute(select(model.id, model.status).where(model.id.in_(ids)))})
    out = []
    for r in rows:
        approved, paid, released = _fen(r.reserved_total), _fen(r.paid), _fen(r.released)
        out.append({"programme_id": programme_id, "kind": r.funding_kind, "application_type": r.source_type,
                    "application_id": r.source_id, "enterprise_id": r.enterprise_id, "enterprise_name": r.name,
                    "uscc": r.uscc, "district": r.district, "industry": r.industry, "amount_approved": approved,
                    "reserved": approved - paid - released, "paid": paid, "released": released,
                    "status": statuses.get((r.source_type, r.source_id), "unknown")})
    return out


@blp.route("/programmes/<id:programme_id>/export")
class ProgrammeExport(MethodView):
    @auth(blp, *BUREAU)
    @errors(blp, 404)
    @blp.arguments(ExportArgs, location="query")
    @blp.alt_response(200, schema={"type": "string"}, content_type="text/csv",
                      description="format=csv: the same rows as CSV (UTF-8 with BOM, header row)", success=True)
    @blp.response(200, ExportSchema, description="format=json: the programme, its ledger totals and the rows")
    @blp.doc(description=EXPORT_DESCRIPTION)
    def get(self, args, programme_id: int):
        """Export the programme's grants (one row per grant) as JSON or CSV for upstream reporting."""
        from voucher.exports import csv_bytes

        programme = services.get_programme(programme_id)
        rows = grant_rows(programme.id)
        if args["format"] == "csv":
            body = csv_bytes(EXPORT_COLUMNS, ([row[c] for c in EXPORT_COLUMNS] for row in rows))
            response = Response(body, mimetype="text/csv", content_type="text/csv; charset=utf-8")
            response.headers["Content-Disposition"] = f'attachment; filename="programme-{programme.id}-grants.csv"'
            return response
        return {"layout_version": 1, "generated_at": utcnow(),
                "programme": {"id": programme.id, "name": programme.name, "year": programme.year},
                "ledger": ledger_json(services.balances(programme)), "columns": list(EXPORT_COLUMNS), "rows": rows}
