"""Saving and reading stored files.

Uploads are accepted by their content (magic bytes, zip structure), not their name: PDF, JPEG and
PNG by default; a material of the checklist (``voucher.materials``) may also allow Word, Excel and
OFD; non-empty, within the size limit.  Files live under ``STORAGE_DIR`` named by a random id;
callers check access through the owning object before calling :func:`open_file`.
"""
from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
import zipfile
from pathlib import Path
from typing import BinaryIO

from voucher.audit.services import Actor
from voucher.documents.models import StoredFile
from voucher.errors import ValidationFailed
from voucher.extensions import db
from voucher.tasks import after_rollback

SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
DEFAULT_FORMATS = ("pdf", "jpeg", "png")
_MIME_FORMAT = {"application/pdf": "pdf", "image/jpeg": "jpeg", "image/png": "png"}
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CONTAINER_TYPES = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    "ofd": ("application/ofd", ".ofd"),
    "doc": ("application/msword", ".doc"),
    "xls": ("application/vnd.ms-excel", ".xls"),
}
MAX_ZIP_ENTRIES = 10_000


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def _zip_format(data: bytes) -> str | None:
    """docx, xlsx or ofd by the archive's structure (only its directory is read, nothing unpacked)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_ZIP_ENTRIES:
                return None
            names = {info.filename for info in infos}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
        return None
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def _ole_format(data: bytes) -> str | None:
    """doc or xls by the compound file's stream names (UTF-16 in its directory sectors)."""
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book\x00".encode("utf-16-le") in data:
        return "xls"
    return None


def detect_format(data: bytes) -> str | None:
    """The format code of ``data`` by its content, or None: pdf, jpeg, png, docx, xlsx, ofd, doc, xls."""
    kind = sniff(data[:16])
    if kind is not None:
        return _MIME_FORMAT[kind[0]]
    if data.startswith(_ZIP):
        return _zip_format(data)
    if data.startswith(_OLE):
        return _ole_format(data)
    return None


def _type_of(fmt: str) -> tuple[str, str]:
    if fmt in CONTAINER_TYPES:
        return CONTAINER_TYPES[fmt]
    mime = next(m for m, f in _MIME_FORMAT.items() if f == fmt)
    return mime, next(ext for _magic, m, ext in SIGNATURES if m == mime)


def format_names(formats) -> str:
    from voucher.materials import FORMAT_LABELS

    return ", ".join(FORMAT_LABELS.get(f, f) for f in formats)


def save_upload(actor: Actor, stream: BinaryIO, original_name: str, *, storage_dir: str, max_bytes: int,
                owner_type: str, owner_id: int | None, purpose: str, field: str = "file",
                formats: tuple[str, ...] = DEFAULT_FORMATS, material: str | None = None) -> StoredFile:
    """Store an uploaded evidence file.

    Rule: refused (naming the field) when empty, larger than ``max_bytes``, or not one of
    ``formats`` by content (PDF, JPEG, PNG by magic bytes; Word/Excel .docx/.xlsx and OFD by their
    zip structure; .doc/.xls as compound files), whatever its name says, or when its name holds a control character
    (a NUL byte cannot even be stored); a directory in the name is dropped (files are stored under a
    random name anyway).  Everything is checked before the file is written.
    """
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in original_name or ""):
        raise ValidationFailed("The file name contains control characters: rename the file and upload it again.",
                               field=field)
    data = stream.read(max_bytes + 1)
    if not data:
        raise ValidationFailed("The file is empty.", field=field)
    if len(data) > max_bytes:
        raise ValidationFailed("The file is larger than the limit of %(limit)s MB.", field=field,
                               limit=max_bytes // (1024 * 1024))
    fmt = detect_format(data)
    if fmt is None or fmt not in formats:
        if tuple(formats) == DEFAULT_FORMATS:
            raise ValidationFailed("Only PDF, JPEG or PNG files are accepted (checked by content, not by name).",
                                   field=field)
        raise ValidationFailed("Only these formats are accepted here: %(formats)s (checked by content, not by "
                               "name).", field=field, formats=format_names(formats))
    mime, ext = _type_of(fmt)
    return _write(actor, data, original_name, mime, ext, storage_dir=storage_dir, owner_type=owner_type,
                  owner_id=owner_id, purpose=purpose, material=material)


def save_generated(actor: Actor, data: bytes, name: str, content_type: str, *, storage_dir: str,
                   owner_type: str, owner_id: int | None, purpose: str) -> StoredFile:
    """Store a document the system produced (PDF, CSV, XLSX)."""
    return _write(actor, data, name, content_type, Path(name).suffix or ".bin", storage_dir=storage_dir,
                  owner_type=owner_type, owner_id=owner_id, purpose=purpose)


def _write(actor: Actor, data: bytes, original_name: str, content_type: str, ext: str, *, storage_dir: str,
           owner_type: str, owner_id: int | None, purpose: str, material: str | None = None) -> StoredFile:
    digest = hashlib.sha256(data).hexdigest()
    relative = f"{owner_type}/{secrets.token_hex(16)}{ext}"
    target = Path(storage_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    # A transaction that rolls back (a refusal after this, a failed commit) leaves no file behind.
    after_rollback(_remove, target)
    safe_name = _display_name(original_name)
    row = StoredFile(owner_type=owner_type, owner_id=owner_id, purpose=purpose, original_name=safe_name,
                     content_type=content_type, size_bytes=len(data), sha256=digest, relative_path=relative,
                     uploaded_by=actor.user_id, material=material)
    db.session.add(row)
    db.session.flush()
    return row


def _display_name(original_name: str | None) -> str:
    """The name shown and offered on download: its last path part (``/`` or ``\\``), at most 255
    characters, control characters dropped."""
    name = (original_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cs")).strip()
    return name[:255] if name not in ("", ".", "..") else "file"


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def path_of(stored: StoredFile, storage_dir: str) -> Path:
    return Path(storage_dir) / stored.relative_path


def read_bytes(stored: StoredFile, storage_dir: str) -> bytes:
    return path_of(stored, storage_dir).read_bytes()
