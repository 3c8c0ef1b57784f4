"""The patterns every API resource module uses (see docs/API.md, "Adding a resource").

- :func:`auth` — the bearer-token gate (``api_auth_required``) plus its OpenAPI security
  requirement, the roles in the description and the 401/403 responses;
- :func:`errors` — documents the error responses an operation can give (all in the one shape);
- pagination — :class:`PageArgs` (``?page=&per_page=``, at most :data:`MAX_PER_PAGE`),
  :func:`page_schema` (the envelope ``{"items": [...], "pagination": {...}}``) and
  :func:`page_json`;
- :func:`renamed_fields` — when the API's field names differ from a service's form names.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import marshmallow as ma

from voucher.api.auth import BEARER_SCHEME, api_auth_required
from voucher.api.schemas import ErrorResponseSchema
from voucher.errors import DomainError
from voucher.reference import ROLES
from voucher.schema_fields import WholeRange

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_PAGE = 100_000

ERROR_DESCRIPTIONS = {
    400: "Bad request: the body is not a JSON object (error shape)",
    401: "No valid API token (error shape; WWW-Authenticate: Bearer)",
    403: "The caller's role or organisation may not do this (error shape)",
    404: "No such object (error shape)",
    409: "Not possible in the object's current state, or a duplicate (error shape)",
    413: "The request body is too large (error shape)",
    422: "Invalid fields or a business rule refused the request; `fields` names each bad field (error shape)",
    429: "Too many attempts: wait and retry (error shape)",
}


def errors(blp, *codes: int):
    """Document the error responses (the API's one error shape) an operation can answer."""

    def decorator(func):
        for code in sorted(set(codes), reverse=True):
            func = blp.alt_response(code, schema=ErrorResponseSchema, description=ERROR_DESCRIPTIONS[code])(func)
        return func

    return decorator


def auth(blp, *roles: str):
    """``api_auth_required(*roles)`` with its documentation: the bearer security requirement, the
    roles allowed in the description (``x-roles`` too) and the 401/403 responses.

    Put it above ``@blp.arguments`` so a request without a token gets 401 before its body is read.
    """
    allowed = list(roles) if roles else list(ROLES)

    def decorator(func):
        from flask_smorest.utils import load_info_from_docstring

        info = load_info_from_docstring(func.__doc__ or "")
        manual = getattr(func, "_apidoc", {}).get("manual_doc", {})
        description = (manual.get("description") or info.get("description") or "").strip()
        who = "any authenticated role" if not roles else ", ".join(allowed)
        description = (description + "\n\n" if description else "") + f"**Roles:** {who}."
        gated = api_auth_required(*roles)(func)
        gated = blp.doc(security=[{BEARER_SCHEME: []}], description=description,
                        **{"x-roles": allowed})(gated)
        gated = errors(blp, 401, 403)(gated)
        gated.api_roles = frozenset(allowed)
        return gated

    return decorator


# --- pagination ------------------------------------------------------------------------------

class PageArgs(ma.Schema):
    """``?page=`` (from 1) and ``?per_page=`` (1 to 100, default 20); a page past the end is empty."""

    page = ma.fields.Integer(load_default=1, validate=WholeRange(1, MAX_PAGE),
                             metadata={"description": "Page number, from 1"})
    per_page = ma.fields.Integer(load_default=DEFAULT_PER_PAGE, validate=WholeRange(1, MAX_PER_PAGE),
                                 metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}"})
    cursor = ma.fields.String(load_default=None, validate=ma.validate.Length(max=1000), metadata={
        "description": "Keyset paging (lists that give `pagination.next_cursor`): the `next_cursor` or "
                       "`prev_cursor` of the previous answer; `page` is then ignored. Stable while rows "
                       "are added and fast at any depth. An altered cursor gives 400 `bad_cursor`."})


class PaginationSchema(ma.Schema):
    page = ma.fields.Integer(required=True)
    per_page = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True, metadata={"description": "Items matching the filters"})
    pages = ma.fields.Integer(required=True, metadata={"description": "Number of pages (0 when nothing matches)"})
    total_capped = ma.fields.Boolean(metadata={"description": "Keyset lists: `total` stopped counting at this "
                                                              "many (there are more)"})
    next_cursor = ma.fields.String(allow_none=True, metadata={"description": "Keyset lists: `?cursor=` for "
                                                                             "the next page (null: last page)"})
    prev_cursor = ma.fields.String(allow_none=True, metadata={"description": "Keyset lists: `?cursor=` for "
                                                                             "the previous page"})
    next = ma.fields.String(allow_none=True, metadata={"description": "Keyset lists: the URL of the next page "
                                                                      "(this request with `cursor=next_cursor`; "
                                                                      "null on the last page)"})
    prev = ma.fields.String(allow_none=True, metadata={"description": "Keyset lists: the URL of the previous page"})


