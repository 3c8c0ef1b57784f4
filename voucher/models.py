"""Imports every domain's models so the metadata (and Alembic) sees all tables."""
from voucher.audit.models import AuditEvent  # noqa: F401
from voucher.auth.models import LoginSession, User  # noqa: F401
from voucher.catalogue.models import Solution, SolutionScreening  # noqa: F401
from voucher.enterprises.models import Enterprise, Organisation  # noqa: F401
from voucher.programmes.models import FundLedgerEntry, LprRate, Programme  # noqa: F401
