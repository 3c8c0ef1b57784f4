"""End to end on S3: a document job run by a worker stores its PDF in the bucket, and the download
page streams the same bytes from it after checking them against the recorded SHA-256; a document
whose object was changed or removed in the bucket is refused (409, 404), never served."""
from __future__ import annotations

import hashlib

from tests.factories import do_login
from voucher.documents import services
from voucher.documents.models import Document, JobRecord
from voucher.extensions import db


def test_a_document_built_by_a_worker_is_kept_in_the_bucket_and_downloaded_from_it(s3_storage, jobs_env):
    finance = jobs_env.user("finance", password="pw-finance-s3-long")
    job_id = services.request_document(finance.actor(), "payment_order", "disbursement", 1).id
    db.session.commit()
    jobs_env.drain()
    record = jobs_env.fresh(JobRecord, job_id)
    assert record.status == "succeeded"
    document = db.session.get(Document, record.result_document_id)
    key, document_id, sha256 = "files/" + document.stored_file.relative_path, document.id, document.sha256
    db.session.remove()  # SQLite: no transaction of the test's left open while the pages write
    assert s3_storage.server.keys(s3_storage.bucket) == [key]
    in_bucket = s3_storage.server.client().get_object(Bucket=s3_storage.bucket, Key=key)["Body"].read()
    assert hashlib.sha256(in_bucket).hexdigest() == sha256 and in_bucket.startswith(b"%PDF-")

    client = jobs_env.app.test_client()
    assert do_login(client, finance.email, "pw-finance-s3-long").status_code == 302
    url = f"/documents/{document_id}/download"
    download = client.get(url)
    assert download.status_code == 200 and download.data == in_bucket
    assert download.headers["Content-Length"] == str(len(in_bucket))
    assert download.headers["Content-Type"] == "application/pdf"

    s3_storage.server.client().put_object(Bucket=s3_storage.bucket, Key=key, Body=in_bucket + b"%tampered")
    assert client.get(url).status_code == 409
    s3_storage.server.client().delete_object(Bucket=s3_storage.bucket, Key=key)
    assert client.get(url).status_code == 404
