"""The storage backends (voucher.storage): every test runs on the filesystem and on S3 (a bucket on the
local moto server, tests/objectstore.py).  Files are written under their key, read back, streamed
to a download with byte ranges, removed when their transaction rolls back, and a changed or missing
file is noticed."""
from __future__ import annotations

import hashlib
import io
import os

import pytest

from voucher import storage
from voucher.audit.services import Actor
from voucher.extensions import db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _actor(user) -> Actor:
    return Actor(user.id, user.role, None, user.email)


def _save(user, data: bytes = PDF, name: str = "evidence.pdf"):
    return storage.save_upload(_actor(user), io.BytesIO(data), name, max_bytes=1024 * 1024, owner_type="test",
                               owner_id=None, purpose="evidence")


def _where_it_is(backend, key: str) -> bool:
    """Looked up in the store itself, not through the backend under test."""
    if backend.name == "s3":
        return backend.prefix + key in backend.server.keys(backend.bucket)
    return (backend.root / key).is_file()


def test_an_upload_is_written_under_its_key_and_reads_back(storage_backend, ctx, make_user):
    stored = _save(make_user("sme"))
    assert stored.relative_path.startswith("test/") and stored.relative_path.endswith(".pdf")
    assert stored.sha256 == hashlib.sha256(PDF).hexdigest() and stored.size_bytes == len(PDF)
    assert storage.read_bytes(stored) == PDF
    assert storage.exists(stored) and _where_it_is(storage_backend, stored.relative_path)


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32


@pytest.mark.parametrize("data, name, offered", [
    (PDF, "evil.exe", "evil.exe.pdf"),          # accepted as a PDF: never offered as a program
    (PDF, "report.PDF", "report.PDF"),
    (PDF, "file", "file.pdf"),
    (PDF, "..", "file.pdf"),
    (PDF, "x" * 5000 + ".pdf", "x" * 251 + ".pdf"),   # cut to 255 with its extension kept
    (PDF, "y" * 5000 + ".exe", "y" * 251 + ".pdf"),
    (JPEG, "photo.jpeg", "photo.jpeg"),         # either spelling of a JPEG's extension
    (JPEG, "photo.png", "photo.png.jpg"),
], ids=["exe", "upper-case", "no-extension", "dot-dot", "long", "long-exe", "jpeg", "png-that-is-jpeg"])
def test_an_upload_is_offered_under_a_name_ending_with_its_accepted_type(ctx, make_user, data, name, offered):
    stored = storage.save_upload(_actor(make_user("sme")), io.BytesIO(data), name, max_bytes=1024 * 1024,
                                 owner_type="test", owner_id=None, purpose="evidence")
    assert stored.original_name == offered and len(stored.original_name) <= 255


def test_s3_objects_carry_their_type_and_nothing_lands_on_the_file_system(s3_storage, app, ctx, make_user):
    before = {p for p in _files(app.config["STORAGE_DIR"])}
    stored = _save(make_user("sme"))
    head = s3_storage.server.client().head_object(Bucket=s3_storage.bucket, Key="files/" + stored.relative_path)
    assert head["ContentType"] == "application/pdf" and head["ContentLength"] == len(PDF)
    assert s3_storage.server.keys(s3_storage.bucket) == ["files/" + stored.relative_path]
    assert {p for p in _files(app.config["STORAGE_DIR"])} == before


def _files(root: str) -> list[str]:
    return [os.path.join(d, f) for d, _, names in os.walk(root) for f in names]


def test_a_file_written_in_a_transaction_that_rolls_back_is_removed(storage_backend, ctx, make_user):
    user = make_user("sme")
    db.session.commit()
    kept = _save(user, name="kept.pdf")
    db.session.commit()
    dropped = _save(user, name="dropped.pdf")
    key = dropped.relative_path
    assert _where_it_is(storage_backend, key)
    db.session.rollback()
    assert not _where_it_is(storage_backend, key)
    assert _where_it_is(storage_backend, kept.relative_path)


def test_a_refused_upload_writes_nothing(storage_backend, ctx, make_user):
    from voucher.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        _save(make_user("sme"), b"MZ\x90\x00 not a pdf")
    if storage_backend.name == "s3":
        assert storage_backend.server.keys(storage_backend.bucket) == []


def test_verified_reading_notices_a_changed_and_a_missing_file(storage_backend, ctx, make_user):
    stored = _save(make_user("sme"))
    opened = storage.open_verified(stored, stored.sha256)
    assert opened.size == len(PDF) and opened.file.read() == PDF
    opened.close()
    storage_backend.put(stored.relative_path, PDF + b"% appended", "application/pdf")
    with pytest.raises(storage.FileChanged):
        storage.open_verified(stored, stored.sha256)
    storage_backend.delete(stored.relative_path)
    with pytest.raises(storage.FileMissing):
        storage.open_verified(stored, stored.sha256)
    with pytest.raises(storage.FileMissing):
        storage.read_bytes(stored)


