"""API schemas of the authentication endpoints (bearer tokens)."""
from __future__ import annotations

import marshmallow as ma

from voucher.auth.tokens import LABEL_MAX, MAX_DAYS
from voucher.schema_fields import ID_MAX, Choice, Length, WholeRange


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class TokenRequestSchema(_Strict):
    email = ma.fields.String(required=True, validate=Length(1, 254))
    password = ma.fields.String(required=True, validate=Length(1, 1000), metadata={"format": "password"})
    name = ma.fields.String(load_default=None, validate=Length(1, LABEL_MAX),
                            metadata={"description": "A label to tell your tokens apart (default \"API token\")"})
    expires_in_days = ma.fields.Integer(strict=True, load_default=None, validate=WholeRange(1, MAX_DAYS),
                                        metadata={"description": "Lifetime in days (default 30, configurable "
                                                                 "with API_TOKEN_DAYS)"})


class TokenSchema(ma.Schema):
    """A token's record (never its secret)."""

    id = ma.fields.Integer(required=True)
    user_id = ma.fields.Integer(required=True)
    user_email = ma.fields.String(required=True, attribute="user.email")
    name = ma.fields.String(required=True)
    hint = ma.fields.String(required=True, metadata={"description": "The first characters of the secret"})
    state = ma.fields.Method("get_state", required=True,
                             metadata={"type": "string", "enum": ["active", "expired", "revoked"]})
    created_at = ma.fields.DateTime(required=True)
    last_used_at = ma.fields.DateTime(required=True, allow_none=True)
    expires_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(required=True, allow_none=True)

    def get_state(self, token) -> str:
        return token.state()


class IssuedTokenSchema(TokenSchema):
    """The new token: ``token`` is the secret, shown this once only (only its hash is stored)."""

    token = ma.fields.String(required=True, metadata={"description": "The bearer secret: send it as "
                                                                     "\"Authorization: Bearer TOKEN\""})
    token_type = ma.fields.String(required=True, metadata={"enum": ["Bearer"]})


class TokenListArgs(ma.Schema):
    user_id = ma.fields.Integer(validate=WholeRange(1, ID_MAX),
                                metadata={"description": "Administrators: only this user's tokens"})
    state = ma.fields.String(validate=Choice(("active", "expired", "revoked")))
