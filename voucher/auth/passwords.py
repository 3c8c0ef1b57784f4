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

# Production profile: OWASP's Password Storage Cheat Sheet recommendation for argon2id (19 MiB,
# 2 passes, 1 lane), about 20 ms of one core per check.  argon2-cffi's default (RFC 9106's
# low-memory option: 64 MiB, 3 passes, 4 lanes) costs about 160 ms, and every login and every
# re-entered password in a disbursement approval pays it: in a deadline rush 100 users signing in
# kept both cores of a web host busy for seconds (bench/deadline_rush.py).  VOUCHER_ARGON2_* set
# another profile; stored hashes move to the profile in force at their next login (``needs_rehash``).
PRODUCTION_PROFILE = {"time_cost": 2, "memory_cost": 19456, "parallelism": 1}

_hasher = PasswordHasher(**PRODUCTION_PROFILE)


def configure(time_cost: int | None = None, memory_cost: int | None = None, parallelism: int | None = None) -> None:
    """Set another hashing profile (tests use a cheap one); with nothing given the profile stays as
    it is.  What is not given takes the production profile's value."""
    global _hasher
    if time_cost or memory_cost or parallelism:
        _hasher = PasswordHasher(time_cost=time_cost or PRODUCTION_PROFILE["time_cost"],
                                 memory_cost=memory_cost or PRODUCTION_PROFILE["memory_cost"],
                                 parallelism=parallelism or PRODUCTION_PROFILE["parallelism"])
        dummy_hash.cache_clear()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with another profile than the one in force (then the next
    successful login stores a new one)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


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
