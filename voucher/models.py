"""Imports every domain's models so the metadata (and Alembic) sees all tables.
Add one line per domain models module."""
from voucher.audit.models import AuditEvent  # noqa: F401
from voucher.auth.models import LoginSession, User  # noqa: F401
from voucher.catalogue.models import Solution, SolutionScreening  # noqa: F401
from voucher.documents.models import StoredFile  # noqa: F401
from voucher.enterprises.models import Enterprise, Organisation  # noqa: F401
from voucher.notifications.models import Notification  # noqa: F401
from voucher.programmes.models import FundLedgerEntry, LprRate, Programme  # noqa: F401
