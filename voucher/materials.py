"""The checklist of materials (申报材料清单) an application needs, in one place.

Every form and rule that asks for files reads :func:`checklist_for`: the application forms show
it (required and optional, accepted formats), uploads are checked against a material's formats,
and submitting is refused while a required material has no file.

The programme guide (办事指南) will hold a structured checklist per programme and kind
(``required_materials(programme_id, kind)``); until it is merged, :func:`checklist_for` answers
with the default checklist below (the same for every programme).  The integrator points
:func:`checklist_for` at the guide; nothing else changes.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

# Format codes and how they are named to people; checked by content in voucher.storage.
FORMAT_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "ofd": "OFD", "docx": "Word (.docx)",
                 "doc": "Word (.doc)", "xlsx": "Excel (.xlsx)", "xls": "Excel (.xls)"}
FORMAT_EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg,.jpeg", "png": ".png", "ofd": ".ofd", "docx": ".docx",
                     "doc": ".doc", "xlsx": ".xlsx", "xls": ".xls"}
SCANS = ("pdf", "ofd", "jpeg", "png")
DOCUMENTS = ("pdf", "ofd", "docx", "doc")
SHEETS = ("pdf", "xlsx", "xls")
ANY = ("pdf", "ofd", "jpeg", "png", "docx", "doc", "xlsx", "xls")
MAX_FILES_PER_MATERIAL = 10
KINDS = ("trial_voucher", "loan_discount", "robot_subsidy")


@dataclass(frozen=True)
class Material:
    code: str
    label: str
    required: bool
    formats: tuple[str, ...]
    hint: str = ""
    max_files: int = MAX_FILES_PER_MATERIAL

    @property
    def format_names(self) -> str:
        return ", ".join(FORMAT_LABELS[f] for f in self.formats)

    @property
    def accept(self) -> str:
        """For the file input's ``accept`` attribute (a convenience: the server checks the content)."""
        return ",".join(FORMAT_EXTENSIONS[f] for f in self.formats)


DEFAULT_CHECKLISTS: dict[str, tuple[Material, ...]] = {
    "trial_voucher": (
        Material("business_licence", _l("Business licence (copy)"), True, SCANS,
                 _l("A scan or photo of the licence, or the electronic licence.")),
        Material("trial_plan", _l("Digital-transformation need and trial plan"), True, DOCUMENTS,
                 _l("The problem, the solution chosen, the trial's steps and the expected results.")),
        Material("quotation", _l("Provider's quotation or draft service contract"), True, ANY,
                 _l("Showing the trial price; the contract is signed only after submission.")),
        Material("baseline_evidence", _l("Evidence of the baseline figures"), False, SHEETS + ("jpeg", "png"),
                 _l("Production records or statements behind the baseline figures.")),
        Material("other", _l("Other supporting documents"), False, ANY),
    ),
    "loan_discount": (
        Material("transformation_plan", _l("Digital-transformation plan the loan finances"), True,
                 DOCUMENTS + ("jpeg", "png")),
        Material("interest_statement", _l("Loan contract and interest payment statement"), True,
                 SCANS + ("xlsx", "xls"), _l("The bank's statement of the interest paid in each period.")),
        Material("other", _l("Other supporting documents"), False, ANY),
    ),
    "robot_subsidy": (
        Material("vat_invoice", _l("VAT invoice of each robot line"), True, SCANS,
                 _l("One per line; an electronic invoice (OFD or PDF) is accepted.")),
        Material("other", _l("Other supporting documents (purchase contract, acceptance record)"), False, ANY),
    ),
}


def checklist_for(programme_id: int | None, kind: str) -> tuple[Material, ...]:
    """The materials an application of ``kind`` in the programme needs, required ones first.

    Today the default checklist of the kind; later the programme guide's
    ``required_materials(programme_id, kind)``.
    """
    if kind not in DEFAULT_CHECKLISTS:
        raise ValueError(f"unknown kind {kind!r}")
    items = DEFAULT_CHECKLISTS[kind]
    return tuple(m for m in items if m.required) + tuple(m for m in items if not m.required)


def material(programme_id: int | None, kind: str, code: str | None) -> Material | None:
    return next((m for m in checklist_for(programme_id, kind) if m.code == code), None)


def missing_required(checklist, present_codes) -> list[Material]:
    """The required materials with no file among ``present_codes``, in checklist order."""
    present = set(present_codes)
    return [m for m in checklist if m.required and m.code not in present]
