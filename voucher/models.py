"""Imports every domain's models so the metadata (and Alembic) sees all tables.
Add one line per domain models module."""
from voucher.amendments.models import GrantAmendment  # noqa: F401
from voucher.applications.models import TrialApplication  # noqa: F401
from voucher.audit.models import AuditAnchor, AuditEvent  # noqa: F401
from voucher.auth.models import LoginSession, User  # noqa: F401
from voucher.auth.tokens import ApiToken  # noqa: F401
from voucher.benefits.models import (  # noqa: F401
    BenefitBlacklist,
    BenefitCandidate,
    BenefitClaim,
    BenefitInvoice,
    BenefitLoanLine,
    BenefitSource,
)
from voucher.catalogue.models import Solution, SolutionScreening  # noqa: F401
from voucher.documents.models import Document, JobRecord, StoredFile  # noqa: F401
from voucher.enterprises.models import Enterprise, Organisation  # noqa: F401
from voucher.guides.models import GuideMaterial, GuideVersion, ProgrammeGuide  # noqa: F401
from voucher.maturity.models import MaturityAssessment, MaturityQuestionnaire  # noqa: F401
from voucher.notifications.models import Notification, NotificationPreference  # noqa: F401
from voucher.parks.models import Park, ParkMembership  # noqa: F401
from voucher.payments.models import Disbursement, NoticeObjection, PaymentBatch, PublicNotice, PublicNoticeItem  # noqa: F401
from voucher.payments.reconciliation_models import ReconciliationImport, ReconciliationRow  # noqa: F401
from voucher.programmes.models import FundLedgerEntry, LprRate, Programme, RuleVersion  # noqa: F401
from voucher.recovery.models import RecoveryOffset, RecoveryOrder, RecoverySettlement  # noqa: F401
from voucher.risk.models import RiskSignal  # noqa: F401
from voucher.subsidies.models import LoanApplication, LoanInterestPeriod, RobotApplication, RobotLineItem  # noqa: F401
from voucher.trials.models import Evaluation, EvaluatorAssignment, Milestone, Trial  # noqa: F401
from voucher.workcalendar.models import CalendarDay, CalendarYear  # noqa: F401
