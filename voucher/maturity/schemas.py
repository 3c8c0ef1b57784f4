"""The API shape of a self-assessment (not yet on /api/v1: issue 20 §1 leaves the API optional; the
pages and the overview's CSV/Excel export serve it, and other domains read ``queries.latest_levels``)."""
from __future__ import annotations

from marshmallow import Schema, fields


class MaturityAssessmentSchema(Schema):
    id = fields.Int()
    enterprise_id = fields.Int()
    questionnaire_id = fields.Int()
    overall_level = fields.Int()
    overall_score = fields.Str()
    dimensions = fields.Dict()
    taken_at = fields.DateTime()
