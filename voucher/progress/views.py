"""The public progress look-up page (no login): number + USCC in, the stage out."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from voucher.errors import DomainError
from voucher.extensions import limiter
from voucher.progress import services
from voucher.progress.forms import LookupForm
from voucher.ui import form_errors_from

bp = Blueprint("progress", __name__)


def _limit() -> str:
    return current_app.config.get("PROGRESS_LOOKUP_RATE_LIMIT", "10 per minute;100 per day")


@bp.route("/progress", methods=["GET", "POST"])
@limiter.limit("120 per minute", methods=["GET"])
@limiter.limit(_limit, methods=["POST"])
def lookup():
    form = LookupForm()
    result, not_found, status = None, False, 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                result = services.lookup(form.number.data, form.uscc.data)
            except DomainError as err:
                form_errors_from(err, form)
            else:
                not_found = result is None
                status = 200
    return render_template("progress/lookup.html", form=form, result=result, not_found=not_found), status
