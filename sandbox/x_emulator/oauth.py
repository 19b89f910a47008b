"""Signatures: OAuth 1.0a HMAC-SHA1 (RFC 5849) for API calls, HMAC-SHA256 for webhooks.

The OAuth check is written from RFC 5849 section 3.4, independently of oauthlib (which
tweepy uses to sign), so the tests exercise two implementations against each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import parse_qsl, quote, unquote, urlsplit

_HEADER_PARAM = re.compile(r'\s*([A-Za-z0-9_\-.~%]+)\s*=\s*"([^"]*)"\s*(?:,|$)')
_REQUIRED = ("oauth_consumer_key", "oauth_nonce", "oauth_signature",
             "oauth_signature_method", "oauth_timestamp", "oauth_token")


def percent_encode(value: str) -> str:
    """RFC 5849 section 3.6: UTF-8, then everything but ``ALPHA DIGIT - . _ ~`` escaped."""
    return quote(value.encode("utf-8"), safe="-._~")


def parse_authorization_header(header: str) -> dict[str, str] | None:
    """Parameters of an ``Authorization: OAuth ...`` header, or None if it is not one."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "oauth":
        return None
    params: dict[str, str] = {}
    position = 0
    rest = rest.strip()
    while position < len(rest):
        match = _HEADER_PARAM.match(rest, position)
        if match is None:
            return None
        params[unquote(match.group(1))] = unquote(match.group(2))
        position = match.end()
    return params


def base_string_uri(scheme: str, host: str, path: str) -> str:
    """RFC 5849 section 3.4.1.2: lower-case scheme and host, default port dropped."""
    scheme = scheme.lower()
    parts = urlsplit(f"{scheme}://{host}")
    hostname = parts.hostname or ""
    if ":" in hostname:
        hostname = f"[{hostname}]"  # IPv6 literal
    port = parts.port  # ValueError if the Host header carries a bad port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        netloc = hostname
    else:
        netloc = f"{hostname}:{port}"
    return f"{scheme}://{netloc}{path or '/'}"


def normalize_parameters(params: Iterable[tuple[str, str]]) -> str:
    """RFC 5849 section 3.4.1.3.2: encode, sort by name then value, join."""
    encoded = sorted((percent_encode(name), percent_encode(value)) for name, value in params)
    return "&".join(f"{name}={value}" for name, value in encoded)


def signature_base_string(method: str, base_uri: str, params: Iterable[tuple[str, str]]) -> str:
    return "&".join((
        percent_encode(method.upper()),
        percent_encode(base_uri),
        percent_encode(normalize_parameters(params)),
    ))


def hmac_sha1_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{percent_encode(consumer_secret)}&{percent_encode(token_secret)}"
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class OAuthRequest:
    """The parts of an HTTP request that enter the signature."""

    method: str
    scheme: str
    host: str
    path: str  # as received, without the query
    raw_query: str  # as received, still percent-encoded
    authorization: str
    form_body: bytes | None = None  # only for application/x-www-form-urlencoded bodies


@dataclass(frozen=True)
class OAuthCredentials:
    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str


def verify_oauth1(
    request: OAuthRequest,
    credentials: OAuthCredentials,
    *,
    now: float,
    timestamp_skew: int | None = 300,
    nonce_seen: Callable[[str, int], bool] | None = None,
) -> str | None:
    """Check an OAuth 1.0a HMAC-SHA1 request; return None if valid, else a short reason."""
    oauth = parse_authorization_header(request.authorization)
    if oauth is None:
        return "not_oauth"
    if any(name not in oauth for name in _REQUIRED):
        return "missing_parameter"
    if oauth["oauth_signature_method"] != "HMAC-SHA1":
        return "unsupported_signature_method"
    if oauth.get("oauth_version", "1.0") != "1.0":
        return "unsupported_version"
    if not hmac.compare_digest(oauth["oauth_consumer_key"], credentials.consumer_key):
        return "unknown_consumer_key"
    if not hmac.compare_digest(oauth["oauth_token"], credentials.access_token):
        return "unknown_token"
    try:
        timestamp = int(oauth["oauth_timestamp"])
    except ValueError:
        return "bad_timestamp"
    if timestamp_skew is not None and abs(now - timestamp) > timestamp_skew:
        return "stale_timestamp"

    params = [(name, value) for name, value in oauth.items()
              if name not in ("oauth_signature", "realm")]
    params += parse_qsl(request.raw_query, keep_blank_values=True)
    if request.form_body:
        form = request.form_body.decode("utf-8", errors="replace")
        params += parse_qsl(form, keep_blank_values=True)
    try:
        base_uri = base_string_uri(request.scheme, request.host, request.path)
    except ValueError:
        return "bad_host"
    base_string = signature_base_string(request.method, base_uri, params)
    expected = hmac_sha1_signature(
        base_string, credentials.consumer_secret, credentials.access_token_secret)
    if not hmac.compare_digest(expected, oauth["oauth_signature"]):
        return "bad_signature"
    # Only a correctly signed request may burn a nonce.
    if nonce_seen is not None and nonce_seen(oauth["oauth_nonce"], timestamp):
        return "replayed_nonce"
    return None


def _sha256_b64(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def webhook_signature(consumer_secret: str, body: bytes) -> str:
    """Value of ``x-twitter-webhooks-signature`` for a webhook POST body."""
    return _sha256_b64(consumer_secret, body)


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """The ``response_token`` a webhook must answer to ``GET ?crc_token=...``."""
    return _sha256_b64(consumer_secret, crc_token.encode("utf-8"))