def page_schema(name: str, item_schema) -> type[ma.Schema]:
    """The list envelope ``{"items": [item, ...], "pagination": {page, per_page, total, pages}}``."""
    return type(name, (ma.Schema,), {
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "pagination": ma.fields.Nested(PaginationSchema, required=True),
        "__doc__": f"One page of {name.removesuffix('PageSchema').removesuffix('Page')} items.",
    })


def page_json(pagination, items=None) -> dict:
    """The envelope for a Flask-SQLAlchemy pagination (or any object with items/page/per_page/total),
    or a :class:`~voucher.pagination.KeysetPage` (then ``page`` is 0 and the cursors are given)."""
    total = int(pagination.total or 0)
    per_page = int(pagination.per_page)
    body = {"items": list(pagination.items if items is None else items),
            "pagination": {"page": int(getattr(pagination, "page", 0) or 0), "per_page": per_page, "total": total,
                           "pages": math.ceil(total / per_page) if total else 0}}
    if hasattr(pagination, "next_cursor"):
        body["pagination"].update(next_cursor=pagination.next_cursor, prev_cursor=pagination.prev_cursor,
                                  total_capped=bool(getattr(pagination, "total_capped", False)),
                                  next=_cursor_link(pagination.next_cursor), prev=_cursor_link(pagination.prev_cursor))
    return body


def _cursor_link(cursor: str | None) -> str | None:
    """This request's URL with ``cursor`` (and without ``page``): the next or previous page."""
    if cursor is None:
        return None
    from flask import has_request_context, request, url_for

    if not has_request_context() or request.endpoint is None:
        return None
    args = request.args.to_dict()
    args.pop("page", None)
    args["cursor"] = cursor
    return url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)


def paginate_select(stmt, args: dict, *, keys=None, list_name: str | None = None):
    """One page of ``stmt``.  With ``keys`` (unique sort columns, all descending, primary key last)
    the list is keyset-paged: ``?cursor=`` seeks, and every answer carries ``next_cursor`` (on
    ``?page=`` answers too, so a client can switch); ``stmt`` must then have no ORDER BY of its own
    beyond ``keys``.  Without ``keys``: ``?page=`` by OFFSET as before."""
    from voucher.extensions import db
    from voucher.pagination import encode_cursor, keyset_paginate

    if keys is None:
        return db.paginate(stmt, page=args["page"], per_page=args["per_page"], error_out=False)
    if args.get("cursor") or args["page"] == 1:
        return keyset_paginate(stmt.order_by(None), keys, list_name=list_name, cursor=args.get("cursor"),
                               per_page=args["per_page"])
    page = db.paginate(stmt.order_by(None).order_by(*[k.desc() for k in keys]), page=args["page"],
                       per_page=args["per_page"], error_out=False)
    page.next_cursor = (encode_cursor(list_name, "next", [getattr(page.items[-1], k.key) for k in keys])
                        if page.items and page.has_next else None)
    page.prev_cursor = (encode_cursor(list_name, "prev", [getattr(page.items[0], k.key) for k in keys])
                        if page.items and page.has_prev else None)
    return page


# --- field names -----------------------------------------------------------------------------

@contextmanager
def renamed_fields(mapping: dict[str, str]):
    """Rename a refused service call's field names to the API's (``baseline_x`` → ``baselines.x``)."""
    try:
        yield
    except DomainError as err:
        err.fields = {mapping.get(k, k): v for k, v in err.fields.items()}
        if err.field:
            err.field = mapping.get(err.field, err.field)
        problems = getattr(err, "problems", None)
        if problems is not None:
            err.problems = [(mapping.get(f, f), m, p) for f, m, p in problems]
        raise
