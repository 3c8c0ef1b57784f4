"""The public address setting: ``VOUCHER_PUBLIC_BASE_URL`` → ``PUBLIC_BASE_URL``, normalised at
start (a malformed address stops the start); unset, make run's address.  What documents print and
encode with it: tests/payments/test_public_address_documents.py."""
from __future__ import annotations

import pytest

from voucher.config import TestConfig, normalise_public_base_url, public_url

PUBLIC = "https://voucher.wzjxj.example.gov.cn"


def _config(**extra):
    return {**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}, **extra}


def test_the_setting_comes_from_the_environment_and_is_normalised(monkeypatch, tmp_path):
    from voucher import create_app

    monkeypatch.setenv("VOUCHER_PUBLIC_BASE_URL", PUBLIC + "/")
    app = create_app(_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'x.db'}"))
    assert app.config["PUBLIC_BASE_URL"] == PUBLIC
    with app.app_context():
        assert public_url("/verify/ABC") == PUBLIC + "/verify/ABC"


@pytest.mark.parametrize("bad", ["voucher.example.gov.cn", "ftp://x.example", "https://x.example/?a=1", "https://"])
def test_a_malformed_public_address_stops_the_start(bad):
    with pytest.raises(ValueError, match="PUBLIC_BASE_URL"):
        normalise_public_base_url(bad)


def test_unset_the_address_is_make_runs(app):
    with app.app_context():
        assert app.config["PUBLIC_BASE_URL"] is None
        assert public_url("/verify/X") == "http://127.0.0.1:5000/verify/X"
