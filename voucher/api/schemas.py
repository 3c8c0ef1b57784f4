"""Schemas shared by every API module (the error shape, a working step)."""
from __future__ import annotations

import base64
import binascii
import io
from typing import BinaryIO, NamedTuple

import marshmallow as ma
from flask_babel import gettext as _

from voucher.schema_fields import Length


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


class StepSchema(ma.Schema):
    """One line of itemized working."""

    code = ma.fields.String(required=True,
                            metadata={"description": "Stable code of the rule applied, e.g. loan.period.discount"})
    text = ma.fields.String(required=True, metadata={"description": "The sentence, in the request's language"})
    values = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True,
                            metadata={"description": "The figures filled into the sentence"})


class DecodedFile(NamedTuple):
    """An uploaded file from a JSON body, as the services' uploads expect (``stream``, ``filename``)."""

    stream: BinaryIO
    filename: str


class FileUploadSchema(ma.Schema):
    """A file sent inside the JSON body: its name and its bytes in base64 (PDF, JPEG or PNG by content;
    the size limit of uploads applies to the decoded bytes)."""

    class Meta:
        unknown = ma.RAISE

    filename = ma.fields.String(required=True, validate=Length(1, 255))
    content_base64 = ma.fields.String(required=True, metadata={"format": "byte",
                                                               "description": "The file's bytes, base64-encoded"})

    @ma.post_load
    def decode(self, data, **kwargs):
        try:
            raw = base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError(_("Not valid base64."), "content_base64") from None
        return DecodedFile(io.BytesIO(raw), data["filename"])
