"""Schemas shared by every API module (the error shape; a working step and a file in the body, defined in
``voucher.schema_fields`` so the domains' schemas use them without importing the API)."""
from __future__ import annotations

import marshmallow as ma

from voucher.schema_fields import DecodedFile, FileUploadSchema, Length, StepSchema  # noqa: F401  (API modules import them here)


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True,
                            metadata={"description": "Machine-readable error code, e.g. validation_failed, "
                                                     "unauthorized, forbidden, not_found, conflict, over_cap, "
                                                     "budget_exhausted, transition_not_allowed, duplicate"})
    message = ma.fields.String(required=True,
                               metadata={"description": "Human-readable message (in the request's language)"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                            metadata={"description": "Message per bad field, by dotted path (e.g. periods.0.end); "
                                                     "empty when the refusal concerns no single field"})


class ErrorResponseSchema(ma.Schema):
    """Every API error: ``{"error": {"code", "message", "fields"}}``."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)
