"""Shared page plumbing: template filters, role navigation, error pages, form helpers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, flash, jsonify, render_template, request
from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from voucher import reference
from voucher.errors import DomainError
from voucher.money import format_money


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object
    roles: frozenset[str]
    section: str | None = None  # a key of SECTIONS; None: always a top-level link


# The menu's sections, in their order, for the roles with more links than fit on one line (GROUP_OVER):
# each section is a drop-down on a desktop and a headed group in the phone's menu.
SECTIONS = {
    "review": _l("Review"),
    "trials": _l("Trials and evaluation"),
    "payments": _l("Funds"),
    "registers": _l("Registers"),
    "settings": _l("Settings"),
    "public": _l("Public information"),
}
GROUP_OVER = 8


# One list; an entry shows only when its endpoint exists and the user's role is listed.
NAV = (
    NavItem("dashboard.home", _l("Home"), frozenset(reference.ROLES)),
    NavItem("enterprises.my_enterprise", _l("My enterprise"), frozenset({"sme"})),
    NavItem("applications.my_applications", _l("My applications"), frozenset({"sme"})),
    NavItem("catalogue.my_solutions", _l("My solutions"), frozenset({"provider"})),
    NavItem("enterprises.provider_profile", _l("Provider profile"), frozenset({"provider"})),
    NavItem("catalogue.screening_queue", _l("Screening"), frozenset({"evaluator"})),
    NavItem("applications.review_queue", _l("Applications"), frozenset({"officer", "auditor"}), "review"),
    NavItem("programmes.index", _l("Programmes"), frozenset({"officer", "finance", "auditor"}), "settings"),
    NavItem("enterprises.index", _l("Enterprises"), frozenset({"officer", "auditor"}), "registers"),
    NavItem("catalogue.manage", _l("Solutions"), frozenset({"officer", "finance", "auditor"}), "registers"),
    NavItem("audit.index", _l("Audit trail"), frozenset({"auditor", "admin"})),
    NavItem("admin.users", _l("Users"), frozenset({"admin"}), "settings"),
    NavItem("subsidies.my_loans", _l("Loan discount"), frozenset({"sme"})),
    NavItem("subsidies.my_robots", _l("Robot subsidy"), frozenset({"sme"})),
    NavItem("subsidies.review_queue", _l("Subsidy applications"), frozenset({"officer", "auditor"}), "review"),
    NavItem("amendments.queue", _l("Amendment requests"), frozenset({"officer"}), "review"),
    NavItem("subsidies.lpr_rates", _l("LPR rates"), frozenset({"officer"}), "settings"),
    NavItem("workcalendar.index", _l("Working-day calendar"), frozenset({"officer", "finance", "auditor", "admin"}), "settings"),
    NavItem("trials.index", _l("Trials"), frozenset({"officer", "finance", "auditor"}), "trials"),
    NavItem("trials.mine", _l("My trials"), frozenset({"provider", "sme"})),
    NavItem("trials.evaluations_mine", _l("My evaluations"), frozenset({"evaluator"})),
    NavItem("trials.recommendations", _l("Recommendation candidates"), frozenset({"officer", "auditor"}), "trials"),
    NavItem("trials.ranking", _l("Solution ranking"), frozenset({"officer", "auditor"}), "trials"),
    NavItem("payments.queue", _l("Payment queue"), frozenset({"finance"}), "payments"),
    NavItem("payments.disbursements", _l("Disbursements"), frozenset({"finance", "officer", "auditor"}), "payments"),
    NavItem("payments.batches", _l("Payment batches"), frozenset({"finance", "auditor"}), "payments"),
    NavItem("payments.notices", _l("Public notices"), frozenset({"officer", "finance", "auditor"}), "payments"),
    NavItem("payments.reports", _l("Reports"), frozenset({"officer", "finance", "auditor"}), "payments"),
    NavItem("documents.jobs", _l("Document jobs"), frozenset({"finance", "admin", "officer", "auditor"}), "payments"),
    NavItem("risk.index", _l("Risk signals"), frozenset({"officer", "finance", "auditor"}), "registers"),
    NavItem("maturity.index", _l("Self-assessment"), frozenset({"sme"})),
    NavItem("maturity.overview", _l("Digital maturity"), frozenset({"officer", "auditor"}), "registers"),
    NavItem("parks.index", _l("Parks"), frozenset({"park_operator", "officer", "auditor"}), "registers"),
    NavItem("parks.manage", _l("Register parks"), frozenset({"officer", "admin"}), "registers"),
    NavItem("parks.mine", _l("My park"), frozenset({"sme"})),
    NavItem("payments.mine", _l("Payments received"), frozenset({"provider", "sme"})),
    NavItem("catalogue.public_list", _l("Solution catalogue"), frozenset(reference.ROLES), "public"),
    NavItem("guides.index", _l("Programme guides"), frozenset(reference.ROLES), "public"),
    # The published notices (公示) for the roles without the bureau's notices page above.
    NavItem("payments.public_notices", _l("Public notices"),
            frozenset(reference.ROLES) - {"officer", "finance", "auditor"}, "public"),
    NavItem("subsidies.calculator_loan", _l("Subsidy calculators"), frozenset(reference.ROLES), "public"),
)


money = format_money


def dt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def nav_items():
    from flask import current_app

    if not current_user.is_authenticated:
        return []
    return [item for item in NAV
            if current_user.role in item.roles and item.endpoint in current_app.view_functions]


@dataclass(frozen=True)
class NavSection:
    key: str
    label: object
    items: list[NavItem]


def nav_menu(items: list[NavItem] | None = None) -> list[NavItem | NavSection]:
    """The menu as shown: ``items`` (default: the user's :func:`nav_items`) in their order; for a role
    with more than ``GROUP_OVER`` links, the links without a section, then the sections (of two links
    or more) in ``SECTIONS`` order.  Every link appears exactly once either way."""
    items = nav_items() if items is None else items
    if len(items) <= GROUP_OVER:
        return list(items)
    menu: list[NavItem | NavSection] = []
    sections: dict[str, NavSection] = {}
    for item in items:
        if item.section is None:
            menu.append(item)
        elif item.section in sections:
            sections[item.section].items.append(item)
        else:
            sections[item.section] = NavSection(item.section, SECTIONS[item.section], [item])
            menu.append(sections[item.section])
    order = list(SECTIONS)
    flat = [entry for entry in menu if isinstance(entry, NavItem)]
    grouped = sorted((entry for entry in menu if isinstance(entry, NavSection)), key=lambda e: order.index(e.key))
    # Top-level links first (Home, the role's own pages), then the sections in their fixed order; a
    # section of one link is that link.
    return [*flat, *(entry.items[0] if len(entry.items) == 1 else entry for entry in grouped)]


def unread_notifications() -> int:
    from voucher.notifications.queries import unread_count

    return unread_count(current_user.id) if current_user.is_authenticated else 0


def has_endpoint(name: str) -> bool:
    from flask import current_app

    return name in current_app.view_functions


def register(app: Flask) -> None:
    from voucher.audit.labels import event_label, object_label

    app.jinja_env.globals["event_label"] = event_label
    app.jinja_env.globals["object_label"] = object_label
    app.jinja_env.globals["has_endpoint"] = has_endpoint
    from flask_babel import get_locale

    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["dt"] = dt
    app.jinja_env.globals["nav_items"] = nav_items
    app.jinja_env.globals["nav_menu"] = nav_menu
    app.jinja_env.globals["ref"] = reference
    app.jinja_env.globals["label"] = reference.label
    from voucher.appnumbers import number_of

    app.jinja_env.globals["application_number"] = number_of
    app.jinja_env.add_extension("jinja2.ext.do")


def form_errors_from(error: DomainError, form) -> None:
    """Put a refused service call's messages on the form's fields (or flash them)."""
    messages = error.field_messages(gettext)
    placed = False
    for name, message in messages.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors or []) + [message]
            placed = True
    if not placed:
        flash(error.render(gettext), "danger")


def add_service_errors(form, check) -> None:
    """All errors in one round: the form refused some fields, so the service was not called; run
    its pure check (``check()``, which raises a DomainError naming fields) and add its messages to
    the fields the form did not already refuse."""
    try:
        check()
    except DomainError as err:
        for name, message in err.field_messages(gettext).items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors") and not field.errors:
                field.errors = list(field.errors or []) + [message]


def wants_json() -> bool:
    return request.path.startswith("/api/")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        if wants_json():
            return jsonify(error={"code": error.code, "message": error.render(gettext),
                                  "fields": error.field_messages(gettext)}), error.status
        return render_template("errors/error.html", status=error.status,
                               message=error.render(gettext)), error.status

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database is restarting or unreachable (or SQLite stayed locked beyond its busy
        # timeout): a passing state, answered 503 with a retry hint; anything else stays a 500.
        sqlite_busy = "database is locked" in str(error.orig) or "database is busy" in str(error.orig)
        if not (error.connection_invalidated or sqlite_busy
                or not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")):
            raise error
        app.logger.warning("database unavailable, answered 503: %s", str(error.orig).splitlines()[0])
        message = str(_l("The database is busy or restarting. Please try again in a moment."))
        headers = {"Retry-After": "5"}
        if wants_json():
            return jsonify(error={"code": "database_unavailable", "message": message, "fields": {}}), 503, headers
        return render_template("errors/error.html", status=503, message=message), 503, headers

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        messages = {
            400: _l("The request could not be understood (for example a missing or expired form token). Reload the page and try again."),
            403: _l("You do not have permission to see or do this."),
            404: _l("This page does not exist."),
            405: _l("This action must be submitted through its form."),
            413: _l("The upload is too large."),
            429: _l("Too many attempts. Please wait a minute and try again."),
        }
        message = str(messages.get(status, error.description))
        if wants_json():
            return jsonify(error={"code": error.name.lower().replace(" ", "_"), "message": message,
                                  "fields": {}}), status
        return render_template("errors/error.html", status=status, message=message), status
