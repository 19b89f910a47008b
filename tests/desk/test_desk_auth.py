"""Accounts and credentials: argon2, login rate limit, tokens stored as hashes, CSRF, CLI."""

from __future__ import annotations

import hashlib
import io
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


RULE = auth.LOGIN_LIMITS.account_address


def test_login_and_its_rate_limit(factory, lawyer) -> None:
    assert login(factory, PASSWORD, now=T0 - timedelta(minutes=1)) == ("ok", lawyer)
    assert login(factory, "wrong password", email="unknown@example.fr") == ("invalid", None)
    for minute in range(RULE.failures):
        assert login(factory, "wrong", now=T0 + timedelta(minutes=minute)) == ("invalid", None)
    after = T0 + timedelta(minutes=RULE.failures)
    # Limited now, even with the right password; another address is not.
    assert login(factory, PASSWORD, now=after) == ("limited", None)
    assert login(factory, PASSWORD, ip="198.51.100.7", now=after) == ("ok", lawyer)
    # Limited while the failures are within the window; once the first one has left it, the
    # failures left in the window are below the limit.
    first_failure = T0
    just_before = first_failure + RULE.window - timedelta(seconds=1)
    assert login(factory, PASSWORD, now=just_before) == ("limited", None)
    assert login(factory, PASSWORD, now=first_failure + RULE.window) == ("ok", lawyer)
    with factory.begin() as session:
        attempts = session.execute(select(desk_login_attempt.c.success)).scalars().all()
    # Every checked attempt is recorded; limited ones are refused before any check.
    assert attempts.count(False) == 1 + RULE.failures


def test_a_success_resets_the_failure_count(factory, lawyer) -> None:
    for minute in range(RULE.failures - 1):
        login(factory, "wrong", now=T0 + timedelta(minutes=minute))
    assert login(factory, PASSWORD, now=T0 + timedelta(minutes=5)) == ("ok", lawyer)
    for minute in range(RULE.failures - 1):
        login(factory, "wrong", now=T0 + timedelta(minutes=6 + minute))
    assert login(factory, PASSWORD, now=T0 + timedelta(minutes=12)) == ("ok", lawyer)


def test_spraying_from_one_address_is_stopped(factory, lawyer) -> None:
    """Many accounts, one password each, from one address: the address waits, for every
    account (the lawyer's right password included); another address does not."""
    rule = auth.LOGIN_LIMITS.address
    for n in range(rule.failures):
        assert login(factory, "Printemps2026!", email=f"a{n}@cabinet.example",
                     now=T0 + timedelta(seconds=n)) == ("invalid", None)
    after = T0 + timedelta(seconds=rule.failures)
    assert login(factory, "Printemps2026!", email="z@cabinet.example", now=after) == (
        "limited", None)
    assert login(factory, PASSWORD, now=after) == ("limited", None)
    assert login(factory, PASSWORD, ip="198.51.100.7", now=after) == ("ok", lawyer)
    assert login(factory, PASSWORD, now=T0 + rule.window + timedelta(seconds=1)) == (
        "ok", lawyer)


def test_guessing_from_many_addresses_keeps_the_lawyers_own_address(factory, lawyer) -> None:
    """Failures spread over addresses, each below its own limit: past the account's cap, only
    an address where the account logged in before is accepted, and the cap leaves with the
    window."""
    assert login(factory, PASSWORD, ip="192.0.2.1", now=T0 - timedelta(days=2)) == ("ok", lawyer)
    rule = auth.LOGIN_LIMITS.account
    for n in range(rule.failures):
        assert login(factory, "guess", ip=f"203.0.113.{n + 1}",
                     now=T0 + timedelta(seconds=n)) == ("invalid", None)
    after = T0 + timedelta(minutes=1)
    # Yet another address, even with the right password: refused while the cap holds.
    assert login(factory, PASSWORD, ip="203.0.113.200", now=after) == ("limited", None)
    # The lawyer at her usual address: in.
    assert login(factory, PASSWORD, ip="192.0.2.1", now=after) == ("ok", lawyer)
    # A wrong password from her address is still checked (and counted), not waved through.
    assert login(factory, "guess", ip="192.0.2.1", now=after) == ("invalid", None)
    assert login(factory, PASSWORD, ip="203.0.113.200", now=T0 + rule.window + timedelta(
        seconds=1)) == ("ok", lawyer)


def test_old_attempts_are_pruned(factory, lawyer) -> None:
    login(factory, "wrong", now=T0)
    login(factory, PASSWORD, now=T0)
    limits = auth.LOGIN_LIMITS
    with factory.begin() as session:
        assert auth.prune_attempts(session, now=T0 + limits.longest) == 1
        assert auth.prune_attempts(session, now=T0 + limits.known_address) == 1
        assert session.execute(select(desk_login_attempt)).all() == []


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


