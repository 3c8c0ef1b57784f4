"""API schemas of programmes (funds), their ledger and the export for upstream reporting.

Money is a decimal string in yuan ("50000000.00"), percentages and scores decimal strings.
"""
from __future__ import annotations

import marshmallow as ma

from voucher.programmes.models import FUNDING_KIND_CODES, LEDGER_KINDS, PARAMETER_DEFAULTS
from voucher.reference import INDUSTRIES
from voucher.schema_fields import Choice, DecimalString, Length, WholeRange


class FundsSchema(ma.Schema):
    """Which kinds of support the programme funds."""

    trial_voucher = ma.fields.Boolean(required=True)
    loan_discount = ma.fields.Boolean(required=True)
    robot_subsidy = ma.fields.Boolean(required=True)


class LedgerSummarySchema(ma.Schema):
    """The fund ledger's figures: available = budget − reserved − paid."""

    budget = DecimalString(required=True)
    reserved = DecimalString(required=True)
    paid = DecimalString(required=True)
    available = DecimalString(required=True)


class OpenProgrammeSchema(ma.Schema):
    """A programme as an applicant sees it: name, window, what it funds."""

    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)
    opens_on = ma.fields.Date(required=True)
    closes_on = ma.fields.Date(required=True)
    window_status = ma.fields.String(required=True, validate=Choice(("upcoming", "open", "closed")))
    funds = ma.fields.Nested(FundsSchema, required=True)
    pilot_industries = ma.fields.List(ma.fields.String(validate=Choice(tuple(INDUSTRIES))), required=True)


class ProgrammeSchema(OpenProgrammeSchema):
    """A programme with its fund ledger summary (bureau roles)."""

    ledger = ma.fields.Nested(LedgerSummarySchema, required=True)


def _parameter_field(name: str, default):
    if isinstance(default, int):
        return ma.fields.Integer(required=True)
    return DecimalString(required=True)


ProgrammeParametersSchema = type("ProgrammeParametersSchema", (ma.Schema,), {
    "__doc__": "Every rule parameter of the programme (domain defaults unless an officer changed them): "
               "money in yuan, percentages and scores 0-100, weights add up to 100.",
    **{name: _parameter_field(name, default) for name, default in PARAMETER_DEFAULTS.items()},
})


class ProgrammeDetailSchema(ProgrammeSchema):
    parameters = ma.fields.Nested(ProgrammeParametersSchema, required=True)


class ProgrammeListArgs(ma.Schema):
    q = ma.fields.String(validate=Length(1, 100), metadata={"description": "Part of the programme's name"})
    year = ma.fields.Integer(validate=WholeRange(2000, 2100))


class OpenProgrammeArgs(ma.Schema):
    kind = ma.fields.String(validate=Choice(FUNDING_KIND_CODES),
                            metadata={"description": "Only programmes that fund this kind"})


class LedgerEntrySchema(ma.Schema):
    """One fund-ledger entry (append-only) with the running totals after it."""

    seq = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=Choice(LEDGER_KINDS))
    funding_kind = ma.fields.String(required=True, validate=Choice(FUNDING_KIND_CODES))
    amount = DecimalString(required=True)
    enterprise_id = ma.fields.Integer(required=True)
    enterprise_name = ma.fields.String(required=True)
    provider_id = ma.fields.Integer(required=True, allow_none=True)
    provider_name = ma.fields.String(required=True, allow_none=True)
    source_type = ma.fields.String(required=True)
    source_id = ma.fields.Integer(required=True)
    milestone = ma.fields.String(required=True, allow_none=True)
    note = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    reserved_after = DecimalString(required=True)
    paid_after = DecimalString(required=True)


class ExportArgs(ma.Schema):
    format = ma.fields.String(load_default="json", validate=Choice(("json", "csv")),
                              metadata={"description": "json (default) or csv"})


# The export's columns, in order (the CSV header and the JSON row keys).
EXPORT_COLUMNS = ("programme_id", "kind", "application_type", "application_id", "enterprise_id", "enterprise_name",
                  "uscc", "district", "industry", "amount_approved", "reserved", "paid", "released", "status")


class ExportRowSchema(ma.Schema):
    """One grant of the programme (an application with at least one fund-ledger entry)."""

    programme_id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=Choice(FUNDING_KIND_CODES),
                            metadata={"description": "trial_voucher, loan_discount or robot_subsidy"})
    application_type = ma.fields.String(required=True, metadata={
        "description": "trial_application, loan_application or robot_application: with application_id, "
                       "the application's API resource"})
    application_id = ma.fields.Integer(required=True)
    enterprise_id = ma.fields.Integer(required=True)
    enterprise_name = ma.fields.String(required=True)
    uscc = ma.fields.String(required=True, allow_none=True, metadata={"description": "Unified social credit code"})
    district = ma.fields.String(required=True, allow_none=True, metadata={"description": "District code"})
    industry = ma.fields.String(required=True, allow_none=True, metadata={"description": "Industry code"})
    amount_approved = DecimalString(required=True, metadata={"description": "Total reserved at approval"})
    reserved = DecimalString(required=True, metadata={"description": "Still reserved (neither paid nor released)"})
    paid = DecimalString(required=True)
    released = DecimalString(required=True, metadata={"description": "Given back to the fund"})
    status = ma.fields.String(required=True, metadata={"description": "The application's status code"})


class ExportProgrammeSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True)


class ExportSchema(ma.Schema):
    """The programme export: the programme, its ledger totals, and one row per grant."""

    layout_version = ma.fields.Integer(required=True, metadata={"description": "1; changes only with a new layout"})
    generated_at = ma.fields.DateTime(required=True)
    programme = ma.fields.Nested(ExportProgrammeSchema, required=True)
    ledger = ma.fields.Nested(LedgerSummarySchema, required=True)
    columns = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "The row keys, in order"})
    rows = ma.fields.List(ma.fields.Nested(ExportRowSchema), required=True)


class RuleVersionRefSchema(ma.Schema):
    """The rule version a decision was made under (issue 19 §3)."""

    id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True, allow_none=True)
    effective_from = ma.fields.Date(required=True, allow_none=True, metadata={"description": "In force from"})


def rule_version_field():
    """The ``rule_version`` field of a decision's API output: null before the decision is made."""
    return ma.fields.Nested(RuleVersionRefSchema, required=True, allow_none=True,
                            metadata={"description": "The rule version the decision used (null: not decided yet)"})


class RuleVersionSchema(ma.Schema):
    """One of a programme's rule versions: draft, published (numbered, with a start day) or discarded."""

    id = ma.fields.Integer(required=True)
    programme_id = ma.fields.Integer(required=True)
    number = ma.fields.Integer(required=True, allow_none=True)
    status = ma.fields.String(required=True, validate=Choice(("draft", "published", "discarded")))
    effective_from = ma.fields.Date(required=True, allow_none=True)
    note = ma.fields.String(required=True, allow_none=True)
    based_on_id = ma.fields.Integer(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    published_at = ma.fields.DateTime(required=True, allow_none=True)
    in_force_today = ma.fields.Boolean(required=True)
    changed = ma.fields.Dict(required=True, metadata={"description": "Parameters that differ from the previous "
                                                                     "published version (or the draft's base): "
                                                                     "{name: {before, after}}"})


class RuleVersionDetailSchema(RuleVersionSchema):
    parameters = ma.fields.Nested(ProgrammeParametersSchema, required=True)
    decisions = ma.fields.Integer(required=True, metadata={"description": "Decisions made under this version"})
