"""The data migration d7b3f1a9c2e4: a saved trial-voucher guide's materials take the application
form's codes (need_statement → trial_plan, trial_contract → quotation), forward and back; other
kinds and rows are left alone."""
from __future__ import annotations

from sqlalchemy import text

from voucher.extensions import db

BEFORE = "c5a2e7b90d13"


def _codes() -> list[tuple[int, str]]:
    return db.session.execute(text("SELECT version_id, code FROM guide_material ORDER BY version_id, position")
                              ).tuples().all()


def test_saved_trial_guides_take_the_forms_material_codes(tmp_path, redis_url):
    from flask_migrate import downgrade, upgrade

    from voucher import create_app
    from voucher.config import TestConfig

    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'codes.db'}",
                      "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": redis_url})
    with app.app_context():
        try:
            upgrade(revision=BEFORE)
            from tests.factories import build_programme

            programme = build_programme(rule_version=False)  # no rule_version table yet at this revision
            run = db.session.execute
            for gid, kind in ((1, "trial_voucher"), (2, "loan_discount")):
                run(text("INSERT INTO programme_guide (id, programme_id, kind, current_version, updated_at) "
                         "VALUES (:g, :p, :k, 1, '2026-01-01 00:00:00')"), {"g": gid, "k": kind, "p": programme.id})
                run(text("INSERT INTO guide_version (id, guide_id, version, saved_by_label, saved_at, change_note, "
                         "eligibility_zh, eligibility_en, enterprise_pays_zh, enterprise_pays_en, contact_phone, "
                         "contact_hours_zh, contact_hours_en, basis, faq) VALUES (:g, :g, 1, '', "
                         "'2026-01-01 00:00:00', '', 'x', 'x', 'x', 'x', '1', '', '', '[]', '[]')"), {"g": gid})
                for pos, code in enumerate(("business_licence", "need_statement", "trial_contract"), start=1):
                    run(text("INSERT INTO guide_material (version_id, position, code, name_zh, name_en, required, "
                             "formats, note_zh, note_en) VALUES (:v, :p, :c, :c, :c, 1, 'pdf', '', '')"),
                        {"v": gid, "p": pos, "c": code})
            db.session.commit()
            db.session.remove()
            upgrade()
            assert _codes() == [(1, "business_licence"), (1, "trial_plan"), (1, "quotation"),
                                (2, "business_licence"), (2, "need_statement"), (2, "trial_contract")]
            db.session.remove()
            downgrade(revision=BEFORE)
            assert [c for _v, c in _codes()] == ["business_licence", "need_statement", "trial_contract"] * 2
        finally:
            db.session.remove()
