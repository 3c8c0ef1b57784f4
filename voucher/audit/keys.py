"""The audit chain's HMAC keys: kept outside the database, rotated by key id.

``AUDIT_KEYS`` (environment ``VOUCHER_AUDIT_KEYS``) is ``"k2:secret2,k1:secret1"``: newest first.
New events are signed with the first key; every listed key still verifies the events it signed,
so a rotation adds a key in front and keeps the old ones.  Outside production a fixed development
key (id ``dev``) signs when none is configured and always verifies; production refuses to start
without a configured key, and a ``dev``-signed event does not verify there (its key is public).
"""
from __future__ import annotations

import re
from collections.abc import Mapping

DEV_KEY_ID = "dev"
DEV_SECRET = b"voucher-development-audit-key-not-secret"
MIN_SECRET_LENGTH = 32
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")


class AuditKeyError(ValueError):
    pass


def parse_keys(value) -> list[tuple[str, bytes]]:
    """``"k2:s2,k1:s1"`` (or a list of ``"id:secret"``, or a dict id → secret) → [(id, secret)], newest
    first.  Refuses a malformed id, a repeated id and an empty secret."""
    if not value:
        return []
    if isinstance(value, Mapping):
        items = [f"{k}:{v}" for k, v in value.items()]
    elif isinstance(value, str):
        items = [part for part in value.split(",") if part.strip()]
    else:
        items = list(value)
    keys: list[tuple[str, bytes]] = []
    for item in items:
        key_id, sep, secret = str(item).strip().partition(":")
        if not sep or not _KEY_ID.fullmatch(key_id) or not secret:
            raise AuditKeyError("AUDIT_KEYS: each key is written id:secret (id of letters, digits, . _ -), "
                                "separated by commas, newest first.")
        if key_id in dict(keys):
            raise AuditKeyError(f"AUDIT_KEYS: the key id {key_id!r} is given twice.")
        keys.append((key_id, secret.encode("utf-8")))
    return keys


def check_production(config) -> None:
    """Production needs its own keys: at least one, none with the development id, each secret at
    least 32 characters."""
    keys = parse_keys(config.get("AUDIT_KEYS"))
    if not keys:
        raise RuntimeError("Refusing to start in production without AUDIT_KEYS (VOUCHER_AUDIT_KEYS=\"k1:<secret>\"): "
                           "the audit chain is signed with a key kept outside the database.")
    for key_id, secret in keys:
        if key_id == DEV_KEY_ID or len(secret) < MIN_SECRET_LENGTH:
            raise RuntimeError(f"Refusing to start in production: audit key {key_id!r} is the development key or "
                               f"shorter than {MIN_SECRET_LENGTH} characters.")


def keyring(config) -> tuple[tuple[str, bytes], dict[str, bytes]]:
    """(the signing key, every key that verifies) for an app's config."""
    keys = parse_keys(config.get("AUDIT_KEYS"))
    production = config.get("ENV_NAME") == "production"
    verifying = dict(keys)
    if not production:
        verifying.setdefault(DEV_KEY_ID, DEV_SECRET)
    signing = keys[0] if keys else (DEV_KEY_ID, DEV_SECRET)
    return signing, verifying
