"""Password hashing (argon2id) and the password policy.

Policy after NIST SP 800-63B: at least 8 characters, no composition rules, and refuse
passwords from a list of common ones (or ones built from the e-mail's local part).
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from voucher.errors import N_

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHasher()



def configure(time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None) -> None:
    """Tests use a cheap profile; production keeps argon2-cffi's defaults."""
    global _hasher
    if time_cost or memory_cost or parallelism:
        _hasher = PasswordHasher(time_cost=time_cost or 3, memory_cost=memory_cost or 65536,
                                 parallelism=parallelism or 4)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A well-formed hash to verify against when the e-mail is unknown, so timing does not tell.
@lru_cache(maxsize=1)
def dummy_hash() -> str:
    return _hasher.hash("not-a-real-password")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = resources.files("voucher.auth").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problem(password: str, email: str | None = None) -> tuple[str, dict] | None:
    """(English message template, its parameters) naming what is wrong, or None when acceptable."""
    if len(password) < MIN_LENGTH:
        return N_("Password must be at least %(min)d characters."), {"min": MIN_LENGTH}
    if len(password) > MAX_LENGTH:
        return N_("Password must be at most %(max)d characters."), {"max": MAX_LENGTH}
    lowered = password.lower()
    if lowered in common_passwords():
        return N_("This password is too common; choose another."), {}
    if email and lowered == email.split("@")[0].lower():
        return N_("Password must not be your e-mail name."), {}
    return None
