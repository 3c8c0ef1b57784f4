"""Saving and reading stored files, on the configured backend.

Uploads are accepted by their content (magic bytes, zip structure), not their name: PDF, JPEG and
PNG by default; a material of the checklist (``voucher.materials``) may also allow Word, Excel and
OFD; non-empty, within the size limit.  Every file is kept under a key ``<owner_type>/<random id><ext>``
(``StoredFile.relative_path``) in one of two backends, chosen by ``STORAGE_BACKEND``:

* ``filesystem`` (the embedded default): files under ``STORAGE_DIR``;
* ``s3``: objects in the S3-compatible bucket ``S3_BUCKET`` (``S3_ENDPOINT_URL`` for MinIO, Ceph or
  another S3 service; ``S3_REGION``; keys under ``S3_PREFIX``), credentials from boto3's usual
  chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` and so on).

Nothing else in the application reads or writes stored files: callers check access through the
owning object, then call :func:`read_bytes`, :func:`open_verified` or :func:`send_stored` (a download
streamed from the backend).  A file written in a transaction that rolls back is removed.
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
import tempfile
import threading
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app

from voucher.audit.services import Actor
from voucher.documents.models import StoredFile
from voucher.errors import N_, ValidationFailed
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

BACKENDS = ("filesystem", "s3")
CHUNK = 64 * 1024
# A verified download is copied here while its hash is checked: in memory up to this size, then a
# temporary file (a document is never held whole in memory however large).
SPOOL_MAX_MEMORY = 1024 * 1024


class FileMissing(Exception):
    """The stored file's bytes are not in the backend."""


class FileChanged(Exception):
    """The stored bytes no longer match the SHA-256 recorded for them."""


@dataclass
class Opened:
    """A stored file opened for reading: ``file`` streams its bytes (close it when done)."""

    file: BinaryIO
    size: int

    def close(self) -> None:
        self.file.close()


class StorageBackend(Protocol):
    name: str

    def put(self, key: str, data: bytes, content_type: str) -> None: ...

    def open(self, key: str) -> Opened:
        """The object's bytes as a stream; :class:`FileMissing` when there is none."""

    def delete(self, key: str) -> None:
        """Remove the object (nothing happens when there is none)."""

    def exists(self, key: str) -> bool: ...

    def check(self) -> None:
        """Raise when the store does not answer (the readiness probe, ``/readyz``)."""

    def describe(self) -> str: ...


class FilesystemBackend:
    """Files under one directory (the embedded default; one host, or a directory every host mounts)."""

    name = "filesystem"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if self.root.resolve() not in target.parents:
            raise ValueError(f"storage key {key!r} leaves the storage directory")
        return target

    def put(self, key: str, data: bytes, content_type: str) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Written beside it and renamed: a reader never sees half a file.
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> Opened:
        try:
            fh = self.path(key).open("rb")
        except FileNotFoundError as exc:
            raise FileMissing(key) from exc
        return Opened(fh, os.fstat(fh.fileno()).st_size)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-"):
            pass

    def describe(self) -> str:
        return f"filesystem {self.root}"


class S3Backend:
    """Objects in an S3-compatible bucket.  The bucket must exist (created by whoever runs the store).

    boto3 clients are thread-safe but must not cross a ``fork``: each process makes its own on first
    use (RQ's forking worker runs each job in a child)."""

    name = "s3"

    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 prefix: str = "", addressing_style: str | None = None, connect_timeout: float = 5,
                 read_timeout: float = 60, max_attempts: int = 3):
        if not bucket:
            raise RuntimeError("VOUCHER_STORAGE_BACKEND=s3 needs VOUCHER_S3_BUCKET (an existing bucket).")
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.region = region or None
        self.prefix = prefix or ""
        self.addressing_style = addressing_style or None
        self.connect_timeout, self.read_timeout, self.max_attempts = connect_timeout, read_timeout, max_attempts
        self._clients: dict[tuple[int, str], object] = {}
        self._lock = threading.Lock()

    def _client(self, purpose: str = "data"):
        key = (os.getpid(), purpose)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self._clients[key] = self._make_client(purpose)
        return client

    def _make_client(self, purpose: str):
        import boto3
        from botocore.config import Config

        if purpose == "probe":  # the readiness probe: answer within a few seconds, no retries
            timeouts = {"connect_timeout": 2, "read_timeout": 3, "retries": {"max_attempts": 1, "mode": "standard"}}
        else:
            timeouts = {"connect_timeout": self.connect_timeout, "read_timeout": self.read_timeout,
                        "retries": {"max_attempts": self.max_attempts, "mode": "standard"}}
        s3 = {"addressing_style": self.addressing_style} if self.addressing_style else {}
        config = Config(s3=s3, **timeouts)
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                                              config=config)

    def _key(self, key: str) -> str:
        return self.prefix + key

    @staticmethod
    def _missing(exc) -> bool:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        return code in ("NoSuchKey", "404", "NotFound")

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._client().put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def open(self, key: str) -> Opened:
        from botocore.exceptions import ClientError

        try:
            answer = self._client().get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise FileMissing(key) from exc
            raise
        return Opened(answer["Body"], int(answer["ContentLength"]))

    def delete(self, key: str) -> None:
        self._client().delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._client().head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if self._missing(exc):
                return False
            raise
        return True

    def check(self) -> None:
        self._client("probe").head_bucket(Bucket=self.bucket)

    def describe(self) -> str:
        return f"s3 bucket {self.bucket}" + (f" at {self.endpoint_url}" if self.endpoint_url else "")


