"""API schemas of enterprises (the caller's enterprise; the bureau's enterprise list).

Requests carry the web form's fields; ``enterprises.services`` checks them (credit code with its
check digit, lists, phone, bank account, ...) and refuses with the form's messages.
"""
from __future__ import annotations

import marshmallow as ma

from voucher.enterprises.models import SIZE_CLASS_CODES
from voucher.reference import DISTRICTS, INDUSTRIES
from voucher.schema_fields import Choice, DecimalString, Length


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class EnterpriseInputSchema(_Strict):
    """An enterprise's profile (register, or replace the profile)."""

    name = ma.fields.String(required=True, metadata={"maxLength": 200})
    uscc = ma.fields.String(required=True, metadata={"description": "Unified social credit code (18 characters, "
                                                                    "with its check digit)"})
    district = ma.fields.String(required=True, metadata={"enum": list(DISTRICTS)})
    industry = ma.fields.String(required=True, metadata={"enum": list(INDUSTRIES)})
    employees = ma.fields.Integer(required=True, strict=True, metadata={"minimum": 0, "maximum": 10_000_000})
    annual_revenue = DecimalString(required=True, metadata={"description": "Yuan, e.g. \"15000000.00\""})
    industrial_park = ma.fields.String(load_default=None, allow_none=True, metadata={"maxLength": 200})
    contact_name = ma.fields.String(required=True, metadata={"maxLength": 100})
    contact_phone = ma.fields.String(required=True)
    bank_name = ma.fields.String(required=True, metadata={"maxLength": 200})
    bank_account = ma.fields.String(required=True, metadata={"description": "8 to 32 digits"})
    bank_code = ma.fields.String(allow_none=True, metadata={
        "description": "Bank code (联行号, CNAPS): 12 digits; the bank file needs it. Left out of a PUT: kept as it is"})


class EnterpriseSchema(ma.Schema):
    """An enterprise: the organisation and its SME profile (size class derived, never typed in)."""

    id = ma.fields.Integer(required=True, metadata={"description": "The enterprise's organisation id"})
    name = ma.fields.String(required=True)
    uscc = ma.fields.String(required=True, allow_none=True)
    district = ma.fields.String(required=True, allow_none=True)
    industry = ma.fields.String(required=True, allow_none=True)
    employees = ma.fields.Integer(required=True, allow_none=True)
    annual_revenue = DecimalString(required=True, allow_none=True)
    size_class = ma.fields.String(required=True, allow_none=True, validate=Choice(SIZE_CLASS_CODES))
    is_sme = ma.fields.Boolean(required=True, metadata={"description": "Small, medium or micro: may apply"})
    industrial_park = ma.fields.String(required=True, allow_none=True)
    contact_name = ma.fields.String(required=True, allow_none=True)
    contact_phone = ma.fields.String(required=True, allow_none=True)
    bank_name = ma.fields.String(required=True, allow_none=True)
    bank_account = ma.fields.String(required=True, allow_none=True)
    bank_code = ma.fields.String(allow_none=True, metadata={"description": "Bank code (联行号, CNAPS), 12 digits"})
    created_at = ma.fields.DateTime(required=True)


class EnterpriseListArgs(ma.Schema):
    q = ma.fields.String(validate=Length(1, 100), metadata={"description": "Part of the name or credit code"})
    district = ma.fields.String(validate=Choice(tuple(DISTRICTS)))
    industry = ma.fields.String(validate=Choice(tuple(INDUSTRIES)))
    size_class = ma.fields.String(validate=Choice(SIZE_CLASS_CODES))
