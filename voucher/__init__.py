"""voucher: administration of a city's SME digital-transformation voucher programme.

``create_app`` loads configuration, then runs small ``configure_*`` steps.  The unit of
work is the request (or the job): services only flush; the request commits once at its end
when the response is a success (status < 400) and rolls back otherwise.
"""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from voucher.access import configure_access
from voucher.config import INSECURE_DEFAULT_SECRET, LOCAL_BASE_URL, ROOT, DefaultConfig, normalise_public_base_url


def create_app(config: object | dict | None = None) -> Flask:
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"),
                instance_path=str(ROOT / "instance"))
    configure_config(app, config)
    configure_extensions(app)
    configure_storage(app)
    configure_auth(app)
    configure_i18n(app)
    configure_templates(app)
    configure_access(app)  # the access table (voucher.access): every domain's rules, ``can`` in templates
    configure_unit_of_work(app)
    configure_background_jobs()
    configure_security(app)
    configure_errors(app)
    configure_blueprints(app)
    configure_registries(app)  # grant kinds, transition listeners, builders, start-page cards, audit labels
    configure_working_days()
    configure_api(app)
    configure_cli(app)
    configure_health_probes(app)
    return app


def configure_config(app: Flask, config: object | dict | None) -> None:
    app.config.from_object(DefaultConfig)
    if config is not None:
        if isinstance(config, dict):
            app.config.update(config)
        else:
            app.config.from_object(config)
    app.config.from_prefixed_env("VOUCHER")
    for env_name, key in (("DATABASE_URL", "SQLALCHEMY_DATABASE_URI"), ("REDIS_URL", "REDIS_URL"),
                          ("SECRET_KEY", "SECRET_KEY")):
        if os.environ.get(env_name) and not (isinstance(config, dict) and key in config):
            app.config[key] = os.environ[env_name]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'voucher.db'}"
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # Wait for a concurrent writer instead of failing at once (make run has a web and a worker process).
        timeout = float(app.config["SQLITE_BUSY_TIMEOUT_SECONDS"])
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": timeout},
                                                   **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    else:
        # A connection the server closed (database restarted, idle connection killed) is replaced
        # when taken from the pool instead of failing the request that gets it.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True,
                                                   **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    # Checked at start: a mistyped address would otherwise be printed on every document's QR code.
    app.config["PUBLIC_BASE_URL"] = normalise_public_base_url(app.config.get("PUBLIC_BASE_URL"))
    if not app.config.get("STORAGE_DIR"):
        app.config["STORAGE_DIR"] = str(Path(app.instance_path) / "storage")
    if app.config["ENV_NAME"] == "production":
        if app.config["SECRET_KEY"] == INSECURE_DEFAULT_SECRET or len(app.config["SECRET_KEY"]) < 32:
            raise RuntimeError("Refusing to start in production with the default or a short SECRET_KEY.")
        from voucher.audit.keys import check_production

        check_production(app.config)  # the audit chain's HMAC key, kept outside the database
        from voucher.documents import signing

        signing.check_production(app.config)  # the bureau's signing key, or unsigned documents allowed explicitly
        app.config["SESSION_COOKIE_SECURE"] = True
        if not app.config["PUBLIC_BASE_URL"]:
            app.logger.warning("VOUCHER_PUBLIC_BASE_URL is not set: documents and e-mails will point to %s",
                               LOCAL_BASE_URL)


def configure_storage(app: Flask) -> None:
    """The documents' and uploads' backend (``STORAGE_BACKEND``: filesystem or s3; ``voucher.storage``)."""
    from voucher import storage

    storage.configure(app)


