"""API schemas of the solution catalogue.

Requests carry the same fields as the web forms; the business rules (lengths, lists, trial price
within list price, scores 0–100, reasons required, ...) are checked by ``catalogue.services`` and
refused with the same messages.  The schemas only check the JSON types.
"""
from __future__ import annotations

import marshmallow as ma

from voucher.catalogue.models import PUBLIC_STATES, SOLUTION_STATES
from voucher.catalogue.queries import QUEUE_STATES, SORT_CODES
from voucher.reference import INDUSTRIES, SOLUTION_CATEGORIES
from voucher.schema_fields import Choice, DecimalString, Length, object_id

CATEGORY_CODES = tuple(SOLUTION_CATEGORIES)
INDUSTRY_CODES = tuple(INDUSTRIES)


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- requests ----------------------------------------------------------------------------------

class SolutionInputSchema(_Strict):
    """A solution's facts (create a draft, or replace a draft's facts)."""

    title = ma.fields.String(required=True, metadata={"maxLength": 200})
    category = ma.fields.String(required=True, metadata={"enum": list(CATEGORY_CODES)})
    target_industries = ma.fields.List(ma.fields.String(metadata={"enum": list(INDUSTRY_CODES)}), required=True,
                                       metadata={"description": "Industry codes (at least one)"})
    description = ma.fields.String(required=True, metadata={"maxLength": 10000})
    list_price = DecimalString(required=True, metadata={"description": "Yuan, e.g. \"300000.00\""})
    trial_price = DecimalString(required=True, metadata={"description": "Yuan, more than 0, at most the list price"})
    trial_period_days = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 1, "maximum": 730})


class ScreeningInputSchema(_Strict):
    """An evaluator's rubric (five scores 0–100), decision and reasons."""

    maturity = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 0, "maximum": 100})
    references_score = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 0, "maximum": 100})
    price_reasonableness = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 0, "maximum": 100})
    service_capability = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 0, "maximum": 100})
    data_security = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 0, "maximum": 100})
    decision = ma.fields.String(required=True, metadata={"enum": ["list", "reject"]})
    reasons = ma.fields.String(required=True, metadata={"maxLength": 2000})


class ReasonSchema(_Strict):
    reason = ma.fields.String(required=True, metadata={"description": "Why (required; kept in the audit trail)",
                                                       "maxLength": 2000})


class RecommendSchema(_Strict):
    programme_id = object_id(load_default=None, allow_none=True,
                                     metadata={"description": "Read the thresholds of this programme "
                                                              "(default: the latest programme)"})


class PublicListArgs(ma.Schema):
    q = ma.fields.String(validate=Length(1, 100), metadata={"description": "Search title, description, provider"})
    category = ma.fields.String(validate=Choice(CATEGORY_CODES))
    industry = ma.fields.String(validate=Choice(INDUSTRY_CODES))
    sort = ma.fields.String(load_default="recommended", validate=Choice(SORT_CODES),
                            metadata={"description": "recommended (recommended first, then newest), newest, "
                                                     "price_asc, price_desc"})


class RecordListArgs(ma.Schema):
    q = ma.fields.String(validate=Length(1, 100))
    status = ma.fields.String(validate=Choice(SOLUTION_STATES),
                              metadata={"description": f"Evaluators: only {', '.join(QUEUE_STATES)}"})
    category = ma.fields.String(validate=Choice(CATEGORY_CODES),
                                metadata={"description": "Bureau roles only (ignored otherwise)"})


# --- responses ---------------------------------------------------------------------------------

class ProviderRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)


class StatsSchema(ma.Schema):
    """The solution's track record in trials."""

    trials_run = ma.fields.Integer(required=True)
    mean_score = DecimalString(required=True, allow_none=True, places=1,
                               metadata={"description": "Mean overall evaluation score (0–100) or null"})
    adoption_rate = DecimalString(required=True, allow_none=True,
                                  metadata={"description": "Percent of completed trials adopted, or null"})


class _SolutionFacts(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    category = ma.fields.String(required=True, validate=Choice(CATEGORY_CODES))
    target_industries = ma.fields.List(ma.fields.String(), required=True)
    description = ma.fields.String(required=True)
    list_price = DecimalString(required=True)
    trial_price = DecimalString(required=True)
    trial_period_days = ma.fields.Integer(required=True)
    provider = ma.fields.Nested(ProviderRefSchema, required=True)
    listed_at = ma.fields.DateTime(required=True, allow_none=True)


class PublicSolutionSchema(_SolutionFacts):
    """A solution in the public catalogue (listed or recommended)."""

    status = ma.fields.String(required=True, validate=Choice(PUBLIC_STATES))
    stats = ma.fields.Nested(StatsSchema, required=True)


class ScreeningSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    evaluator_id = ma.fields.Integer(required=True)
    maturity = ma.fields.Integer(required=True)
    references_score = ma.fields.Integer(required=True)
    price_reasonableness = ma.fields.Integer(required=True)
    service_capability = ma.fields.Integer(required=True)
    data_security = ma.fields.Integer(required=True)
    mean_score = DecimalString(required=True, places=1)
    decision = ma.fields.String(required=True, validate=Choice(("list", "reject")))
    reasons = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class SolutionRecordSchema(_SolutionFacts):
    """A solution's internal record (its provider, evaluators, bureau roles)."""

    status = ma.fields.String(required=True, validate=Choice(SOLUTION_STATES))
    status_label = ma.fields.String(required=True, metadata={"description": "Plain-language status"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    submitted_at = ma.fields.DateTime(required=True, allow_none=True)
    allowed_actions = ma.fields.List(ma.fields.String(), required=True,
                                     metadata={"description": "What the caller may do now (submit, revise, "
                                                              "start_screening, list, reject, recommend, delist, "
                                                              "relist)"})
    screenings = ma.fields.List(ma.fields.Nested(ScreeningSchema), required=True,
                                metadata={"description": "Screening rounds, latest first (detail only; [] in lists)"})
