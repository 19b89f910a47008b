"""Lawyers' accounts and credentials: argon2 passwords, login limits (:class:`LoginLimits`),
bearer and session tokens that expire and can be revoked (only their SHA-256 is stored),
deactivated accounts, CSRF tokens tied to the session.

Functions take an open session; the caller owns the unit of work. :func:`authenticate` records
the attempt and returns its result instead of raising, so that a failed attempt is committed
(and counted by the rate limit).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from desk.cases import InvalidInput
from desk.models import desk_lawyer, desk_login_attempt, desk_token, utcnow
from permanence.settings import desk_token_days

logger = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
TOKEN_BYTES = 32
MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024
CSRF_CONTEXT = b"permanence-desk-csrf"

_hasher = PasswordHasher()
# Verified when the email is unknown, so that the answer takes as long as for a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))

LoginResult = Literal["ok", "invalid", "limited"]


# ------------------------------------------------------------------ passwords


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: object) -> str:
    if not isinstance(email, str):
        raise InvalidInput("email must be a string")
    email = email.strip().lower()
    if not (3 <= len(email) <= 254) or email.count("@") != 1 or email.startswith("@"):
        raise InvalidInput("not an email address")
    return email


def set_lawyer(session: Session, email: str, password: str, now: datetime | None = None) -> int:
    """Create the lawyer's account, or set a new password if it exists; returns its id."""
    email = normalize_email(email)
    if not isinstance(password, str) or not (
        MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS
    ):
        raise InvalidInput(f"the password needs at least {MIN_PASSWORD_CHARS} characters")
    password_hash = hash_password(password)
    lawyer_id = lawyer_id_by_email(session, email)
    if lawyer_id is None:
        lawyer_id = session.execute(
            insert(desk_lawyer).values(
                email=email, password_hash=password_hash, active=True, created_at=now or utcnow()
            )
        ).inserted_primary_key[0]
        logger.info("desk.auth.lawyer.created id=%s", lawyer_id)
    else:
        session.execute(
            update(desk_lawyer)
            .where(desk_lawyer.c.id == lawyer_id)
            .values(password_hash=password_hash, active=True)
        )
        logger.info("desk.auth.lawyer.password_set id=%s", lawyer_id)
    return lawyer_id


MAX_NAME_CHARS = 120


def set_display_name(session: Session, lawyer_id: int, name: object) -> str | None:
    """How the pages name the lawyer (« Maître Exemple »); an empty name goes back to the
    e-mail address. Returns the name stored."""
    if not isinstance(name, str):
        raise InvalidInput("the name must be a string")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"the name has at most {MAX_NAME_CHARS} characters")
    session.execute(update(desk_lawyer).where(desk_lawyer.c.id == lawyer_id)
                    .values(display_name=name or None))
    return name or None


def lawyer_names(session: Session) -> dict[int, str]:
    """Every lawyer's name as the pages show it: the display name, else the e-mail address."""
    return {row.id: row.display_name or row.email for row in session.execute(
        select(desk_lawyer.c.id, desk_lawyer.c.email, desk_lawyer.c.display_name))}


def lawyer_id_by_email(session: Session, email: str) -> int | None:
    return session.execute(
        select(desk_lawyer.c.id).where(desk_lawyer.c.email == normalize_email(email))
    ).scalar_one_or_none()


# ------------------------------------------------------------------ login


@dataclass(frozen=True)
class LoginRule:
    """At most ``failures`` failed attempts within ``window``."""

    failures: int
    window: timedelta


