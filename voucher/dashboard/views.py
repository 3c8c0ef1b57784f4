"""The start page: public welcome, or the role's own overview."""
from flask import Blueprint, render_template
from flask_login import current_user

from voucher.dashboard import queries

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("dashboard/welcome.html")
    return render_template("dashboard/home.html", panels=queries.panels_for(current_user.actor()))
