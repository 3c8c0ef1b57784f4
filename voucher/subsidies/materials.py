"""The materials of a loan or robot application: the checklist, adding and removing files.

The checklist is the programme guide's (``voucher.materials.checklist_for``); storing, auditing
and detaching files is shared with trial applications (``voucher.materials.attach_files``,
``detach_file``).  Rules enforced here: who may attach or remove (the enterprise's own SME
users) and in which state (a draft or returned for revision); who may download a file.
"""
from __future__ import annotations

from sqlalchemy import select

from voucher.access import require
from voucher.audit.services import Actor, record_event
from voucher.documents.models import StoredFile
from voucher.errors import (
    N_,
    Conflict,
    NotFound,
    TransitionNotAllowed,
    ValidationFailed,
)
from voucher.extensions import db
from voucher.materials import checklist_for
from voucher.subsidies.common import EDITABLE_STATES, KINDS, Upload, _check_upload, _locked, _store, get_application

# --- the checklist of materials (the guide's 材料清单) ---------------------------------------------------

def checklist(kind: str, app):
    """The materials an application of ``kind`` ("loan"/"robot") needs: its programme guide's
    checklist (``voucher.materials.checklist_for``)."""
    return checklist_for(app.programme_id if app is not None else None, KINDS[kind].funding_kind)


def attachments(kind: str, application_id: int) -> list[StoredFile]:
    source = KINDS[kind].source_type
    return list(db.session.scalars(select(StoredFile).where(StoredFile.owner_type == source,
                                                            StoredFile.owner_id == application_id)
                                   .order_by(StoredFile.id)))


def materials_by_code(kind: str, application_id: int) -> dict[str, list[StoredFile]]:
    """The application's files per material code (the plan, statement and invoices uploaded with
    the form count for their materials; a file without a material counts as ``other``)."""
    grouped: dict[str, list[StoredFile]] = {}
    for stored in attachments(kind, application_id):
        grouped.setdefault(stored.material or "other", []).append(stored)
    return grouped


def _editable_own(actor: Actor, kind: str, application_id: int, verb: str):
    if kind not in KINDS:
        raise NotFound("No such application.")
    app = _locked(kind, application_id)
    require(actor, "subsidies.file", app, message="This belongs to another organisation.")
    if app.status not in EDITABLE_STATES:
        raise TransitionNotAllowed(verb)
    return app


def add_materials(actor: Actor, kind: str, application_id: int, uploads: dict[str, list], *,
                  max_bytes: int) -> list[StoredFile]:
    """Attach files to materials of the checklist: ``uploads`` maps a material code to uploads
    (``stream`` and ``filename``), several per material.

    Rule: only the enterprise's own SME users (403), while the application is a draft or returned
    for revision (409); each file one of its material's formats by content, not empty, within the
    size limit, at most the material's number of files.  Every file is checked before any is kept:
    one refused file keeps none, and the message of every material with a refused file shows at
    once.  Each file added writes an audit event.
    """
    app = _editable_own(actor, kind, application_id, "Documents can be added only while the application is a "
                                                     "draft or returned for revision.")
    k = KINDS[kind]
    known = {m.code: m for m in checklist(kind, app)}
    present = materials_by_code(kind, app.id)
    problems: dict[str, str] = {}
    params: dict = {}
    checked: list[tuple[str, Upload, tuple[str, ...]]] = []
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
            found: list = []
            _check_upload(upload, f"material_{code}", True, max_bytes, found, item.formats)
            if found:
                problems.setdefault(found[0][0], found[0][1])
                params.update(found[0][2])
            else:
                checked.append((code, upload, item.formats))
    if problems:
        raise ValidationFailed(next(iter(problems.values())), fields=problems, **params)
    if not checked:
        raise ValidationFailed("Choose a file to upload.", field="file")
    stored_files = [_store(actor, upload, owner_type=k.source_type, owner_id=app.id, purpose="supporting_document",
                           field=f"material_{code}", max_bytes=max_bytes, formats=formats, material=code)
                    for code, upload, formats in checked]
    for stored in stored_files:
        record_event(actor, f"{k.source_type}.attach", k.source_type, app.id,
                     after={"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256,
                            "size_bytes": stored.size_bytes, "material": stored.material, "status": app.status})
    return stored_files


def remove_material(actor: Actor, kind: str, application_id: int, file_id: int) -> StoredFile:
    """Take a file off the application before (re)submission, e.g. to replace it.

    Rule: only the enterprise's own SME users (403), while a draft or returned (409); audited (name,
    material, SHA-256).  The file is detached (kept, traceable by its hash).  Removing the plan or
    the interest statement of a loan makes the form ask for it again; a robot line's invoice is
    replaced on its line in the form, not removed here.
    """
    app = _editable_own(actor, kind, application_id, "Documents can be removed only while the application is a "
                                                     "draft or returned for revision.")
    k = KINDS[kind]
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_type != k.source_type or stored.owner_id != app.id:
        raise NotFound("No such file.")
    if kind == "robot":
        line = next((x for x in app.lines if x.invoice_file_id == stored.id), None)
        if line is not None:
            raise Conflict("This file is the invoice of robot line %(line)s: to replace it, edit the application "
                           "and attach the new invoice on that line.", line=line.position + 1)
    else:
        if app.plan_file_id == stored.id:
            app.plan_file_id = None
        if app.statement_file_id == stored.id:
            app.statement_file_id = None
    before = {"file_id": stored.id, "name": stored.original_name, "sha256": stored.sha256,
              "material": stored.material, "status": app.status}
    stored.owner_type = f"{k.source_type}_removed"
    db.session.flush()
    record_event(actor, f"{k.source_type}.detach", k.source_type, app.id, before=before)
    return stored


def application_file(actor: Actor, kind: str, application_id: int, file_id: int) -> StoredFile:
    """An evidence file of an application. Rule: only who may read the application (its enterprise's
    users, bureau roles) may download; a file of another object is not found."""
    app = get_application(actor, kind, application_id)
    stored = db.session.get(StoredFile, file_id)
    if stored is None or stored.owner_type != KINDS[kind].source_type or stored.owner_id != app.id:
        raise NotFound("No such file.")
    return stored