def test_every_token_expires(factory, lawyer, monkeypatch) -> None:
    with factory.begin() as session:
        token = auth.create_token(session, lawyer, "session", now=T0)
        assert auth.verify_token(session, token, "session", now=T0 + timedelta(hours=1)) == lawyer
        expired = T0 + auth.SESSION_TTL
        assert auth.verify_token(session, token, "session", now=expired) is None
        api = auth.create_token(session, lawyer, "api", now=T0)
        assert auth.token_expiry(session, api) == T0 + timedelta(days=90)
        assert auth.verify_token(session, api, now=T0 + timedelta(days=89)) == lawyer
        assert auth.verify_token(session, api, now=T0 + timedelta(days=90)) is None
    monkeypatch.setenv("PERMANENCE_DESK_TOKEN_DAYS", "7")
    with factory.begin() as session:
        api = auth.create_token(session, lawyer, "api", now=T0)
        assert auth.verify_token(session, api, now=T0 + timedelta(days=7)) is None
        # A token stored without an expiry (before the migration) is refused.
        session.execute(desk_token.update().where(
            desk_token.c.token_hash == auth.token_hash(api)).values(expires_at=None))
        assert auth.verify_token(session, api, now=T0) is None
    monkeypatch.setenv("PERMANENCE_DESK_TOKEN_DAYS", "forever")
    with pytest.raises(ValueError), factory.begin() as session:
        auth.create_token(session, lawyer, "api")


def test_revoke_all_and_deactivate(factory, lawyer) -> None:
    with factory.begin() as session:
        api, browser = auth.create_token(session, lawyer), auth.create_token(session, lawyer,
                                                                             "session")
        assert auth.revoke_all(session, lawyer) == 2
        assert auth.verify_token(session, api) is None
        assert auth.verify_token(session, browser, "session") is None
        fresh = auth.create_token(session, lawyer)
        assert auth.verify_token(session, fresh) == lawyer
        assert auth.deactivate(session, lawyer) == 1
        assert auth.verify_token(session, fresh) is None
        assert auth.authenticate(session, EMAIL, PASSWORD, IP) == ("invalid", None)
        # A new password reactivates the account; the revoked tokens stay revoked.
        auth.set_lawyer(session, EMAIL, "encore un mot de passe")
        assert auth.authenticate(session, EMAIL, "encore un mot de passe", IP) == ("ok", lawyer)
        assert auth.verify_token(session, fresh) is None


def test_csrf_token_is_tied_to_the_session() -> None:
    one, other = "session-token-one", "session-token-two"
    assert auth.csrf_valid(one, auth.csrf_token(one))
    assert not auth.csrf_valid(other, auth.csrf_token(one))
    assert not auth.csrf_valid(one, None)
    assert not auth.csrf_valid(one, "")
    assert auth.csrf_token(one) != one


def test_cli_creates_a_lawyer_and_prints_a_working_token(desk_url, factory, monkeypatch, capsys):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    typed = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(typed))
    assert cli.main(["user", EMAIL]) == 0
    assert cli.main(["token", EMAIL]) == 0
    out = capsys.readouterr()
    token = out.out.strip().splitlines()[-1]
    assert "expires" in out.err
    with factory.begin() as session:
        lawyer = auth.lawyer_id_by_email(session, EMAIL)
        assert lawyer is not None and auth.verify_token(session, token) == lawyer
    assert cli.main(["token", "nobody@example.fr"]) == 1
    # The two prompts differ: nothing changes.
    typed = iter(["un mot de passe neuf", "un mot de passe nuef"])
    assert cli.main(["user", EMAIL]) == 2
    typed = iter(["short", "short"])
    assert cli.main(["user", EMAIL]) == 2
    with factory.begin() as session:
        assert auth.authenticate(session, EMAIL, PASSWORD, IP)[0] == "ok"


def test_cli_never_takes_a_password_on_the_command_line(desk_url, monkeypatch, capsys):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["user", EMAIL, PASSWORD])
    assert exit_.value.code == 2
    # From a pipe, for scripts: one line on standard input.
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", EMAIL, "--password-stdin"]) == 0


def test_cli_revoke_and_deactivate(desk_url, factory, monkeypatch, capsys):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, EMAIL, PASSWORD)
        first, second = auth.create_token(session, lawyer), auth.create_token(session, lawyer)
    assert cli.main(["revoke", EMAIL]) == 0
    assert "2 tokens revoked" in capsys.readouterr().out
    with factory.begin() as session:
        assert auth.verify_token(session, first) is None and auth.verify_token(
            session, second) is None
        third = auth.create_token(session, lawyer)
    assert cli.main(["deactivate", EMAIL]) == 0
    with factory.begin() as session:
        assert auth.verify_token(session, third) is None
        assert auth.authenticate(session, EMAIL, PASSWORD, IP) == ("invalid", None)
    assert cli.main(["revoke", "nobody@example.fr"]) == 1
    assert cli.main(["deactivate", "nobody@example.fr"]) == 1


def test_cli_names_a_lawyer_for_the_pages(desk_url, factory, monkeypatch, capsys):
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, EMAIL, PASSWORD)
        assert auth.lawyer_names(session) == {lawyer: EMAIL}  # no name yet: the address
    assert cli.main(["name", EMAIL, "  Maître   Exemple "]) == 0
    assert "shown as Maître Exemple" in capsys.readouterr().out
    with factory.begin() as session:
        assert auth.lawyer_names(session) == {lawyer: "Maître Exemple"}
    assert cli.main(["name", EMAIL, "x" * 121]) == 2
    assert cli.main(["name", "nobody@example.fr", "Personne"]) == 1
    assert cli.main(["name", EMAIL, ""]) == 0  # back to the address
    with factory.begin() as session:
        assert auth.lawyer_names(session) == {lawyer: EMAIL}
