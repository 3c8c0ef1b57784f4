"""Every blueprint of the application.  Add one import and one list entry per domain."""


def BLUEPRINTS():
    from voucher.amendments.views import bp as amendments_bp
    from voucher.applications.views import bp as applications_bp
    from voucher.audit.views import bp as audit_bp
    from voucher.auth.views import admin_bp
    from voucher.auth.views import bp as auth_bp
    from voucher.benefits.views import bp as benefits_bp
    from voucher.catalogue.views import bp as catalogue_bp
    from voucher.dashboard.views import bp as dashboard_bp
    from voucher.documents.views import bp as documents_bp
    from voucher.enterprises.views import bp as enterprises_bp
    from voucher.guides.views import bp as guides_bp
    from voucher.maturity.views import bp as maturity_bp
    from voucher.notifications.views import bp as notifications_bp
    from voucher.parks.views import bp as parks_bp
    from voucher.payments.reconciliation_views import bp as reconciliation_bp
    from voucher.payments.views import bp as payments_bp
    from voucher.programmes.views import bp as programmes_bp
    from voucher.progress.views import bp as progress_bp
    from voucher.recovery.views import bp as recovery_bp
    from voucher.risk.views import bp as risk_bp
    from voucher.rules.views import bp as rules_bp
    from voucher.subsidies.views import bp as subsidies_bp
    from voucher.trials.views import bp as trials_bp
    from voucher.workcalendar.views import bp as workcalendar_bp

    return [
        auth_bp,
        admin_bp,
        dashboard_bp,
        documents_bp,
        audit_bp,
        notifications_bp,
        enterprises_bp,
        programmes_bp,
        catalogue_bp,
        applications_bp,
        amendments_bp,
        recovery_bp,
        subsidies_bp,
        trials_bp,
        payments_bp,
        reconciliation_bp,
        workcalendar_bp,
        guides_bp,
        progress_bp,
        risk_bp,
        maturity_bp,
        parks_bp,
        rules_bp,
        benefits_bp,
    ]
