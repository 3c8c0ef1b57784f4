"""Notification tests reuse the dashboard helpers (the demo data, a demo user's client)."""
from tests.dashboard.conftest import as_demo, demo  # noqa: F401
