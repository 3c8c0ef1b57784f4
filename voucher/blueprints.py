"""Every blueprint of the application.  Add one import and one list entry per domain."""


def BLUEPRINTS():
    from voucher.audit.views import bp as audit_bp
    from voucher.auth.views import admin_bp
    from voucher.auth.views import bp as auth_bp
    from voucher.dashboard.views import bp as dashboard_bp
    from voucher.notifications.views import bp as notifications_bp

    return [
        auth_bp,
        admin_bp,
        dashboard_bp,
        audit_bp,
        notifications_bp,
    ]