def test_a_large_document_is_verified_through_a_spool_not_held_whole(storage_backend, ctx, make_user):
    data = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024)
    stored = storage.save_generated(_actor(make_user("finance")), data, "big.pdf", "application/pdf",
                                    owner_type="document", owner_id=None, purpose="test")
    opened = storage.open_verified(stored, stored.sha256)
    try:
        assert opened.file._rolled  # past SPOOL_MAX_MEMORY the copy is a temporary file
        assert opened.size == len(data) and hashlib.sha256(opened.file.read()).hexdigest() == stored.sha256
    finally:
        opened.close()


def test_a_download_streams_from_the_backend_with_ranges_and_its_hash_as_etag(storage_backend, app, ctx,
                                                                              make_user):
    data = PDF + bytes(range(256)) * 40
    stored = _save(make_user("sme"), data, "scan.pdf")
    with app.test_request_context():
        whole = storage.send_stored(stored)
        assert whole.status_code == 200 and whole.content_length == len(data)
        assert whole.headers["Content-Disposition"] == "attachment; filename=scan.pdf"
        assert whole.get_etag()[0] == stored.sha256
        whole.direct_passthrough = False
        assert whole.get_data() == data
        whole.close()
    with app.test_request_context(headers={"Range": "bytes=5-14"}):
        part = storage.send_stored(stored)
        part.direct_passthrough = False
        assert part.status_code == 206 and part.get_data() == data[5:15]
        assert part.headers["Content-Range"] == f"bytes 5-14/{len(data)}"
        part.close()
    with app.test_request_context(headers={"If-None-Match": f'"{stored.sha256}"'}):
        unchanged = storage.send_stored(stored)
        assert unchanged.status_code == 304
        unchanged.close()


def test_a_download_of_a_missing_file_is_a_404_not_a_500(storage_backend, app, ctx, make_user):
    from voucher.errors import NotFound

    stored = _save(make_user("sme"))
    storage_backend.delete(stored.relative_path)
    with app.test_request_context(), pytest.raises(NotFound):
        storage.send_stored(stored)


def test_the_readiness_check_of_each_backend(storage_backend, s3_server):
    storage_backend.check()
    if storage_backend.name == "s3":
        gone = storage.S3Backend("voucher-no-such-bucket", endpoint_url=s3_server.endpoint_url, region="us-east-1")
        with pytest.raises(Exception):  # noqa: B017 - boto3 raises its own error types for a missing bucket
            gone.check()


def test_a_file_system_store_refuses_keys_that_leave_its_directory(tmp_path):
    backend = storage.FilesystemBackend(tmp_path / "store")
    with pytest.raises(ValueError):
        backend.path("../outside.pdf")
    backend.put("a/b.pdf", PDF, "application/pdf")
    assert (tmp_path / "store" / "a" / "b.pdf").read_bytes() == PDF
    assert not [p for p in (tmp_path / "store" / "a").iterdir() if p.name.startswith(".part-")]


# --- configuration -------------------------------------------------------------------------------

def _app(tmp_path, **config):
    from voucher import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'c.db'}",
                       "STORAGE_DIR": str(tmp_path / "storage"), "REDIS_URL": None, **config})


def test_the_file_system_is_the_default(tmp_path):
    backend = _app(tmp_path).extensions[storage.EXTENSION_KEY]
    assert backend.name == "filesystem" and backend.root == tmp_path / "storage"


def test_s3_is_chosen_by_the_environment(tmp_path, monkeypatch, s3_server):
    bucket = s3_server.new_bucket()
    monkeypatch.setenv("VOUCHER_STORAGE_BACKEND", "s3")
    monkeypatch.setenv("VOUCHER_S3_BUCKET", bucket)
    monkeypatch.setenv("VOUCHER_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("VOUCHER_S3_REGION", "us-east-1")
    monkeypatch.setenv("VOUCHER_S3_PREFIX", "2026")  # a number to from_prefixed_env: kept as text
    backend = _app(tmp_path).extensions[storage.EXTENSION_KEY]
    assert backend.name == "s3" and backend.bucket == bucket and backend.prefix == "2026"
    backend.put("x/y.pdf", PDF, "application/pdf")
    assert s3_server.keys(bucket) == ["2026x/y.pdf"]


@pytest.mark.parametrize("config, message", [
    ({"STORAGE_BACKEND": "s3"}, "VOUCHER_S3_BUCKET"),
    ({"STORAGE_BACKEND": "ftp"}, "must be one of filesystem, s3"),
])
def test_a_misconfigured_store_stops_the_application_at_start(tmp_path, config, message):
    with pytest.raises(RuntimeError, match=message):
        _app(tmp_path, **config)