@dataclass(frozen=True)
class LoginLimits:
    """The login limits: every number and window in one place.

    Failed attempts are rows of ``desk_login_attempt`` (email, client address, time), in the
    project's database, so that every server process counts the same attempts. The client
    address is the TCP peer, or the client a trusted proxy forwarded
    (:mod:`desk.client_address`, ``PERMANENCE_TRUSTED_PROXIES``). An attempt is refused without
    checking the password ("limited") when one of these holds:

    ``account_address``
        5 failures for this account from this address within 15 minutes, counted since the
        last success from there: someone guessing from one place. Another address is not
        affected, so a guesser behind the firm's trusted proxy does not lock the lawyer out.
    ``address``
        20 failures from this address within 15 minutes, whatever the accounts (password
        spraying); every login from that address waits.
    ``account``
        20 failures for this account within one hour, from all addresses together (guessing
        spread over many addresses). The account then only accepts logins from an address
        where it logged in successfully within ``known_address`` (30 days): the lawyer at her
        usual place still logs in with the right password; a new place waits until the
        failures leave the window.

    So the guesses against one account are at most 20 an hour (plus 5 per address it knows),
    and a typo by the lawyer costs her nothing until the fifth.
    """

    account_address: LoginRule = LoginRule(5, timedelta(minutes=15))
    address: LoginRule = LoginRule(20, timedelta(minutes=15))
    account: LoginRule = LoginRule(20, timedelta(hours=1))
    known_address: timedelta = timedelta(days=30)

    @property
    def longest(self) -> timedelta:
        return max(self.account_address.window, self.address.window, self.account.window)


LOGIN_LIMITS = LoginLimits()


def _count_failures(session: Session, since: datetime, *conditions: Any) -> int:
    return session.execute(
        select(func.count())
        .select_from(desk_login_attempt)
        .where(*conditions, ~desk_login_attempt.c.success, desk_login_attempt.c.at > since)
    ).scalar_one()


def _last_success(session: Session, *conditions: Any) -> datetime | None:
    return session.execute(
        select(func.max(desk_login_attempt.c.at)).where(*conditions, desk_login_attempt.c.success)
    ).scalar_one_or_none()


def login_refusal(session: Session, email: str, ip: str, now: datetime | None = None,
                  limits: LoginLimits = LOGIN_LIMITS) -> str | None:
    """Which limit refuses a login for ``email`` from ``ip`` now (``"account_address"``,
    ``"address"`` or ``"account"``), or None."""
    now = now or utcnow()
    by_email = desk_login_attempt.c.email == email
    by_ip = desk_login_attempt.c.ip == ip
    rule = limits.account_address
    since = now - rule.window
    last_here = _last_success(session, by_email, by_ip)
    if last_here is not None and last_here > since:
        since = last_here
    if _count_failures(session, since, by_email, by_ip) >= rule.failures:
        return "account_address"
    rule = limits.address
    if _count_failures(session, now - rule.window, by_ip) >= rule.failures:
        return "address"
    rule = limits.account
    if _count_failures(session, now - rule.window, by_email) >= rule.failures:
        known = last_here is not None and last_here > now - limits.known_address
        if not known:
            return "account"
    return None


def login_allowed(session: Session, email: str, ip: str, now: datetime | None = None) -> bool:
    return login_refusal(session, email, ip, now) is None


def authenticate(
    session: Session, email: object, password: object, ip: str, now: datetime | None = None
) -> tuple[LoginResult, int | None]:
    """Check a login and record the attempt: ``("ok", lawyer id)``, ``("invalid", None)`` or
    ``("limited", None)`` when a rule of :data:`LOGIN_LIMITS` refuses it (the password is then
    not even checked, and the refused attempt is not recorded).

    An existing account's row is locked first (``FOR UPDATE`` on PostgreSQL; SQLite's units of
    work already hold the write lock), so that concurrent attempts on one account, in any
    process, are counted one after the other and a burst cannot slip past the limit."""
    now = now or utcnow()
    try:
        email = normalize_email(email)
    except InvalidInput:
        return "invalid", None
    ip = (ip or "?")[:64]
    row = session.execute(
        select(desk_lawyer.c.id, desk_lawyer.c.password_hash, desk_lawyer.c.active)
        .where(desk_lawyer.c.email == email)
        .with_for_update()
    ).one_or_none()
    refusal = login_refusal(session, email, ip, now)
    if refusal is not None:
        logger.warning("desk.auth.login.limited rule=%s", refusal)
        return "limited", None
    valid_password = isinstance(password, str) and len(password) <= MAX_PASSWORD_CHARS
    ok = verify_password(row.password_hash if row else _DUMMY_HASH, password if valid_password
                         else "")
    ok = ok and valid_password and row is not None and row.active
    session.execute(insert(desk_login_attempt).values(email=email, ip=ip, at=now, success=ok))
    if not ok:
        logger.info("desk.auth.login.failed")
        return "invalid", None
    logger.info("desk.auth.login.ok lawyer=%s", row.id)
    return "ok", row.id


