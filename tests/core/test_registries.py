"""The registries are filled by ``create_app`` (``voucher.registries.configure_registries``), once and
in a written order, and never as a side effect of importing a domain's module (issue 17 §2)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BUILDERS = {"payment_order": "disbursement", "audit_dossier": "application", "programme_report": "programme",
            "batch_summary": "payment_batch", "bank_file": "payment_batch", "reconciliation_report": "payment_batch"}
DOWNLOAD_RULES = {"disbursement", "payment_batch", "programme"}

# The start page's cards per role, in the order they are shown.
PANELS = {
    "sme": ["benefits.views.sme_panel", "applications.views._sme_panel", "enterprises.views._sme_panel", "maturity.panels.sme_panel",
            "payments.views._payee_panel",
            "subsidies.views._sme_panel", "trials.panels.sme_panel"],
    "provider": ["catalogue.panels.provider_panel", "enterprises.views._provider_panel",
                 "payments.views._payee_panel", "trials.panels.provider_panel"],
    "evaluator": ["catalogue.panels.evaluator_panel", "trials.panels.evaluator_panel"],
    "officer": ["applications.views._officer_panel", "catalogue.panels.officer_panel", "maturity.panels.bureau_panel",
                "payments.views._officer_panel",
                "programmes.views._bureau_panel", "subsidies.views._officer_panel", "trials.panels.officer_panel",
                "workcalendar.views._calendar_panel", "benefits.views.officer_panel"],
    "finance": ["payments.views._finance_panel", "programmes.views._bureau_panel",
                "workcalendar.views._calendar_panel"],
    "auditor": ["maturity.panels.bureau_panel", "programmes.views._bureau_panel"],
}

STATUS_LABELLED = {"trial_application", "loan_application", "robot_application", "trial", "solution", "disbursement"}


def _panels_by_role() -> dict[str, list[str]]:
    from voucher.dashboard.queries import registered_panels

    out: dict[str, list[str]] = {}
    for roles, provider in registered_panels():
        name = f"{provider.__module__.removeprefix('voucher.')}.{provider.__name__}"
        for role in roles:
            out.setdefault(role, []).append(name)
    return out


def test_create_app_fills_every_registry(app):
    from voucher.audit import labels
    from voucher.documents import builders

    for kind, subject_type in BUILDERS.items():
        assert builders.builder_for(kind) is not None, kind
        assert builders.KINDS[kind].subject_type == subject_type
    assert DOWNLOAD_RULES <= set(builders._download_rules)
    assert _panels_by_role() == PANELS
    assert STATUS_LABELLED <= set(labels._STATUS_LABELS)
    from voucher.applications.queries import TIMELINE_LABELS as applications
    from voucher.catalogue.labels import EVENT_LABELS as catalogue
    from voucher.payments.queries import EVENT_LABELS as payments
    from voucher.subsidies.views import ACTION_LABELS as subsidies
    from voucher.trials.queries import TIMELINE_LABELS as trials

    with app.test_request_context(headers={"Accept-Language": "en"}):
        # An event of each domain that names its events, in its own words (not "<object>: <verb>").
        for key, words in (("trial_application.submit", applications["trial_application.submit"]),
                           ("solution.list", catalogue["solution.list"]),
                           ("disbursement.approve", payments["disbursement.approve"]),
                           ("loan_application.approve", subsidies["approve"]),
                           ("trial.start", trials["trial.start"])):
            assert labels.event_label(key) == str(words), key
        assert labels.event_label("solution.seeded") == "Entered in the catalogue with the demo data"
        assert labels.status_label("robot_application", "submitted") != "(another state)"

def test_registering_again_adds_nothing(app):
    from voucher import create_app
    from voucher.audit import labels
    from voucher.dashboard.queries import registered_panels
    from voucher.documents import builders
    from voucher.registries import configure_registries

    before = (registered_panels(), dict(builders._builders), dict(builders._download_rules),
              dict(labels._EVENT_LABELS), dict(labels._STATUS_LABELS))
    configure_registries(app)
    create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": app.config["REDIS_URL"]})
    after = (registered_panels(), dict(builders._builders), dict(builders._download_rules),
             dict(labels._EVENT_LABELS), dict(labels._STATUS_LABELS))
    assert after == before
    assert _panels_by_role() == PANELS


IMPORT_EVERYTHING = """
import importlib, json, pkgutil
import voucher
names = sorted(m.name for m in pkgutil.walk_packages(voucher.__path__, "voucher.")
               if m.name.rsplit(".", 1)[-1] in ("views", "queries", "panels", "labels", "documents", "services",
                                                "models", "roles", "figures"))
for name in names:
    importlib.import_module(name)
from voucher.audit import labels
from voucher.dashboard.queries import registered_panels
from voucher.documents import builders
print(json.dumps({"imported": names, "panels": len(registered_panels()), "builders": sorted(builders._builders),
                  "rules": sorted(builders._download_rules), "events": len(labels._EVENT_LABELS),
                  "statuses": sorted(labels._STATUS_LABELS)}))
"""


def test_importing_the_domains_modules_registers_nothing():
    # A fresh interpreter, so no earlier create_app (or import) of this test run counts.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert "voucher.payments.views" in found["imported"] and "voucher.trials.panels" in found["imported"]
    assert "voucher.payments.documents" in found["imported"]
    assert found["panels"] == 0
    assert found["builders"] == [] and found["rules"] == []
    assert found["events"] == 0 and found["statuses"] == []
