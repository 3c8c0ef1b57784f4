"""End to end on S3: an SME uploads evidence through the application page, the file lands in the
bucket (not on the file system), and the officer downloads the same bytes streamed from it."""
from __future__ import annotations

import io
from pathlib import Path

from voucher.applications import services

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"% evidence " * 500


def test_an_upload_goes_to_the_bucket_and_downloads_from_it(s3_storage, app, client, login, sme, officer,
                                                            file_application):
    application = file_application(sme, submit=False)
    login(sme)
    before = set(s3_storage.server.keys(s3_storage.bucket))
    response = client.post(f"/applications/{application.id}/attachments",
                           data={"material_quotation": (io.BytesIO(PDF), "quote.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    [stored] = [f for f in services.attachments(application.id) if f.original_name == "quote.pdf"]
    assert set(s3_storage.server.keys(s3_storage.bucket)) - before == {"files/" + stored.relative_path}
    assert not (Path(app.config["STORAGE_DIR"]) / stored.relative_path).exists()
    client.post("/logout")
    login(officer)
    download = client.get(f"/applications/{application.id}/attachments/{stored.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Length"] == str(len(PDF))
    assert download.headers["Content-Disposition"] == "attachment; filename=quote.pdf"
    assert "no-store" in download.headers["Cache-Control"]
