"""A local S3-compatible object store for the suite: moto's server mode (``moto[server]``) on a free
loopback port, started once per session when a test asks for it, and the fixtures that put the
application's files in it.

* ``s3_server`` — the server (session): ``endpoint_url``, ``env`` (what a process needs to use it:
  credentials and region for boto3), ``client()`` and ``new_bucket()``.
* ``s3_storage`` — the app's storage backend switched to a fresh bucket for one test.
* ``storage_backend`` — parametrised: the test runs on the filesystem backend, then on S3.
"""
from __future__ import annotations

import os
import secrets

import pytest

# Fixed test credentials: boto3 then never looks further along its chain (no ~/.aws, and never the
# cloud instance-metadata address, which is not on this machine).
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "voucher-test",
    "AWS_SECRET_ACCESS_KEY": "voucher-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


class S3Server:
    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url
        self.env = {**AWS_ENV}

    def client(self):
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name="us-east-1")

    def new_bucket(self) -> str:
        name = f"voucher-test-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(o["Key"] for o in listing.get("Contents", []))

    def app_config(self, bucket: str, prefix: str = "") -> dict:
        """The settings that point the application at ``bucket`` on this server."""
        return {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_ENDPOINT_URL": self.endpoint_url,
                "S3_REGION": "us-east-1", "S3_PREFIX": prefix}


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture()
def s3_storage(app, s3_server):
    """The application's files go to a fresh bucket on the local S3 server for this test."""
    from voucher import storage

    bucket = s3_server.new_bucket()
    settings = s3_server.app_config(bucket, prefix="files/")
    saved_backend = app.extensions[storage.EXTENSION_KEY]
    saved_config = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    backend = storage.backend_from_config(app.config)
    app.extensions[storage.EXTENSION_KEY] = backend
    backend.server = s3_server
    try:
        yield backend
    finally:
        app.extensions[storage.EXTENSION_KEY] = saved_backend
        app.config.update(saved_config)


@pytest.fixture(params=["filesystem", "s3"])
def storage_backend(request, app):
    """Runs the test on each backend: the app's filesystem store, then a bucket on the S3 server."""
    from voucher import storage

    if request.param == "s3":
        return request.getfixturevalue("s3_storage")
    return app.extensions[storage.EXTENSION_KEY]
