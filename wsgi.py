"""WSGI entry point: ``gunicorn -k sync -w 2 wsgi:app``."""
from voucher import create_app

app = create_app()
