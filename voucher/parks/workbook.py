"""The workbook a park reports upward (小微企业园 → district / provincial platform, seed 004 §3.4, §4.4):
one sheet of the park's figures and one row per confirmed enterprise with its programme use.

Headings are translated (Chinese by default, English when the page is English); every text cell is
typed as a string (``voucher.exports.append_text_safe``), so an enterprise named ``=HYPERLINK(...)``
is shown, never run.  No bank detail is read or written."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from voucher.exports import append_text_safe
from voucher.parks import queries
from voucher.parks.models import Park
from voucher.reference import DISTRICTS, INDUSTRIES, SIZE_CLASSES, label

ROW_LIMIT = 50_000


def summary_rows(park: Park, figures: queries.ParkFigures, today: date) -> list[list]:
    rate = figures.adoption_rate
    participation = queries.rate(figures.active, figures.members)
    rows = [
        [_("Park name"), park.name],
        [_("District"), label(DISTRICTS, park.district)],
        [_("Operator"), park.operator.name],
        [_("Report date"), today.isoformat()],
        [_("Confirmed member enterprises"), figures.members],
        [_("Membership requests waiting"), figures.pending],
        [_("Enterprises taking part in the programme"), figures.active],
        [_("Participation rate (%)"), participation if participation is not None else ""],
    ]
    for kind, word in queries.KIND_LABELS.items():
        rows.append([_("%(kind)s: applications filed", kind=word), figures.filed[kind]])
        rows.append([_("%(kind)s: applications approved", kind=word), figures.approved[kind]])
    rows += [
        [_("Trials"), figures.trials],
        [_("Adoption decisions recorded"), figures.decisions],
        [_("Trials adopted (the enterprise keeps paying)"), figures.adopted],
        [_("Adoption rate (%)"), rate if rate is not None else ""],
        [_("Grants approved (yuan)"), figures.granted],
        [_("Grants paid (yuan)"), figures.paid],
    ]
    return rows


def enterprise_headers() -> list[str]:
    return [_("No."), _("Enterprise name"), _("Unified social credit code"), _("District"), _("Industry"),
            _("Size class"), _("Member since"),
            _("Trial voucher applications"), _("Trial voucher approved"),
            _("Loan discount applications"), _("Loan discount approved"),
            _("Robot subsidy applications"), _("Robot subsidy approved"),
            _("Trials"), _("Trials adopted"), _("Grants approved (yuan)"), _("Grants paid (yuan)"),
            _("Maturity level")]


def enterprise_row(n: int, member: queries.Member) -> list:
    from voucher.list_export import local_time

    org, ent, use = member.organisation, member.enterprise, member.usage
    return [n, org.name, org.uscc or "", label(DISTRICTS, ent.district), label(INDUSTRIES, ent.industry),
            label(SIZE_CLASSES, ent.size_class), local_time(member.confirmed_at)[:10],
            use.filed("trial"), use.approved("trial"), use.filed("loan"), use.approved("loan"),
            use.filed("robot"), use.approved("robot"), use.trials, use.adopted, use.granted, use.paid,
            use.maturity]


def _widths(ws, rows) -> None:
    widths: dict[int, int] = {}
    for row in rows:
        for i, v in enumerate(row, start=1):
            widths[i] = max(widths.get(i, 0), len(str(v)))
    for i, w in widths.items():
        ws.column_dimensions[get_column_letter(i)].width = min(max(w + 2, 8), 60)


def _plain(value):
    """A cell's value: numbers stay numbers, lazy words become text."""
    if value is None:
        return ""
    return value if isinstance(value, (int, Decimal, str)) else str(value)


def build(park: Park, today: date) -> bytes:
    """The workbook: sheet 1 the park's figures and its applications by kind and status; sheet 2 the
    confirmed enterprises (name order)."""
    figures = queries.figures(park.id)
    labels = queries.status_labels()
    wb = Workbook()
    summary = wb.active
    summary.title = _("Park summary")[:31]
    rows = [[_("Item"), _("Value")], *summary_rows(park, figures, today), [],
            [_("Kind"), _("Status"), _("Applications")]]
    for kind, word in queries.KIND_LABELS.items():
        for status, n in sorted(figures.applications[kind].items()):
            rows.append([str(word), str(labels.get(status, status)), n])
    for row in rows:
        append_text_safe(summary, [_plain(v) for v in row])
    _widths(summary, rows)

    sheet = wb.create_sheet(_("Enterprises")[:31])
    members = queries.members_page(park.id, None, 1, ROW_LIMIT)
    body = [enterprise_headers()] + [enterprise_row(n, m) for n, m in enumerate(members.items, start=1)]
    for row in body:
        append_text_safe(sheet, [_plain(v) for v in row])
    _widths(sheet, body)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