def backend_from_config(config) -> StorageBackend:
    """The backend ``STORAGE_BACKEND`` names (checked at start: a typo stops the application)."""
    name = str(config.get("STORAGE_BACKEND") or "filesystem").strip().lower()
    if name == "filesystem":
        return FilesystemBackend(config["STORAGE_DIR"])
    if name == "s3":
        def text(name: str) -> str | None:  # VOUCHER_S3_PREFIX=2026 arrives as a number
            value = config.get(name)
            return None if value is None or str(value).strip() == "" else str(value).strip()

        return S3Backend(text("S3_BUCKET") or "", endpoint_url=text("S3_ENDPOINT_URL"), region=text("S3_REGION"),
                         prefix=text("S3_PREFIX") or "", addressing_style=text("S3_ADDRESSING_STYLE"))
    raise RuntimeError(f"VOUCHER_STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")


EXTENSION_KEY = "voucher.storage"


def configure(app) -> None:
    app.extensions[EXTENSION_KEY] = backend_from_config(app.config)


def backend() -> StorageBackend:
    """The current application's storage backend."""
    return current_app.extensions[EXTENSION_KEY]


# --- writing -------------------------------------------------------------------------------------

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


def upload_problem(data: bytes, original_name: str | None, *, max_bytes: int,
                   formats: tuple[str, ...] = DEFAULT_FORMATS) -> tuple[str, dict] | None:
    """What :func:`save_upload` would refuse in an upload, as ``(English template, params)``, or None.

    ``data`` is the upload read up to ``max_bytes + 1`` bytes.  Lets a caller check every file of a
    form before it writes any (``voucher.materials.attach_files``).
    """
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in original_name or ""):
        return N_("The file name contains control characters: rename the file and upload it again."), {}
    if not data:
        return N_("The file is empty."), {}
    if len(data) > max_bytes:
        return N_("The file is larger than the limit of %(limit)s MB."), {"limit": max_bytes // (1024 * 1024)}
    fmt = detect_format(data)
    if fmt is None or fmt not in formats:
        if tuple(formats) == DEFAULT_FORMATS:
            return N_("Only PDF, JPEG or PNG files are accepted (checked by content, not by name)."), {}
        return (N_("Only these formats are accepted here: %(formats)s (checked by content, not by name)."),
                {"formats": format_names(formats)})
    return None


def save_upload(actor: Actor, stream: BinaryIO, original_name: str, *, max_bytes: int,
                owner_type: str, owner_id: int | None, purpose: str, field: str = "file",
                formats: tuple[str, ...] = DEFAULT_FORMATS, material: str | None = None) -> StoredFile:
    """Store an uploaded evidence file.

    Rule: refused (naming the field) when empty, larger than ``max_bytes``, or not one of
    ``formats`` by content (PDF, JPEG, PNG by magic bytes; Word/Excel .docx/.xlsx and OFD by their
    zip structure; .doc/.xls as compound files), whatever its name says, or when its name holds a control character
    (a NUL byte cannot even be stored); a directory in the name is dropped (files are stored under a
    random name anyway).  Everything is checked before the file is written.
    """
    data = stream.read(max_bytes + 1)
    problem = upload_problem(data, original_name, max_bytes=max_bytes, formats=formats)
    if problem is not None:
        message, params = problem
        raise ValidationFailed(message, field=field, **params)
    mime, ext = _type_of(detect_format(data))
    return _write(actor, data, original_name, mime, ext, owner_type=owner_type, owner_id=owner_id,
                  purpose=purpose, material=material, name_from_content=True)


def save_generated(actor: Actor, data: bytes, name: str, content_type: str, *,
                   owner_type: str, owner_id: int | None, purpose: str) -> StoredFile:
    """Store a document the system produced (PDF, CSV, XLSX)."""
    return _write(actor, data, name, content_type, Path(name).suffix or ".bin", owner_type=owner_type,
                  owner_id=owner_id, purpose=purpose)


def _write(actor: Actor, data: bytes, original_name: str, content_type: str, ext: str, *,
           owner_type: str, owner_id: int | None, purpose: str, material: str | None = None,
           name_from_content: bool = False) -> StoredFile:
    digest = hashlib.sha256(data).hexdigest()
    key = f"{owner_type}/{secrets.token_hex(16)}{ext}"
    store = backend()
    store.put(key, data, content_type)
    # A transaction that rolls back (a refusal after this, a failed commit) leaves no file behind.
    after_rollback(store.delete, key)
    safe_name = _display_name(original_name, ext if name_from_content else "")
    row = StoredFile(owner_type=owner_type, owner_id=owner_id, purpose=purpose, original_name=safe_name,
                     content_type=content_type, size_bytes=len(data), sha256=digest, relative_path=key,
                     uploaded_by=actor.user_id, material=material)
    db.session.add(row)
    db.session.flush()
    return row


# Other spellings of a type's extension a name may already end with.
_SAME_EXTENSION = {".jpg": (".jpg", ".jpeg")}


def _display_name(original_name: str | None, ext: str = "") -> str:
    """The name shown and offered on download: its last path part (``/`` or ``\\``), at most 255
    characters, control characters dropped, ending with the extension of the type its content was
    accepted as (a PDF sent as ``evil.exe`` is offered as ``evil.exe.pdf``, never as a program)."""
    name = (original_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cs")).strip()
    if name in ("", ".", ".."):
        name = "file"
    keep = ""  # the extension, kept when a long name is cut
    if ext:
        spellings = _SAME_EXTENSION.get(ext, (ext,))
        if not name.lower().endswith(spellings):
            name += ext
        keep = next(s for s in spellings if name.lower().endswith(s))
    if len(name) > 255:
        name = name[:255 - len(keep)] + name[len(name) - len(keep):]
    return name


# --- reading -------------------------------------------------------------------------------------

def open_stored(stored: StoredFile) -> Opened:
    """The stored file's bytes as a stream from the backend (:class:`FileMissing` when gone)."""
    return backend().open(stored.relative_path)


def read_bytes(stored: StoredFile) -> bytes:
    opened = open_stored(stored)
    try:
        return opened.file.read()
    finally:
        opened.close()


def exists(stored: StoredFile) -> bool:
    return backend().exists(stored.relative_path)


def open_verified(stored: StoredFile, sha256: str) -> Opened:
    """The stored bytes, checked against ``sha256`` before anything is handed out: read once from
    the backend in chunks into a spool (memory, then a temporary file past 1 MiB) while hashed.
    :class:`FileMissing` when gone, :class:`FileChanged` when they do not match."""
    source = open_stored(stored)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)
    digest = hashlib.sha256()
    try:
        with source.file:
            while chunk := source.file.read(CHUNK):
                digest.update(chunk)
                spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    if digest.hexdigest() != sha256:
        spool.close()
        raise FileChanged(stored.relative_path)
    size = spool.tell()
    spool.seek(0)
    return Opened(spool, size)


def send_stored(stored: StoredFile, opened: Opened | None = None, *, max_age: int | None = 0):
    """A download response streaming the stored file from the backend, as an attachment under its
    original name (ETag: its SHA-256; byte ranges and ``If-None-Match`` answered).  ``opened``: bytes
    already opened (``open_verified``); else opened here.  A file missing from the backend is a 404
    (``voucher.errors.NotFound``)."""
    from flask import request, send_file

    from voucher.errors import NotFound

    if opened is None:
        try:
            opened = open_stored(stored)
        except FileMissing:
            raise NotFound("The file is missing from storage.") from None
    response = send_file(opened.file, mimetype=stored.content_type, as_attachment=True,
                         download_name=stored.original_name, max_age=max_age, etag=stored.sha256,
                         conditional=False)
    response.content_length = opened.size
    return response.make_conditional(request, accept_ranges=True, complete_length=opened.size)
