"""The API's shapes for parks: a park, its figures, a member enterprise with its programme use.
No bank detail appears in any of them."""
from __future__ import annotations

import marshmallow as ma

from voucher.schema_fields import DecimalString


class ParkSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    district = ma.fields.String(required=True)
    operator = ma.fields.String(required=True, metadata={"description": "The operator organisation's name."})


class ParkKindFiguresSchema(ma.Schema):
    filed = ma.fields.Integer(required=True, metadata={"description": "Applications in any status but draft."})
    approved = ma.fields.Integer(required=True, metadata={"description": "Approved and every later state."})
    by_status = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)


class ParkSummarySchema(ma.Schema):
    park = ma.fields.Nested(ParkSchema, required=True)
    members = ma.fields.Integer(required=True, metadata={"description": "Confirmed member enterprises."})
    pending = ma.fields.Integer(required=True, metadata={"description": "Membership requests waiting."})
    active = ma.fields.Integer(required=True, metadata={"description": "Members with a filed application."})
    applications = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ParkKindFiguresSchema), required=True,
                                  metadata={"description": "Per kind: trial, loan, robot."})
    trials = ma.fields.Integer(required=True)
    adoption_decisions = ma.fields.Integer(required=True)
    adopted = ma.fields.Integer(required=True)
    adoption_rate = DecimalString(places=1, kind="rate", required=True, allow_none=True,
                                  metadata={"description": "adopted / decisions, percent to 0.1; null before the "
                                                           "first decision."})
    granted = DecimalString(required=True, metadata={"description": "Reserve − release in the fund ledger, yuan."})
    paid = DecimalString(required=True, metadata={"description": "Pay − return in the fund ledger, yuan."})


class MemberSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    uscc = ma.fields.String(required=True, allow_none=True)
    district = ma.fields.String(required=True)
    industry = ma.fields.String(required=True)
    size_class = ma.fields.String(required=True)
    member_since = ma.fields.DateTime(required=True, allow_none=True)
    applications = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(ParkKindFiguresSchema), required=True)
    trials = ma.fields.Integer(required=True)
    adopted = ma.fields.Integer(required=True)
    granted = DecimalString(required=True)
    paid = DecimalString(required=True)
    maturity_level = ma.fields.String(required=True, allow_none=True,
                                      metadata={"description": "From the maturity self-assessment; null when none."})


class MemberListArgs(ma.Schema):
    q = ma.fields.String(load_default=None, validate=ma.validate.Length(max=60),
                         metadata={"description": "Part of the name, or the start of the credit code."})
