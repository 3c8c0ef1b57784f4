"""The API's shapes for benefits without applying (免申即享, issue 19 §1–§2): the bureau's imports
(sources with their SHA-256), the candidates (amount, working, evidence per condition), the
enterprise's answer (decline with a reason; confirm with the declaration, the account and the files
the application form needs) and the figures by district and industry.

Requests check JSON types only; every rule is the services' (``voucher.benefits.services``)."""
from __future__ import annotations

import marshmallow as ma

from voucher.benefits.models import CANDIDATE_KINDS, CANDIDATE_STATES, SOURCE_KINDS
from voucher.reference import DISTRICTS, INDUSTRIES
from voucher.schema_fields import Choice, DecimalString, FileUploadSchema, Length, StepSchema


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- requests ---------------------------------------------------------------------------------------

class CandidateListArgs(ma.Schema):
    status = ma.fields.String(validate=Choice(CANDIDATE_STATES),
                              metadata={"description": "open, confirmed, declined or excluded (excluded: bureau "
                                                       "roles only; an enterprise never sees its excluded rows)"})
    kind = ma.fields.String(validate=Choice(CANDIDATE_KINDS), metadata={"description": "robot or loan"})
    district = ma.fields.String(validate=Choice(tuple(DISTRICTS)), metadata={"description": "District code"})
    industry = ma.fields.String(validate=Choice(tuple(INDUSTRIES)), metadata={"description": "Industry code"})


class FigureArgs(CandidateListArgs):
    """The same filters as the list: the figures are of the candidates the list would show."""


class DeclineSchema(_Strict):
    reason = ma.fields.String(load_default=None, allow_none=True,
                              metadata={"description": "Required: why the enterprise declines (at most 2000 "
                                                       "characters)", "maxLength": 2000})


class ConfirmSchema(_Strict):
    declaration = ma.fields.Boolean(load_default=False, metadata={
        "description": "Required true: the enterprise declares the data shown true and that it received no other "
                       "subsidy for the same purchase or loan days"})
    account_confirmed = ma.fields.Boolean(load_default=False, metadata={
        "description": "Required true: pay the subsidy to the enterprise's registered bank account"})
    invoice_files = ma.fields.List(ma.fields.Nested(FileUploadSchema), load_default=list, validate=Length(0, 100),
                                   metadata={"description": "Robot candidates: one file per invoice, in the order of "
                                                            "the candidate's `invoices` (the robot form's required "
                                                            "invoice uploads)"})
    plan_file = ma.fields.Nested(FileUploadSchema, load_default=None, allow_none=True,
                                 metadata={"description": "Loan candidates: the digital-transformation plan "
                                                          "(required by the loan form)"})
    statement_file = ma.fields.Nested(FileUploadSchema, load_default=None, allow_none=True,
                                      metadata={"description": "Loan candidates: the bank's interest statement "
                                                               "(required by the loan form)"})


# --- answers ----------------------------------------------------------------------------------------

class EvidenceSchema(ma.Schema):
    condition = ma.fields.String(required=True, metadata={"description": "registered, sme, programme_open, "
                                                                         "not_blacklisted, pilot_industry, cap_left, "
                                                                         "invoice, rate_ceiling, interest_period, "
                                                                         "blacklisted"})
    condition_label = ma.fields.String(required=True, metadata={"description": "In the request's language"})
    source_id = ma.fields.Integer(required=True, allow_none=True,
                                  metadata={"description": "The import the row came from (null: the enterprise's "
                                                           "registration or the programme)"})
    row_id = ma.fields.Integer(required=True, allow_none=True)
    row_number = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "The row in the file"})
    values = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(allow_none=True), required=True,
                            metadata={"description": "The row's values the condition used (money and rates as "
                                                     "decimal strings, dates ISO 8601)"})


class CandidateEnterpriseSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class MaterialNeededSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)


class CandidateApplicationSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=Choice(CANDIDATE_KINDS))
    id = ma.fields.Integer(required=True)
    number = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.String(required=True, metadata={"description": "submitted when the checklist was "
                                                                      "complete, else draft"})
    url = ma.fields.String(required=True, metadata={"description": "The application in the API "
                                                                   "(`/api/v1/robot-applications/{id}` or "
                                                                   "`/api/v1/loan-applications/{id}`)"})
    missing_materials = ma.fields.List(ma.fields.Nested(MaterialNeededSchema), required=True, metadata={
        "description": "Required materials of the checklist with no file yet: attach them with "
                       "`POST …/{id}/materials`, then `POST …/{id}/submit`"})


class CandidateSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=Choice(CANDIDATE_KINDS))
    kind_label = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=Choice(CANDIDATE_STATES))
    status_label = ma.fields.String(required=True)
    enterprise = ma.fields.Nested(CandidateEnterpriseSchema, required=True)
    programme_id = ma.fields.Integer(required=True)
    district = ma.fields.String(required=True)
    industry = ma.fields.String(required=True)
    amount = DecimalString(required=True, metadata={"description": "Yuan, to the fen"})
    matched_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    application_id = ma.fields.Integer(required=True, allow_none=True,
                                       metadata={"description": "The application created when confirmed"})
    working = ma.fields.List(ma.fields.Nested(StepSchema), required=True,
                             metadata={"description": "How the amount was worked out (the calculators' steps)"})
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema), required=True,
                              metadata={"description": "Per condition, the source row that satisfies it"})
    exclusion = ma.fields.Nested(EvidenceSchema, required=True, allow_none=True,
                                 metadata={"description": "Excluded candidates (bureau roles): the blacklist row"})


class CandidateSchema(CandidateSummarySchema):
    parameters = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Raw(), required=True,
                                metadata={"description": "The programme parameters the calculation used"})
    decline_reason = ma.fields.String(required=True, allow_none=True)
    payee_account = ma.fields.String(required=True, allow_none=True,
                                     metadata={"description": "The account confirmed for payment"})
    application = ma.fields.Nested(CandidateApplicationSchema, required=True, allow_none=True)
    allowed_actions = ma.fields.List(ma.fields.String(), required=True,
                                     metadata={"description": "confirm and decline: the enterprise's users on an "
                                                              "open candidate"})


class SourceSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=Choice(SOURCE_KINDS))
    kind_label = ma.fields.String(required=True)
    filename = ma.fields.String(required=True)
    sha256 = ma.fields.String(required=True, metadata={"description": "SHA-256 of the imported file, hex"})
    size_bytes = ma.fields.Integer(required=True)
    rows = ma.fields.Integer(required=True, metadata={"description": "Rows accepted and stored"})
    refused_rows = ma.fields.Integer(required=True)
    imported_by = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "User id"})
    imported_at = ma.fields.DateTime(required=True)


class RefusedCellSchema(ma.Schema):
    row = ma.fields.Integer(required=True, allow_none=True)
    column = ma.fields.String(required=True, allow_none=True)
    message = ma.fields.String(required=True, metadata={"description": "In the request's language"})


class SourceDetailSchema(SourceSchema):
    report = ma.fields.List(ma.fields.Nested(RefusedCellSchema), required=True,
                            metadata={"description": "Every refused cell by row and column"})


class FigureRowSchema(ma.Schema):
    code = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    candidates = ma.fields.Integer(required=True)
    amount = DecimalString(required=True, metadata={"description": "Their total amount, yuan"})


class FiguresSchema(ma.Schema):
    candidates = ma.fields.Integer(required=True)
    amount = DecimalString(required=True)
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    by_district = ma.fields.List(ma.fields.Nested(FigureRowSchema), required=True)
    by_industry = ma.fields.List(ma.fields.Nested(FigureRowSchema), required=True)
