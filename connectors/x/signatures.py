"""HMAC-SHA256 signatures of X webhooks: the CRC answer and the POST signature check.

X signs both with the app's consumer secret (API secret key)::

    "sha256=" + base64(HMAC_SHA256(key=consumer_secret, msg=crc_token or raw body))

The algorithm is fixed here, never taken from the header: a header that names another
algorithm ("sha1=...") is refused, as is anything that is not exactly ``sha256=`` followed by
the standard base64 of a 32-byte digest.

Both are the same HMAC with the same key, so answering a CRC check signs whatever text the
caller sends: a CRC token that is a JSON body would come back as that body's signature. The CRC
answer is therefore only given for a token of X's shape (``crc_token_refusal``): at most
``CRC_TOKEN_MAX_LENGTH`` characters of the base64 alphabets (standard and URL-safe, with
padding), which has no ``{``, quote, bracket, colon, comma nor whitespace, so no accepted token
is a JSON object, the only body the webhook accepts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

SIGNATURE_HEADER = "x-twitter-webhooks-signature"
SIGNATURE_PREFIX = "sha256="
_DIGEST_SIZE = hashlib.sha256().digest_size
# X sends random base64 tokens of a few dozen characters; a JSON body could not be written
# with these characters, and the length bounds what a caller can make us compute.
CRC_TOKEN_MAX_LENGTH = 128
_CRC_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]+")


def crc_token_refusal(crc_token: str | None) -> str | None:
    """Why ``crc_token`` is not a CRC token of X's shape, or None if it is one.

    The reasons are short fixed words, safe to log and to answer with: ``missing``,
    ``too_long``, ``charset``.
    """
    if not crc_token:
        return "missing"
    if len(crc_token) > CRC_TOKEN_MAX_LENGTH:
        return "too_long"
    if not _CRC_TOKEN.fullmatch(crc_token):
        return "charset"
    return None


def _digest(consumer_secret: str, message: bytes) -> bytes:
    return hmac.new(consumer_secret.encode("utf-8"), message, hashlib.sha256).digest()


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    """The ``response_token`` to answer X's CRC check (``GET ...?crc_token=...``) with.

    Raises ``ValueError`` for an empty secret (anyone can compute an HMAC with an empty key)
    and for a token not of X's shape (``crc_token_refusal``): the answer would be the signature
    of an arbitrary text, such as a forged webhook body.
    """
    if not consumer_secret:
        raise ValueError("the consumer secret is empty")
    refusal = crc_token_refusal(crc_token)
    if refusal is not None:
        raise ValueError(f"not a CRC token of X's shape ({refusal})")
    digest = _digest(consumer_secret, crc_token.encode("utf-8"))
    return SIGNATURE_PREFIX + base64.b64encode(digest).decode("ascii")


def verify_webhook_signature(
    consumer_secret: str, raw_body: bytes, header_value: str | None
) -> bool:
    """True only if ``header_value`` is ``sha256=<base64 HMAC-SHA256 of raw_body>``.

    ``raw_body`` must be the bytes exactly as received (before any JSON decoding). A missing
    or empty header, another algorithm, malformed base64, a digest of the wrong size, a wrong
    digest, or an empty secret all give False. The digests are compared in constant time.
    """
    if not consumer_secret or not header_value:
        return False
    value = header_value.strip()
    if not value.startswith(SIGNATURE_PREFIX):
        return False
    encoded = value[len(SIGNATURE_PREFIX):]
    try:
        received = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):  # bad alphabet or padding; non-ASCII text
        return False
    if len(received) != _DIGEST_SIZE:
        return False
    return hmac.compare_digest(_digest(consumer_secret, raw_body), received)
