"""The content of a guide as plain values: what a version holds, what the edit form gives the
service, and what the defaults build.  No Flask, no database."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

# Accepted formats of a material: what ``voucher.storage.save_upload`` accepts (by content), in the
# order they are named; the codes are ``voucher.storage.detect_format``'s.
FORMATS = {"pdf": ("PDF", "application/pdf"), "ofd": ("OFD", "application/ofd"),
           "jpeg": ("JPEG", "image/jpeg"), "png": ("PNG", "image/png"),
           "docx": ("Word (.docx)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
           "doc": ("Word (.doc)", "application/msword"),
           "xlsx": ("Excel (.xlsx)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
           "xls": ("Excel (.xls)", "application/vnd.ms-excel")}


@dataclass(frozen=True)
class Material:
    """One line of the materials checklist.  ``code`` is stable across versions (an application's
    upload refers to it); ``formats`` are keys of :data:`FORMATS`."""

    name_zh: str
    name_en: str
    required: bool = True
    formats: tuple[str, ...] = ("pdf",)
    note_zh: str = ""
    note_en: str = ""
    code: str = ""
    position: int = 0

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    def note(self, lang: str) -> str:
        return self.note_en if lang == "en" else self.note_zh

    @property
    def format_labels(self) -> tuple[str, ...]:
        return tuple(FORMATS[f][0] for f in self.formats if f in FORMATS)

    @property
    def mime_types(self) -> tuple[str, ...]:
        return tuple(FORMATS[f][1] for f in self.formats if f in FORMATS)


@dataclass(frozen=True)
class Basis:
    """A policy document the programme rests on (设定依据) and its number (文号)."""

    title_zh: str
    title_en: str
    number: str = ""

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_zh


@dataclass(frozen=True)
class Faq:
    question_zh: str
    question_en: str
    answer_zh: str
    answer_en: str

    def question(self, lang: str) -> str:
        return self.question_en if lang == "en" else self.question_zh

    def answer(self, lang: str) -> str:
        return self.answer_en if lang == "en" else self.answer_zh


@dataclass(frozen=True)
class GuideContent:
    """Everything an officer writes in a guide, in Chinese and English."""

    eligibility_zh: str
    eligibility_en: str
    enterprise_pays_zh: str
    enterprise_pays_en: str
    contact_phone: str
    contact_hours_zh: str = ""
    contact_hours_en: str = ""
    materials: tuple[Material, ...] = ()
    basis: tuple[Basis, ...] = ()
    faq: tuple[Faq, ...] = field(default=())

    def text(self, name: str, lang: str) -> str:
        return getattr(self, f"{name}_{'en' if lang == 'en' else 'zh'}")

    def lines(self, name: str, lang: str) -> list[str]:
        """A text as its non-blank lines (the eligibility conditions are one per line)."""
        return [line.strip() for line in self.text(name, lang).splitlines() if line.strip()]

    def snapshot(self) -> dict:
        """Plain values for the audit trail and for comparing two versions."""
        data = asdict(self)
        data["materials"] = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in m.items() if k != "position"}
                             for m in data["materials"]]
        return data
