"""Accounts and credentials: argon2, login rate limit, tokens stored as hashes, CSRF, CLI."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from desk_testlib import T0
from sqlalchemy import select

from desk import auth, cli
from desk.cases import InvalidInput
from desk.models import desk_lawyer, desk_login_attempt, desk_token

EMAIL, PASSWORD, IP = "avocat@cabinet.example", "un mot de passe solide", "192.0.2.1"


@pytest.fixture
def lawyer(factory) -> int:
    with factory.begin() as session:
        return auth.set_lawyer(session, EMAIL, PASSWORD, now=T0)


def test_argon2_round_trip() -> None:
    hashed = auth.hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert auth.verify_password(hashed, PASSWORD)
    assert not auth.verify_password(hashed, PASSWORD + "!")
    assert not auth.verify_password("not a hash", PASSWORD)
    assert auth.hash_password(PASSWORD) != hashed  # salted


def test_account_stores_only_the_hash_and_email_is_normalised(factory, lawyer) -> None:
    with factory.begin() as session:
        row = session.execute(select(desk_lawyer)).one()
        assert row.email == EMAIL and auth.verify_password(row.password_hash, PASSWORD)
        again = auth.set_lawyer(session, "  AVOCAT@Cabinet.example ", "un autre mot de passe")
        assert again == lawyer
        assert auth.authenticate(session, EMAIL, "un autre mot de passe", IP) == ("ok", lawyer)


@pytest.mark.parametrize(("email", "password"), [
    ("not-an-email", PASSWORD), ("@x", PASSWORD), (EMAIL, "short"), (EMAIL, None), (None, PASSWORD),
])
def test_bad_accounts_are_refused(factory, email, password) -> None:
    with pytest.raises(InvalidInput):
        with factory.begin() as session:
            auth.set_lawyer(session, email, password)


def login(factory, password: str, ip: str = IP, now=T0, email: str = EMAIL):
    with factory.begin() as session:
        return auth.authenticate(session, email, password, ip, now=now)


def test_login_and_its_rate_limit(factory, lawyer) -> None:
    assert login(factory, PASSWORD, now=T0 - timedelta(minutes=1)) == ("ok", lawyer)
    assert login(factory, "wrong password", email="unknown@example.fr") == ("invalid", None)
    for minute in range(auth.LOGIN_MAX_FAILURES):
        assert login(factory, "wrong", now=T0 + timedelta(minutes=minute)) == ("invalid", None)
    after = T0 + timedelta(minutes=auth.LOGIN_MAX_FAILURES)
    # Limited now, even with the right password; another address is not.
    assert login(factory, PASSWORD, now=after) == ("limited", None)
    assert login(factory, PASSWORD, ip="198.51.100.7", now=after) == ("ok", lawyer)
    # Limited while the failures are within the window; once the first one has left it, the
    # failures left in the window are below the limit.
    first_failure = T0
    just_before = first_failure + auth.LOGIN_WINDOW - timedelta(seconds=1)
    assert login(factory, PASSWORD, now=just_before) == ("limited", None)
    assert login(factory, PASSWORD, now=first_failure + auth.LOGIN_WINDOW) == ("ok", lawyer)
    with factory.begin() as session:
        attempts = session.execute(select(desk_login_attempt.c.success)).scalars().all()
    # Every checked attempt is recorded; limited ones are refused before any check.
    assert attempts.count(False) == 1 + auth.LOGIN_MAX_FAILURES


def test_a_success_resets_the_failure_count(factory, lawyer) -> None:
    for minute in range(auth.LOGIN_MAX_FAILURES - 1):
        login(factory, "wrong", now=T0 + timedelta(minutes=minute))
    assert login(factory, PASSWORD, now=T0 + timedelta(minutes=5)) == ("ok", lawyer)
    for minute in range(auth.LOGIN_MAX_FAILURES - 1):
        login(factory, "wrong", now=T0 + timedelta(minutes=6 + minute))
    assert login(factory, PASSWORD, now=T0 + timedelta(minutes=12)) == ("ok", lawyer)


def test_tokens_are_stored_as_sha256_only(factory, lawyer) -> None:
    with factory.begin() as session:
        token = auth.create_token(session, lawyer, "api", now=T0)
        stored = session.execute(select(desk_token)).one()
    assert len(token) >= 43  # 32 random bytes, base64url
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {str(value) for value in stored}
    with factory.begin() as session:
        assert auth.verify_token(session, token, "api") == lawyer
        assert auth.verify_token(session, token, "session") is None  # kinds are not mixed
        assert auth.verify_token(session, token + "x", "api") is None
        assert auth.verify_token(session, None, "api") is None
        assert auth.revoke_token(session, token)
        assert auth.verify_token(session, token, "api") is None


def test_session_tokens_expire(factory, lawyer) -> None:
    with factory.begin() as session:
        token = auth.create_token(session, lawyer, "session", now=T0)
        assert auth.verify_token(session, token, "session", now=T0 + timedelta(hours=1)) == lawyer
        expired = T0 + auth.SESSION_TTL
        assert auth.verify_token(session, token, "session", now=expired) is None


def test_an_inactive_lawyer_has_no_access(factory, lawyer) -> None:
    with factory.begin() as session:
        token = auth.create_token(session, lawyer, "api")
        session.execute(desk_lawyer.update().values(active=False))
    with factory.begin() as session:
        assert auth.verify_token(session, token) is None
        assert auth.authenticate(session, EMAIL, PASSWORD, IP) == ("invalid", None)


def test_csrf_token_is_tied_to_the_session() -> None:
    one, other = "session-token-one", "session-token-two"
    assert auth.csrf_valid(one, auth.csrf_token(one))
    assert not auth.csrf_valid(other, auth.csrf_token(one))
    assert not auth.csrf_valid(one, None)
    assert not auth.csrf_valid(one, "")
    assert auth.csrf_token(one) != one


def test_cli_creates_a_lawyer_and_prints_a_working_token(desk_url, factory, monkeypatch, capsys):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    assert cli.main(["user", EMAIL, PASSWORD]) == 0
    assert cli.main(["token", EMAIL]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    with factory.begin() as session:
        lawyer = auth.lawyer_id_by_email(session, EMAIL)
        assert lawyer is not None and auth.verify_token(session, token) == lawyer
    assert cli.main(["token", "nobody@example.fr"]) == 1
    assert cli.main(["user", EMAIL, "short"]) == 2
