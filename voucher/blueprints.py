"""Every blueprint of the application, registered in this order."""


def BLUEPRINTS():
    from voucher.audit.views import bp as audit_bp
    from voucher.auth.views import admin_bp, bp as auth_bp
    from voucher.dashboard.views import bp as dashboard_bp

    return [auth_bp, admin_bp, dashboard_bp, audit_bp]
