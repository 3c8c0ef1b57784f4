"""Saving and reading stored files.

Uploads are accepted by their content (magic bytes), not their name: PDF, JPEG and PNG only,
non-empty, within the size limit.  Files live under ``STORAGE_DIR`` named by a random id;
callers check access through the owning object before calling :func:`open_file`.
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
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


def sniff(head: bytes) -> tuple[str, str] | None:
    for magic, mime, ext in SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def save_upload(actor: Actor, stream: BinaryIO, original_name: str, *, storage_dir: str, max_bytes: int,
                owner_type: str, owner_id: int | None, purpose: str, field: str = "file") -> StoredFile:
    """Store an uploaded evidence file.

    Rule: refused (naming the field) when empty, larger than ``max_bytes``, or not a PDF,
    JPEG or PNG by content, whatever its name says, or when its name holds a control character
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
    kind = sniff(data[:16])
    if kind is None:
        raise ValidationFailed("Only PDF, JPEG or PNG files are accepted (checked by content, not by name).",
                               field=field)
    return _write(actor, data, original_name, kind[0], kind[1], storage_dir=storage_dir, owner_type=owner_type,
                  owner_id=owner_id, purpose=purpose)


def save_generated(actor: Actor, data: bytes, name: str, content_type: str, *, storage_dir: str,
                   owner_type: str, owner_id: int | None, purpose: str) -> StoredFile:
    """Store a document the system produced (PDF, CSV, XLSX)."""
    return _write(actor, data, name, content_type, Path(name).suffix or ".bin", storage_dir=storage_dir,
                  owner_type=owner_type, owner_id=owner_id, purpose=purpose)


def _write(actor: Actor, data: bytes, original_name: str, content_type: str, ext: str, *, storage_dir: str,
           owner_type: str, owner_id: int | None, purpose: str) -> StoredFile:
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
                     uploaded_by=actor.user_id)
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
