"""Which real backends this machine offers the suite: ``python -m tests.backends postgres|redis``
prints a URL when it answers (the environment variable's, else this machine's default), or nothing."""
from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

DEFAULTS = {
    "postgres": ("VOUCHER_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/voucher_test"),
    "redis": ("VOUCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15"),
}


def reachable(url: str) -> bool:
    parts = urlsplit(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=1):
            return True
    except OSError:
        return False


def url_for(kind: str) -> str | None:
    env_name, default = DEFAULTS[kind]
    url = os.environ.get(env_name) or default
    return url if reachable(url) else None


if __name__ == "__main__":
    print(url_for(sys.argv[1]) or "")
