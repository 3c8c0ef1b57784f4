"""Password hashes move to the hashing profile in force at the next successful login (page or
API token), keep working meanwhile, and are never rewritten by a wrong password; the production
profile is OWASP's argon2id recommendation."""
from __future__ import annotations

import subprocess
import sys

from argon2 import PasswordHasher, extract_parameters

from voucher.auth import passwords
from voucher.auth.models import User
from voucher.extensions import db

# A profile no test configuration uses: the hash a user kept from before a profile change.
OLD_PROFILE = PasswordHasher(time_cost=1, memory_cost=16, parallelism=2)


def _stored(user_id: int) -> str:
    db.session.expire_all()
    return db.session.get(User, user_id).password_hash


def _params(password_hash: str) -> tuple[int, int, int]:
    p = extract_parameters(password_hash)
    return p.time_cost, p.memory_cost, p.parallelism


def _with_old_hash(make_user, role: str) -> User:
    user = make_user(role)
    user.password_hash = OLD_PROFILE.hash(user.plain_password)
    db.session.flush()
    assert passwords.needs_rehash(user.password_hash)
    return user


def test_login_page_rehashes_an_old_profile_hash_and_the_password_keeps_working(client, make_user):
    user = _with_old_hash(make_user, "sme")
    old = user.password_hash
    response = client.post("/login", data={"email": user.email, "password": "not-the-password"})
    assert response.status_code == 422
    assert _stored(user.id) == old  # a wrong password rewrites nothing

    assert client.post("/login", data={"email": user.email, "password": user.plain_password}).status_code == 302
    new = _stored(user.id)
    assert new != old and not passwords.needs_rehash(new)
    assert _params(new) == _params(passwords.hash_password("any password at all"))
    assert passwords.verify_password(new, user.plain_password)

    client.post("/logout")
    assert client.post("/login", data={"email": user.email, "password": user.plain_password}).status_code == 302
    assert _stored(user.id) == new  # already in the profile in force: left alone


def test_api_token_issue_rehashes_too(client, make_user):
    user = _with_old_hash(make_user, "officer")
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": user.plain_password})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert not passwords.needs_rehash(_stored(user.id))


def test_a_deactivated_account_is_not_rehashed(client, make_user):
    user = _with_old_hash(make_user, "sme")
    user.active = False
    db.session.flush()
    old = user.password_hash
    assert client.post("/login", data={"email": user.email, "password": user.plain_password}).status_code == 422
    assert _stored(user.id) == old


def test_needs_rehash_of_a_malformed_hash_is_true_and_it_never_verifies():
    assert passwords.needs_rehash("not-a-hash")
    assert not passwords.verify_password("not-a-hash", "anything")


def test_production_profile_is_owasps_argon2id_recommendation():
    """Without VOUCHER_ARGON2_* a fresh process hashes with 19 MiB, 2 passes, 1 lane (argon2id)."""
    code = ("from voucher.auth import passwords; h = passwords.hash_password('correct horse battery');"
            "print(h); assert passwords.verify_password(h, 'correct horse battery')")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    assert out.startswith("$argon2id$v=19$m=19456,t=2,p=1$"), out