def configure_extensions(app: Flask) -> None:
    from voucher.auth import passwords
    from voucher.extensions import csrf, db, limiter, migrate

    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from voucher.db import make_sqlite_transactional

        with app.app_context():
            make_sqlite_transactional(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    from voucher.auth.throttle import storage_uri

    app.config["RATELIMIT_STORAGE_URI"] = storage_uri(app.config)
    limiter.init_app(app)
    passwords.configure(app.config["ARGON2_TIME_COST"], app.config["ARGON2_MEMORY_COST"],
                        app.config["ARGON2_PARALLELISM"])
    import voucher.models  # noqa: F401  (register every table on the metadata)


def configure_auth(app: Flask) -> None:
    from datetime import timedelta

    from flask import session

    from voucher.auth.services import SessionPolicy, load_session_user
    from voucher.extensions import login_manager

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"
    policy = SessionPolicy(idle=timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
                           absolute=timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"]))

    @login_manager.user_loader
    def load_user(user_id: str):
        return load_session_user(session.get("sid"), user_id, policy)


def configure_i18n(app: Flask) -> None:
    from flask import request, session
    from flask_login import current_user

    from voucher.extensions import babel

    def select_locale() -> str:
        langs = app.config["LANGUAGES"]
        chosen = session.get("lang")
        if chosen in langs:
            return chosen
        if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in langs:
            return current_user.locale
        best = request.accept_languages.best_match(["zh", "zh-CN", "en"]) if request else None
        if best and best.startswith("en"):
            return "en"
        return app.config["BABEL_DEFAULT_LOCALE"]

    babel.init_app(app, locale_selector=select_locale)
    _install_request_translations(app)


def _install_request_translations(app: Flask) -> None:
    """Templates translate through the request's catalogue, looked up once per request and locale.

    Flask-Babel's template callables find the locale and the catalogue again on every string (about
    6 µs: several lookups of ``g`` and the locale's name); a page has 100-300 strings.  The cached
    catalogue is keyed on the locale object itself, so ``force_locale`` (a document in another
    language) gets its own."""
    from flask import g
    from flask_babel import get_translations

    def translations():
        ns = g._flask_babel  # Flask-Babel's per-request namespace, made by get_locale() below
        cached = ns.__dict__.get("voucher_translations")
        if cached is not None and cached[0] is getattr(ns, "babel_locale", None):
            return cached[1]
        catalogue = get_translations()  # sets ns.babel_locale
        ns.voucher_translations = (ns.babel_locale, catalogue)
        return catalogue

    def lookup():
        try:
            return translations()
        except (AttributeError, RuntimeError):  # no namespace yet (the first string), or no app context
            return get_translations()

    app.jinja_env.install_gettext_callables(
        gettext=lambda s: lookup().ugettext(s),
        ngettext=lambda s, p, n: lookup().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: lookup().upgettext(c, s),
        npgettext=lambda c, s, p, n: lookup().unpgettext(c, s, p, n),
    )


def configure_templates(app: Flask) -> None:
    from voucher import ui

    ui.register(app)


def configure_unit_of_work(app: Flask) -> None:
    from flask import request

    from voucher.audit.services import current_ip
    from voucher.extensions import db

    @app.before_request
    def remember_ip():
        current_ip.set(request.remote_addr)

    @app.after_request
    def commit_or_roll_back(response):
        # The one commit point of a request: success commits, anything else rolls back.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def roll_back_on_error(exc):
        if exc is not None:
            db.session.rollback()


def configure_background_jobs() -> None:
    """The after-commit listeners (jobs enqueued once a transaction commits), installed here once,
    never while SQLAlchemy runs listeners (see ``voucher.tasks``)."""
    from voucher.tasks import register_after_commit

    register_after_commit()


def configure_security(app: Flask) -> None:
    from flask import g, render_template, request
    from flask_babel import gettext

    from voucher.errors import N_, ValidationFailed
    from voucher.forms import nul_names

    # PostgreSQL text cannot hold NUL; no legitimate form or query value contains one. A refusal is
    # a validation failure (422) naming the field, as in the API (which refuses it itself).
    nul_message = N_("“%(name)s” contains a character that is not allowed (NUL).")

    @app.before_request
    def refuse_nul_characters():
        if request.path.startswith("/api/"):
            return
        in_query = nul_names(request.args)
        if in_query:  # a search or filter in the address: nothing runs
            raise ValidationFailed(nul_message, field=in_query[0], name=in_query[0])
        # In a form: its field says so (voucher.forms.VoucherForm); what no form read, refuse_unread_nul.
        g.nul_form_fields = nul_names(request.form)

    from voucher.auth.policy import no_store_when_signed_in

    app.after_request(no_store_when_signed_in)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; frame-ancestors 'none'; form-action 'self'")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response

    @app.after_request
    def refuse_unread_nul(response):
        # Runs before the unit of work's commit (registered later): a form sent with a NUL answers 422,
        # so nothing is saved — the form's page with the field's message when a form refused it,
        # otherwise the error page naming the field.
        names = g.get("nul_form_fields")
        if not names or response.status_code >= 400:
            return response
        if response.status_code == 200 and g.get("nul_refused_by_form"):
            response.status_code = 422
            return response
        message = ValidationFailed(nul_message, name=names[0]).render(gettext)
        return app.make_response((render_template("errors/error.html", status=422, message=message), 422))


def configure_errors(app: Flask) -> None:
    from voucher import ui

    ui.register_error_handlers(app)


def configure_blueprints(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter

    from voucher.blueprints import BLUEPRINTS

    class DatabaseInt(IntegerConverter):
        """``<int:...>`` ids beyond what an INTEGER column holds are a 404, not a database error;
        only ASCII digits match (``\\d`` would take Arabic-Indic or full-width digits)."""

        regex = r"[0-9]+"

        def __init__(self, map, *args, **kwargs):
            kwargs.setdefault("max", 2_147_483_647)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseInt

    for bp in BLUEPRINTS():
        app.register_blueprint(bp)


def configure_registries(app: Flask) -> None:
    """Fill the registries other domains plug into, in one step (never as a side effect of an import)."""
    from voucher.registries import configure_registries as fill

    fill(app)


def configure_working_days() -> None:
    """Working days count with the years the bureau entered (read per request or job) before the
    chinese-calendar package's data."""
    from voucher import workdays
    from voucher.workcalendar.services import published_years

    workdays.use_published_years(published_years)


def configure_api(app: Flask) -> None:
    from voucher.api import configure_api as bind_api

    bind_api(app)


def configure_health_probes(app: Flask) -> None:
    """``/healthz`` and ``/readyz``, answered in front of the application (no session, login or limit)."""
    from voucher import health

    health.install(app)


def configure_cli(app: Flask) -> None:
    from voucher.cli import voucher_cli

    app.cli.add_command(voucher_cli)
