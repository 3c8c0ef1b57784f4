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

from sqlalchemy import select

from voucher.audit.services import Actor, record_event
from voucher.documents.models import StoredFile
from voucher.errors import N_, ValidationFailed
from voucher.extensions import db
from voucher.storage import save_upload, upload_problem

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


# --- an application's files, shared by every kind (trial, loan, robot) ---------------------------------
# Each domain keeps its own rules (who may attach or remove, in which state, how a file is looked
# up); what is the same for every kind — the checks of each file against the checklist, storing,
# auditing, detaching — is here.

def files_of(owner_type: str, owner_id: int) -> list[StoredFile]:
    """The files attached to an object (``StoredFile`` rows owned by it), oldest first."""
    return list(db.session.scalars(select(StoredFile).where(StoredFile.owner_type == owner_type,
                                                            StoredFile.owner_id == owner_id)
                                   .order_by(StoredFile.id)))


def by_material(files) -> dict[str, list[StoredFile]]:
    """Files grouped by material code; a file uploaded before the checklist (no material) counts as ``other``."""
    grouped: dict[str, list[StoredFile]] = {}
    for stored in files:
        grouped.setdefault(stored.material or "other", []).append(stored)
    return grouped


def attach_files(actor: Actor, uploads: dict[str, list], *, checklist, present: dict[str, list], owner_type: str,
                 owner_id: int, status: str, max_bytes: int) -> list[StoredFile]:
    """Attach files to materials of ``checklist``: ``uploads`` maps a material code to uploads
    (objects with ``stream`` and ``filename``), several per material; ``present`` is the object's
    files per material already.  The caller has checked who may attach and in which state.

    Rule: an unknown material is refused; each file one of its material's formats by content, not
    empty, within ``max_bytes``, its name without control characters; at most the material's number
    of files.  Every file is checked before any is stored: one refused file keeps none, and the
    refusal names every material that had a refused file (``material_<code>``).  No file at all:
    refused.  Each file stored writes an audit event ``<owner_type>.attach`` (name, SHA-256, size,
    material, the object's ``status``).
    """
    known = {m.code: m for m in checklist}
    problems: dict[str, str] = {}
    params: dict = {}
    checked: list = []
    for code, files in uploads.items():
        files = [f for f in files if f is not None and (f.filename or "")]
        if not files:
            continue
        item = known.get(code)
        if item is None:
            raise ValidationFailed("Unknown material %(code)s.", field="file", code=code)
        if len(present.get(code, [])) + len(files) > item.max_files:
            problems[f"material_{code}"] = N_("At most %(max)s files for one material.")
            params["max"] = item.max_files
            continue
        for upload in files:
            data = upload.stream.read(max_bytes + 1)
            upload.stream.seek(0)
            problem = upload_problem(data, upload.filename, max_bytes=max_bytes, formats=item.formats)
            if problem is not None:
                problems.setdefault(f"material_{code}", problem[0])
                params.update(problem[1])
            else:
                checked.append((code, upload, item.formats))
    if problems:
        raise ValidationFailed(next(iter(problems.values())), fields=problems, **params)
    if not checked:
        raise ValidationFailed("Choose a file to upload.", field="file")
    stored_files = [save_upload(actor, upload.stream, upload.filename, max_bytes=max_bytes, owner_type=owner_type,
                                owner_id=owner_id, purpose="supporting_document", field=f"material_{code}",
                                formats=formats, material=code)
                    for code, upload, formats in checked]
    for stored in stored_files:
        record_event(actor, f"{owner_type}.attach", owner_type, owner_id,
                     after={"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256,
                            "size_bytes": stored.size_bytes, "material": stored.material, "status": status})
    return stored_files


def attached_file(file_id: int, owner_type: str, owner_id: int) -> StoredFile | None:
    """The file ``file_id`` if it is attached to that object, else None (the caller says "not found")."""
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_type != owner_type or stored.owner_id != owner_id:
        return None
    return stored


def detach_file(actor: Actor, stored: StoredFile, *, owner_type: str, owner_id: int, status: str) -> StoredFile:
    """Take a file off its object: the file is kept (owner type ``<owner_type>_removed``), so what
    was once submitted can still be traced by its hash; audited ``<owner_type>.detach`` (name,
    material, SHA-256, the object's ``status``).  The caller has checked who may remove and when."""
    before = {"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256,
              "material": stored.material, "status": status}
    stored.owner_type = f"{owner_type}_removed"
    db.session.flush()
    record_event(actor, f"{owner_type}.detach", owner_type, owner_id, before=before)
    return stored
