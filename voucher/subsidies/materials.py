"""The materials of a loan or robot application: the checklist, adding and removing files.

The checklist is the programme guide's (``voucher.materials.checklist_for``); storing, auditing
and detaching files is shared with trial applications (``voucher.materials.attach_files``,
``detach_file``).  Rules enforced here: who may attach or remove (the enterprise's own SME
users) and in which state (a draft or returned for revision); who may download a file.
"""
from __future__ import annotations

from voucher.access import require
from voucher.audit.services import Actor
from voucher.documents.models import StoredFile
from voucher.errors import Conflict, NotFound, TransitionNotAllowed
from voucher.materials import attach_files, attached_file, by_material, checklist_for, detach_file, files_of
from voucher.subsidies.common import EDITABLE_STATES, KINDS, _locked, get_application


def checklist(kind: str, app):
    """The materials an application of ``kind`` ("loan"/"robot") needs: its programme guide's
    checklist (``voucher.materials.checklist_for``)."""
    return checklist_for(app.programme_id if app is not None else None, KINDS[kind].funding_kind)


def attachments(kind: str, application_id: int) -> list[StoredFile]:
    return files_of(KINDS[kind].source_type, application_id)


def materials_by_code(kind: str, application_id: int) -> dict[str, list[StoredFile]]:
    """The application's files per material code (the plan, statement and invoices uploaded with
    the form count for their materials; a file without a material counts as ``other``)."""
    return by_material(attachments(kind, application_id))


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
    once.  Each file added writes an audit event.  (The file checks, storing and auditing are
    ``voucher.materials.attach_files``, shared with trial applications.)
    """
    app = _editable_own(actor, kind, application_id, "Documents can be added only while the application is a "
                                                     "draft or returned for revision.")
    return attach_files(actor, uploads, checklist=checklist(kind, app), present=materials_by_code(kind, app.id),
                        owner_type=KINDS[kind].source_type, owner_id=app.id, status=app.status, max_bytes=max_bytes)


def remove_material(actor: Actor, kind: str, application_id: int, file_id: int) -> StoredFile:
    """Take a file off the application before (re)submission, e.g. to replace it.

    Rule: only the enterprise's own SME users (403), while a draft or returned (409); audited (name,
    material, SHA-256).  The file is detached (kept, traceable by its hash).  Removing the plan or
    the interest statement of a loan makes the form ask for it again; a robot line's invoice is
    replaced on its line in the form, not removed here.
    """
    app = _editable_own(actor, kind, application_id, "Documents can be removed only while the application is a "
                                                     "draft or returned for revision.")
    source = KINDS[kind].source_type
    stored = attached_file(file_id, source, app.id)
    if stored is None:
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
    return detach_file(actor, stored, owner_type=source, owner_id=app.id, status=app.status)


def application_file(actor: Actor, kind: str, application_id: int, file_id: int) -> StoredFile:
    """An evidence file of an application. Rule: only who may read the application (its enterprise's
    users, bureau roles) may download; a file of another object is not found."""
    app = get_application(actor, kind, application_id)
    stored = attached_file(file_id, KINDS[kind].source_type, app.id)
    if stored is None:
        raise NotFound("No such file.")
    return stored
