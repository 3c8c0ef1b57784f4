"""Schemas shared by every API module (the error shape, a working step)."""
from __future__ import annotations

import marshmallow as ma


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(metadata={"description": "Machine-readable error code, e.g. validation_failed"})
    message = ma.fields.String(metadata={"description": "Human-readable message (in the request's language)"})
    fields = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                            metadata={"description": "Message per bad field, by dotted path (e.g. periods.0.end)"})


class ErrorResponseSchema(ma.Schema):
    """Every API error: ``{"error": {"code", "message", "fields"}}``."""

    error = ma.fields.Nested(ErrorBodySchema)


class StepSchema(ma.Schema):
    """One line of itemized working."""

    code = ma.fields.String(metadata={"description": "Stable code of the rule applied, e.g. loan.period.discount"})
    text = ma.fields.String(metadata={"description": "The sentence, in the request's language"})
    values = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                            metadata={"description": "The figures filled into the sentence"})
