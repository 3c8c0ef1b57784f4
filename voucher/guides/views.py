"""Pages: the public programme guides (办事指南), their versions, and the officer's edit form."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from voucher.access import can
from voucher.auth.policy import current_actor, roles_required
from voucher.errors import DomainError, Forbidden, NotFound
from voucher.extensions import limiter
from voucher.guides import queries, services
from voucher.guides.access import RULES as ACCESS
from voucher.guides.content import FORMATS
from voucher.guides.forms import GuideForm
from voucher.guides.models import GUIDE_KINDS
from voucher.pagination import bounded_int
from voucher.ui import form_errors_from

bp = Blueprint("guides", __name__, url_prefix="/guide")


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "zh"


def _programme(programme_id: int, kind: str):
    try:
        return services.get_programme_for(programme_id, kind)
    except NotFound:
        abort(404)


@bp.get("/")
@limiter.limit("120 per minute")
def index():
    """Every programme's guides, one per kind it funds."""
    return render_template("guides/index.html", rows=queries.index_rows(), kinds=GUIDE_KINDS)


@bp.get("/<any(trial_voucher, loan_discount, robot_subsidy):kind>")
@limiter.limit("120 per minute")
def for_kind(kind: str):
    """The guide of ``kind`` in the programme open now (the links on the forms and the landing page)."""
    programme = queries.programme_for_kind(kind)
    if programme is None:
        return redirect(url_for("guides.index"))
    return redirect(url_for("guides.show", programme_id=programme.id, kind=kind))


@bp.get("/<int:programme_id>/<any(trial_voucher, loan_discount, robot_subsidy):kind>")
@limiter.limit("120 per minute")
def show(programme_id: int, kind: str):
    """The guide in force, or an older version (``?version=N``)."""
    programme = _programme(programme_id, kind)
    version = None
    if "version" in request.args:
        version = bounded_int(request.args.get("version"), minimum=0)
        if version is None:
            abort(404)
    page = queries.guide_page(programme, kind, version)
    if page is None:
        abort(404)
    may_edit = can(current_user, "guides.edit")
    return render_template("guides/show.html", page=page, lang=_lang(), limits=queries.time_limits(programme),
                           formats=FORMATS, may_edit=may_edit)


@bp.get("/<int:programme_id>/<any(trial_voucher, loan_discount, robot_subsidy):kind>/versions")
@limiter.limit("120 per minute")
def versions(programme_id: int, kind: str):
    programme = _programme(programme_id, kind)
    return render_template("guides/versions.html", programme=programme, kind=kind,
                           rows=queries.versions(programme.id, kind))


@bp.route("/<int:programme_id>/<any(trial_voucher, loan_discount, robot_subsidy):kind>/edit",
          methods=["GET", "POST"])
@roles_required(*ACCESS["guides.edit"].roles)
def edit(programme_id: int, kind: str):
    """The officer's form: every save that changes something publishes a new version."""
    programme = _programme(programme_id, kind)
    status = 200
    if request.method == "POST":
        form = GuideForm()
        if form.validate():
            try:
                version = services.save_guide(current_actor(), programme.id, kind, form.content(),
                                              base_version=form.base(), change_note=form.change_note.data or "")
            except (Forbidden, NotFound):
                raise
            except DomainError as err:
                form_errors_from(err, form)
            else:
                if version is None:
                    flash(_("Nothing changed: no new version was made."), "info")
                else:
                    flash(_("Version %(version)s of the guide is published.", version=version.version), "success")
                return redirect(url_for("guides.show", programme_id=programme.id, kind=kind))
        form.add_blank_rows()
        status = 422
    else:
        page = queries.guide_page(programme, kind)
        form = GuideForm.for_content(page.content, page.version)
    return render_template("guides/edit.html", form=form, programme=programme, kind=kind,
                           limits=queries.time_limits(programme), formats=FORMATS), status
