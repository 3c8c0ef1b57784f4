"""Bearer-token authentication of the JSON API and the role gate of each endpoint.

``@api_auth_required("officer", ...)`` on a view:

1. reads ``Authorization: Bearer <token>`` (a browser session cookie is *not* accepted: the API
   is exempt from CSRF, so only an explicit credential may authenticate it);
2. resolves the token with :func:`voucher.auth.tokens.user_for_secret` (revoked, expired, a
   deactivated user or a token older than the last password change → 401 in the error shape,
   with ``WWW-Authenticate: Bearer``);
3. makes that user flask-login's ``current_user`` for this request only (``g._login_user``; no
   session is opened), so :func:`api_actor` and ``voucher.auth.policy.current_actor`` give the
   same :class:`~voucher.audit.services.Actor` (``user.actor()``) the web pages use;
4. refuses a role not listed with 403 in the error shape.

Object-level rules are not repeated here: the views call the domain services, which raise
``Forbidden`` (403) / ``NotFound`` (404) exactly as for the web pages.

The message language is the request's (``Accept-Language``; Chinese by default), fixed before the
user is attached so a user's stored web preference does not override what the client asked for.
"""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import get_locale

from voucher.audit.services import Actor
from voucher.errors import N_, DomainError, Forbidden
from voucher.reference import ROLES

BEARER_SCHEME = "bearerAuth"


class Unauthenticated(DomainError):
    """No valid API token: 401 in the API's error shape."""

    status = 401
    code = "unauthorized"



NO_TOKEN = N_("Authentication required: send a valid API token as \"Authorization: Bearer <token>\". "
              "Get one with POST /api/v1/auth/token.")
BAD_TOKEN = N_("The API token is not valid: it is unknown, revoked or expired, or its account is deactivated "
               "or has a new password. Get a new token with POST /api/v1/auth/token.")
ROLE_REFUSED = N_("You do not have permission to see or do this.")


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def authenticate_request():
    """The user of the request's bearer token (also flask-login's ``current_user``), or 401."""
    from voucher.auth.tokens import user_for_secret

    get_locale()  # the request's language, chosen before a user is attached (see the module docstring)
    secret = bearer_secret()
    if secret is None:
        raise Unauthenticated(NO_TOKEN)
    user = user_for_secret(secret)
    if user is None:
        raise Unauthenticated(BAD_TOKEN)
    g._login_user = user
    g.api_user = user
    return user


def api_auth_required(*roles: str):
    """Let in only requests with a valid bearer token whose user's role is one of ``roles``
    (all roles when none are given)."""
    allowed = frozenset(roles or ROLES)
    unknown = allowed - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = authenticate_request()
            if user.role not in allowed:
                raise Forbidden(ROLE_REFUSED)
            return view(*args, **kwargs)

        wrapped.api_roles = allowed  # read by the access tests and the docs
        return wrapped

    return decorator


def api_actor() -> Actor:
    """The Actor of the authenticated API request (only inside an ``api_auth_required`` view)."""
    return g.api_user.actor()


def optional_user():
    """The bearer token's user when a valid token is sent, else None (for public endpoints that
    show more to some callers); a token that is sent but invalid is still a 401."""
    if bearer_secret() is None:
        return None
    return authenticate_request()
