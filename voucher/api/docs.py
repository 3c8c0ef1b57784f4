"""``/api/v1/docs``: the browsable API documentation (Swagger UI, vendored under
``static/vendor/swagger-ui``; no CDN) reading ``/api/v1/openapi.json``.  A plain Flask page, not
an API operation, so it is not itself in the OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for

bp = Blueprint("api_docs", __name__)


@bp.get("/api/v1/docs")
def docs():
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
