"""Production guards: the demo data cannot be loaded into production, and nothing a signed-in user
sees (bank accounts, payment orders) is kept by the browser or a proxy."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.factories import do_login


def test_seed_demo_refuses_in_production(tmp_path):
    from flask_migrate import upgrade

    from voucher import create_app
    from voucher.auth.models import User
    from voucher.extensions import db

    app = create_app({"ENV_NAME": "production", "SECRET_KEY": "s" * 40, "AUDIT_KEYS": "k1:" + "a" * 40,
                      "SIGNING_ALLOW_UNSIGNED": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.db'}",
                      "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None})
    with app.app_context():
        upgrade()
        result = app.test_cli_runner().invoke(args=["voucher", "seed-demo"])
        assert result.exit_code == 1 and "REFUSED" in result.output
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.session.remove()
        db.engine.dispose()


def test_pages_for_a_signed_in_user_are_not_stored(client, make_user, make_org):
    from voucher.extensions import db

    enterprise = make_org("enterprise")
    enterprise.bank_account = "6222020200112233445"
    db.session.flush()
    do_login(client, make_user("sme", enterprise))
    page = client.get("/enterprise")
    assert page.status_code == 200 and "6222020200112233445" in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    officer = client.application.test_client()
    do_login(officer, make_user("officer"))
    listing = officer.get(f"/enterprises/{enterprise.id}")
    assert listing.status_code == 200 and "no-store" in listing.headers["Cache-Control"]
    export = officer.get("/enterprises/?format=csv")
    assert export.status_code == 200 and "no-store" in export.headers["Cache-Control"]


def test_public_pages_and_static_files_stay_cacheable(client, make_user):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")
    do_login(client, make_user("officer"))
    static = client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
