"""The API shape of a risk signal (not yet on /api/v1: the pages and the CSV export serve the bureau)."""
from __future__ import annotations

from marshmallow import Schema, fields


class RiskSignalSchema(Schema):
    id = fields.Int()
    kind = fields.Str()
    status = fields.Str()
    application_number = fields.Str(allow_none=True)
    evidence = fields.Dict()
    detected_at = fields.DateTime()
    dismiss_reason = fields.Str(allow_none=True)