def prune_attempts(session: Session, now: datetime | None = None,
                   limits: LoginLimits = LOGIN_LIMITS) -> int:
    """Delete the attempts no rule reads any more: failures older than the longest window,
    successes older than ``known_address``."""
    now = now or utcnow()
    failures = session.execute(
        delete(desk_login_attempt).where(~desk_login_attempt.c.success,
                                         desk_login_attempt.c.at <= now - limits.longest))
    successes = session.execute(
        delete(desk_login_attempt).where(desk_login_attempt.c.success,
                                         desk_login_attempt.c.at <= now - limits.known_address))
    return failures.rowcount + successes.rowcount


# ------------------------------------------------------------------ tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def api_token_ttl() -> timedelta:
    """How long a new API token is valid: ``PERMANENCE_DESK_TOKEN_DAYS`` (default 90 days)."""
    return timedelta(days=desk_token_days())


def create_token(
    session: Session,
    lawyer_id: int,
    kind: Literal["api", "session"] = "api",
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """A new random token for the lawyer; only its hash is stored. Every token expires:
    session tokens after :data:`SESSION_TTL`, API tokens after :func:`api_token_ttl`, unless
    ``ttl`` says otherwise."""
    now = now or utcnow()
    if ttl is None:
        ttl = SESSION_TTL if kind == "session" else api_token_ttl()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.execute(
        insert(desk_token).values(
            lawyer_id=lawyer_id, kind=kind, token_hash=token_hash(token), created_at=now,
            expires_at=now + ttl,
        )
    )
    logger.info("desk.auth.token.created lawyer=%s kind=%s", lawyer_id, kind)
    return token


def token_expiry(session: Session, token: str) -> datetime | None:
    return session.execute(
        select(desk_token.c.expires_at).where(desk_token.c.token_hash == token_hash(token))
    ).scalar_one_or_none()


def verify_token(
    session: Session, token: object, kind: str = "api", now: datetime | None = None
) -> int | None:
    """The id of the active lawyer the token belongs to, or None (unknown, revoked, expired,
    without an expiry, or of a deactivated account)."""
    if not isinstance(token, str) or not token or len(token) > 256:
        return None
    now = now or utcnow()
    row = session.execute(
        select(desk_token.c.lawyer_id, desk_token.c.expires_at, desk_token.c.revoked_at)
        .join(desk_lawyer, desk_lawyer.c.id == desk_token.c.lawyer_id)
        .where(
            desk_token.c.token_hash == token_hash(token),
            desk_token.c.kind == kind,
            desk_lawyer.c.active,
        )
    ).one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is None or row.expires_at <= now:
        return None
    return row.lawyer_id


def revoke_token(session: Session, token: str, now: datetime | None = None) -> bool:
    result = session.execute(
        update(desk_token)
        .where(desk_token.c.token_hash == token_hash(token), desk_token.c.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return result.rowcount == 1


def revoke_all(session: Session, lawyer_id: int, now: datetime | None = None) -> int:
    """Revoke every token of the lawyer (API and sessions); returns how many were live."""
    result = session.execute(
        update(desk_token)
        .where(desk_token.c.lawyer_id == lawyer_id, desk_token.c.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    logger.info("desk.auth.tokens.revoked lawyer=%s count=%d", lawyer_id, result.rowcount)
    return result.rowcount


def deactivate(session: Session, lawyer_id: int, now: datetime | None = None) -> int:
    """The account can no longer log in and its tokens are revoked (refused anyway while
    inactive); ``set_lawyer`` with a new password reactivates it. Returns the tokens revoked."""
    session.execute(update(desk_lawyer).where(desk_lawyer.c.id == lawyer_id).values(active=False))
    logger.info("desk.auth.lawyer.deactivated id=%s", lawyer_id)
    return revoke_all(session, lawyer_id, now)


# ------------------------------------------------------------------ CSRF


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC of the (secret, random) session token, so it needs
    no storage and cannot be computed without the session cookie."""
    return hmac.new(session_token.encode("utf-8"), CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_valid(session_token: str, presented: object) -> bool:
    if not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(csrf_token(session_token), presented)
