"""Lawyers' accounts and credentials: argon2 passwords, rate-limited logins, bearer and session
tokens (only their SHA-256 is stored), CSRF tokens tied to the session.

Functions take an open session; the caller owns the unit of work. :func:`authenticate` records
the attempt and returns its result instead of raising, so that a failed attempt is committed
(and counted by the rate limit).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from desk.cases import InvalidInput
from desk.models import desk_lawyer, desk_login_attempt, desk_token, utcnow

logger = logging.getLogger(__name__)

LOGIN_WINDOW = timedelta(minutes=15)
LOGIN_MAX_FAILURES = 5
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


def lawyer_id_by_email(session: Session, email: str) -> int | None:
    return session.execute(
        select(desk_lawyer.c.id).where(desk_lawyer.c.email == normalize_email(email))
    ).scalar_one_or_none()


# ------------------------------------------------------------------ login


def _failures(session: Session, email: str, ip: str, now: datetime) -> int:
    """Failed attempts for ``email`` from ``ip`` within the window, after the last success."""
    since = now - LOGIN_WINDOW
    key = (desk_login_attempt.c.email == email, desk_login_attempt.c.ip == ip)
    last_success = session.execute(
        select(func.max(desk_login_attempt.c.at)).where(*key, desk_login_attempt.c.success)
    ).scalar_one_or_none()
    if last_success is not None and last_success > since:
        since = last_success
    return session.execute(
        select(func.count())
        .select_from(desk_login_attempt)
        .where(*key, ~desk_login_attempt.c.success, desk_login_attempt.c.at > since)
    ).scalar_one()


def login_allowed(session: Session, email: str, ip: str, now: datetime | None = None) -> bool:
    return _failures(session, email, ip, now or utcnow()) < LOGIN_MAX_FAILURES


def authenticate(
    session: Session, email: object, password: object, ip: str, now: datetime | None = None
) -> tuple[LoginResult, int | None]:
    """Check a login and record the attempt: ``("ok", lawyer id)``, ``("invalid", None)`` or
    ``("limited", None)`` after :data:`LOGIN_MAX_FAILURES` failures within
    :data:`LOGIN_WINDOW` for this email and IP (the password is then not even checked)."""
    now = now or utcnow()
    try:
        email = normalize_email(email)
    except InvalidInput:
        return "invalid", None
    ip = (ip or "?")[:64]
    if not login_allowed(session, email, ip, now):
        logger.warning("desk.auth.login.limited")
        return "limited", None
    row = session.execute(
        select(desk_lawyer.c.id, desk_lawyer.c.password_hash, desk_lawyer.c.active).where(
            desk_lawyer.c.email == email
        )
    ).one_or_none()
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


# ------------------------------------------------------------------ tokens


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(
    session: Session,
    lawyer_id: int,
    kind: Literal["api", "session"] = "api",
    ttl: timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """A new random token for the lawyer; only its hash is stored. Session tokens expire after
    :data:`SESSION_TTL` unless ``ttl`` says otherwise; API tokens only when ``ttl`` is given."""
    now = now or utcnow()
    if ttl is None and kind == "session":
        ttl = SESSION_TTL
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.execute(
        insert(desk_token).values(
            lawyer_id=lawyer_id, kind=kind, token_hash=token_hash(token), created_at=now,
            expires_at=None if ttl is None else now + ttl,
        )
    )
    logger.info("desk.auth.token.created lawyer=%s kind=%s", lawyer_id, kind)
    return token


def verify_token(
    session: Session, token: object, kind: str = "api", now: datetime | None = None
) -> int | None:
    """The id of the active lawyer the token belongs to, or None (unknown, revoked, expired)."""
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
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row.lawyer_id


def revoke_token(session: Session, token: str, now: datetime | None = None) -> bool:
    result = session.execute(
        update(desk_token)
        .where(desk_token.c.token_hash == token_hash(token), desk_token.c.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return result.rowcount == 1


# ------------------------------------------------------------------ CSRF


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: an HMAC of the (secret, random) session token, so it needs
    no storage and cannot be computed without the session cookie."""
    return hmac.new(session_token.encode("utf-8"), CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_valid(session_token: str, presented: object) -> bool:
    if not isinstance(presented, str) or not presented:
        return False
    return hmac.compare_digest(csrf_token(session_token), presented)
