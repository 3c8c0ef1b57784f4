"""`/api/v1/auth/*`: bearer tokens (issue with e-mail and password, list, revoke)."""
from __future__ import annotations

from flask import current_app
from flask.views import MethodView

from voucher.api import api_blueprint
from voucher.api.auth import Unauthenticated, api_actor
from voucher.api.common import PageArgs, auth, errors, page_json, page_schema, paginate_select
from voucher.auth import services as auth_services
from voucher.auth import tokens
from voucher.auth.schemas import IssuedTokenSchema, TokenListArgs, TokenRequestSchema, TokenSchema
from voucher.auth.throttle import login_limits
from voucher.auth.tokens import ApiToken
from voucher.errors import N_

blp = api_blueprint("api-tokens", __name__, description="API tokens: get a bearer token with e-mail and password, "
                    "list your tokens, revoke one. Send the token as \"Authorization: Bearer TOKEN\".")

TokenPage = page_schema("TokenPage", TokenSchema)




WRONG_CREDENTIALS = N_("Unknown e-mail or wrong password (or the account is deactivated).")


class TokenListQuery(PageArgs, TokenListArgs):
    pass


@blp.route("/auth/token", methods=["POST"])
@login_limits()
@errors(blp, 400, 401, 429)
@blp.arguments(TokenRequestSchema)
@blp.response(201, IssuedTokenSchema)
def issue_token(body):
    """Issue a bearer token for an e-mail and password (rate-limited like the login page).

    The secret (`token`) is shown in this response only: store it safely. It expires after
    `expires_in_days` (default 30 days). It stops working when revoked, when the account is
    deactivated, and when the account's password is changed or reset.
    """
    user = auth_services.authenticate(body["email"], body["password"])
    if user is None:
        raise Unauthenticated(WRONG_CREDENTIALS)
    issued = tokens.issue_token(user, name=body.get("name"), days=body.get("expires_in_days"),
                                default_days=int(current_app.config.get("API_TOKEN_DAYS", tokens.DEFAULT_DAYS)),
                                max_days=tokens.MAX_DAYS)
    token = issued.token
    token.token = issued.secret
    token.token_type = "Bearer"
    return token


@blp.route("/auth/tokens")
class TokenList(MethodView):
    @auth(blp)
    @blp.arguments(TokenListQuery, location="query")
    @blp.response(200, TokenPage)
    def get(self, args):
        """The caller's tokens, newest first (administrators: everyone's; filter with `user_id`)."""
        stmt = tokens.tokens_query(api_actor(), user_id=args.get("user_id"), state=args.get("state"))
        return page_json(paginate_select(stmt, args, keys=[ApiToken.created_at, ApiToken.id],
                                         list_name="api-tokens"))


@blp.route("/auth/tokens/<id:token_id>")
class TokenItem(MethodView):
    @auth(blp)
    @errors(blp, 404)
    @blp.response(200, TokenSchema)
    def get(self, token_id: int):
        """One token's record (its owner or an administrator)."""
        return tokens.get_token(api_actor(), token_id)

    @auth(blp)
    @errors(blp, 404)
    @blp.response(200, TokenSchema)
    def delete(self, token_id: int):
        """Revoke a token (its owner or an administrator): it stops working at once."""
        return tokens.revoke_token(api_actor(), token_id)
