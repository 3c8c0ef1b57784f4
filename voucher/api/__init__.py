"""The JSON API (``/api/v1``), built on flask-smorest: OpenAPI from the same marshmallow schemas
that validate.

Adding to it: create the blueprint with :func:`api_blueprint` (it gets the API's error shape for
validation errors) in a module under ``voucher/api/``, and list it in :func:`blueprints`.
``configure_api(app)`` (called from ``create_app``) binds the ``Api``, exempts each API blueprint
from the browser-form CSRF check (clients authenticate with bearer tokens, not cookies) and
registers the blueprints.

One error shape for every API error::

    {"error": {"code": "validation_failed", "message": "...", "fields": {"periods.0.end": "..."}}}

Domain exceptions and HTTP errors under ``/api/`` are rendered in it by ``voucher.ui``; the
request-validation errors of webargs (422, and 400 for a body that is not JSON) are rendered in
it here, with each bad field named by its dotted path.  flask-smorest's own app-wide error handler
is not installed (it would replace the HTML error pages of the whole site).
"""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_smorest import Api, Blueprint
from werkzeug.exceptions import BadRequest, HTTPException

from voucher.api.schemas import ErrorResponseSchema
from voucher.errors import N_

API_SETTINGS = {
    "API_TITLE": "voucher API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}
URL_PREFIX = "/api/v1"



NUL_MESSAGE = N_("Text must not contain NUL characters.")
API_DESCRIPTION = (
    "The JSON API of the SME digital-transformation voucher programme. Authenticate with a bearer token "
    "from `POST /api/v1/auth/token`; every request acts as the token's user, with the same rules as the "
    "web pages. Lists are paginated (`?page=&per_page=`, at most 100 per page) and answer "
    "`{\"items\": [...], \"pagination\": {\"page\", \"per_page\", \"total\", \"pages\"}}`. Every error "
    "answers `{\"error\": {\"code\", \"message\", \"fields\"}}` (the message in the request's "
    "`Accept-Language`, Chinese by default). Money is a decimal string in yuan (\"150000.00\"), rates "
    "are percent strings, dates ISO 8601. An object of another organisation answers 403; an id that does "
    "not exist answers 404.")


class VoucherApi(Api):
    """flask-smorest's ``Api`` with the project's error shape and without its app-wide handler."""

    ERROR_SCHEMA = ErrorResponseSchema

    def _register_error_handlers(self):
        # voucher.ui renders HTTP errors (JSON under /api/, HTML elsewhere); see api_blueprint().
        pass


def flatten_messages(messages, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as ``{"periods.0.end": "message"}`` (messages translated)."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            for field, text in flatten_messages(value, name).items():
                out[field] = f"{out[field]} {text}" if field in out else text
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "body"] = " ".join(_(m) for m in messages)
        else:
            for i, value in enumerate(messages):
                out.update(flatten_messages(value, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "body"] = _(str(messages))
    return out


def request_error(error: HTTPException):
    """webargs' refusal of a request (422 invalid fields, 400 body not JSON) in the API's error shape."""
    status = error.code or 400
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors") or {}
    fields: dict[str, str] = {}
    if isinstance(messages, dict):
        for value in messages.values():  # drop the location ("json", "query", ...)
            fields.update(flatten_messages(value))
    elif messages:
        fields = flatten_messages(messages)
    if status == 422:
        code, message = "validation_failed", _("The request has invalid fields: see each field's message.")
    else:
        code, message = "bad_request", _("The request body must be a JSON object.")
    response = jsonify(error={"code": code, "message": message, "fields": fields})
    response.status_code = status
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def _nul_fields(value, prefix: str, out: dict) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            out[prefix or "body"] = NUL_MESSAGE
    elif isinstance(value, dict):
        for key, item in value.items():
            name = str(key).replace("\x00", "")
            _nul_fields(item, f"{prefix}.{name}" if prefix else name, out)
            if "\x00" in str(key):
                out[f"{prefix}.{name}" if prefix else (name or "body")] = NUL_MESSAGE
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _nul_fields(item, f"{prefix}.{i}" if prefix else str(i), out)


def refuse_nul_characters():
    """No text with a NUL character gets in (PostgreSQL cannot store one): 422 naming the field."""
    bad: dict[str, str] = {}
    for key, values in request.args.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            bad[key.replace("\x00", "") or "query"] = NUL_MESSAGE
    if request.is_json:
        try:
            body = request.get_json()
        except BadRequest as exc:
            if _caused_by(exc, JSONTooDeep):  # refused here, before a body parser walks it
                refusal = BadRequest()
                refusal.data = {"messages": {"json": {"body": [
                    _("The request body is nested more than %(n)s levels deep.", n=MAX_JSON_DEPTH)]}}}
                raise refusal from None
            body = None  # not JSON at all: the endpoint's parser answers 400
        _nul_fields(body, "", bad)
    if bad:
        from voucher.errors import ValidationFailed

        raise ValidationFailed(NUL_MESSAGE, fields=bad)


# A request body nested deeper than any of the API's bodies (three or four levels) is refused before
# anything walks it: Python's JSON decoder gives up with RecursionError near a thousand levels, which
# ``get_json(silent=True)`` does not catch (a 500 for ``{"a":{"a":...}}`` sent by anyone).
MAX_JSON_DEPTH = 32


def json_depth_exceeds(value, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a decoded JSON value nests containers more than ``limit`` deep (walked without recursion)."""
    todo = [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, (dict, list)):
            if depth > limit:
                return True
            todo.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


class JSONTooDeep(ValueError):
    """A JSON body nested more than :data:`MAX_JSON_DEPTH` levels deep."""


def _caused_by(exc: BaseException, kind: type) -> bool:
    """Whether ``kind`` is in the exception's chain (Flask re-raises a failed ``get_json`` twice over)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing bodies nested deeper than :data:`MAX_JSON_DEPTH` as invalid JSON: the
    request's ``get_json`` then answers 400 (or None when silent), the API's "body is not a JSON object"."""

    def loads(self, s, **kwargs):
        try:
            value = super().loads(s, **kwargs)
        except RecursionError as exc:
            raise JSONTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from exc
        if json_depth_exceeds(value):
            raise JSONTooDeep(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        return value


def require_json_body():
    """A body the API would not read (form-encoded, plain text) is refused, not ignored: 400, before
    the action runs.  A request without a body (most actions) needs no content type."""
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and not request.is_json and request.get_data(cache=True):
        refusal = BadRequest()
        refusal.data = {"messages": {"json": {"body": [_("Send the body as JSON (Content-Type: application/json).")]}}}
        raise refusal


def api_blueprint(name: str, import_name: str, **kwargs) -> Blueprint:
    """A flask-smorest blueprint for the API, with the API's shape for request-validation errors."""
    kwargs.setdefault("url_prefix", URL_PREFIX)
    blp = Blueprint(name, import_name, **kwargs)
    blp.register_error_handler(422, request_error)
    blp.register_error_handler(400, request_error)
    blp.before_request(require_json_body)
    blp.before_request(refuse_nul_characters)
    return blp


def blueprints() -> list[Blueprint]:
    """Every API blueprint; add one import and one list entry per module."""
    from voucher.api.applications import blp as applications_blp
    from voucher.api.benefits import blp as benefits_blp
    from voucher.api.calculations import blp as calculations_blp
    from voucher.api.calendar import blp as calendar_blp
    from voucher.api.catalogue import blp as catalogue_blp
    from voucher.api.documents import blp as documents_blp
    from voucher.api.enterprises import blp as enterprises_blp
    from voucher.api.parks import blp as parks_blp
    from voucher.api.payments import blp as payments_blp
    from voucher.api.programmes import blp as programmes_blp
    from voucher.api.reconciliation import blp as reconciliation_blp
    from voucher.api.statistics import blp as statistics_blp
    from voucher.api.subsidies import blp as subsidies_blp
    from voucher.api.tokens import blp as tokens_blp
    from voucher.api.trials import blp as trials_blp

    return [tokens_blp, catalogue_blp, enterprises_blp, applications_blp, trials_blp, subsidies_blp, programmes_blp,
            documents_blp, calculations_blp, payments_blp, reconciliation_blp, statistics_blp,
            calendar_blp, parks_blp, benefits_blp]


def configure_api(app: Flask) -> VoucherApi:
    from voucher.extensions import csrf
    from voucher.schema_fields import DecimalString

    for key, value in API_SETTINGS.items():
        app.config.setdefault(key, value)
    from voucher.api.auth import BEARER_SCHEME
    from voucher.api.converters import IdConverter, id_param_schema
    from voucher.api.docs import bp as docs_bp

    app.json = BoundedJSONProvider(app)
    api = VoucherApi(app, spec_kwargs={"info": {"description": API_DESCRIPTION}})
    api.register_field(DecimalString, "string", "decimal")
    app.url_map.converters["id"] = IdConverter
    api.register_converter(IdConverter, id_param_schema)
    api.spec.components.security_scheme(BEARER_SCHEME, {
        "type": "http", "scheme": "bearer",
        "description": "An API token from POST /api/v1/auth/token, sent as \"Authorization: Bearer TOKEN\""})
    for blp in blueprints():
        csrf.exempt(blp)
        api.register_blueprint(blp)
    app.register_blueprint(docs_bp)

    @app.after_request
    def bearer_challenge(response):
        if response.status_code == 401 and request.path.startswith(URL_PREFIX + "/"):
            response.headers.setdefault("WWW-Authenticate", 'Bearer realm="voucher API"')
        return response

    app.extensions["voucher-api"] = api
    return api
