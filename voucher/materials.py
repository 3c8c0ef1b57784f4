"""The checklist of materials (申报材料清单) an application needs, in one place.

Every form and rule that asks for files reads :func:`checklist_for`: the application forms show
it (required and optional, accepted formats), uploads are checked against a material's formats,
and submitting is refused (:class:`MaterialsMissing`) while a required material has no file.

The one source is the programme guide (办事指南): :func:`checklist_for` is the guide's 材料清单 in
force (``voucher.guides.queries.required_materials``: the current version, or the guide's default
content while no officer has saved one).  A material an officer adds to the guide is asked for and
enforced on the next form; one removed is no longer required.
"""
from __future__ import annotations

from dataclasses import dataclass

from voucher.errors import ValidationFailed

# Format codes and how they are named to people; checked by content in voucher.storage.
FORMAT_LABELS = {"pdf": "PDF", "jpeg": "JPEG", "png": "PNG", "ofd": "OFD", "docx": "Word (.docx)",
                 "doc": "Word (.doc)", "xlsx": "Excel (.xlsx)", "xls": "Excel (.xls)"}
FORMAT_EXTENSIONS = {"pdf": ".pdf", "jpeg": ".jpg,.jpeg", "png": ".png", "ofd": ".ofd", "docx": ".docx",
                     "doc": ".doc", "xlsx": ".xlsx", "xls": ".xls"}
MAX_FILES_PER_MATERIAL = 10
KINDS = ("trial_voucher", "loan_discount", "robot_subsidy")


class Bilingual:
    """A text of the guide in both languages, shown in the reader's language (like a lazy string)."""

    __slots__ = ("zh", "en")

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en

    def __str__(self) -> str:
        try:
            from flask_babel import get_locale

            lang = str(get_locale() or "")
        except Exception:  # outside a request (CLI, tasks): the default language
            lang = ""
        return (self.en or self.zh) if lang == "en" else self.zh

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __bool__(self) -> bool:
        return bool(self.zh or self.en)

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash((self.zh, self.en))

    def __repr__(self) -> str:
        return f"Bilingual({self.zh!r}, {self.en!r})"


@dataclass(frozen=True)
class Material:
    code: str
    label: object
    required: bool
    formats: tuple[str, ...]
    hint: object = ""
    max_files: int = MAX_FILES_PER_MATERIAL

    @property
    def format_names(self) -> str:
        return ", ".join(FORMAT_LABELS[f] for f in self.formats if f in FORMAT_LABELS)

    @property
    def accept(self) -> str:
        """For the file input's ``accept`` attribute (a convenience: the server checks the content)."""
        return ",".join(FORMAT_EXTENSIONS[f] for f in self.formats if f in FORMAT_EXTENSIONS)


def _from_guide(row) -> Material:
    return Material(row.code, Bilingual(row.name_zh, row.name_en), bool(row.required), tuple(row.formats),
                    Bilingual(row.note_zh, row.note_en))


def checklist_for(programme_id: int | None, kind: str) -> tuple[Material, ...]:
    """The materials an application of ``kind`` in the programme needs, required ones first (each
    group in the guide's order): the guide's 材料清单 in force; with no programme (or one that does
    not fund ``kind``) the guide's default checklist of the kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    from voucher.guides.defaults import default_materials
    from voucher.guides.queries import required_materials

    rows = required_materials(int(programme_id), kind) if isinstance(programme_id, int) else []
    items = tuple(_from_guide(r) for r in (rows or default_materials(kind)))
    return tuple(m for m in items if m.required) + tuple(m for m in items if not m.required)


def material(programme_id: int | None, kind: str, code: str | None) -> Material | None:
    return next((m for m in checklist_for(programme_id, kind) if m.code == code), None)


def missing_required(checklist, present_codes) -> list[Material]:
    """The required materials with no file among ``present_codes``, in checklist order."""
    present = set(present_codes)
    return [m for m in checklist if m.required and m.code not in present]


class _Labels:
    """The missing materials' names, translated when the message is shown (not when raised)."""

    def __init__(self, items) -> None:
        self.items = list(items)

    def __str__(self) -> str:
        return "; ".join(str(m.label) for m in self.items)


class MaterialsMissing(ValidationFailed):
    """Submitting refused: ``missing`` lists every required material with no file (all at once)."""

    def __init__(self, missing) -> None:
        super().__init__("Some required materials are missing: %(missing)s. Attach them, then submit.",
                         field="materials", missing=_Labels(missing))
        self.missing = list(missing)


def ensure_complete(checklist, present_codes) -> None:
    """Rule: an application is submitted only with a file for every required material of its
    checklist; otherwise :class:`MaterialsMissing` naming each one."""
    missing = missing_required(checklist, present_codes)
    if missing:
        raise MaterialsMissing(missing)
