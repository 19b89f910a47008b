"""Webhook signature and CRC answer of the X channel.

Expectations are published vectors (fixtures README: twitterdev/autohook, nyaruka/courier) or
HMACs computed here with hmac/hashlib/base64, never values printed by the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.x.signatures import (
    SIGNATURE_HEADER,
    crc_response_token,
    verify_webhook_signature,
)

SECRET = "test-consumer-secret"
BODY = b'{"for_user_id":"1072250532645998596","direct_message_events":[]}'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def header_for(secret: str, body: bytes, algorithm=hashlib.sha256, prefix: str = "sha256=") -> str:
    return prefix + b64(hmac.new(secret.encode(), body, algorithm).digest())


@pytest.mark.parametrize(
    ("secret", "body", "expected"),
    [
        ("test", b'{"test_number":1,"test_string":"two"}',
         "sha256=YWHphPn/JFq43jkF0y4/w8R/SelmLjvpunhVFY8JhlI="),
        ("test", b"test=1&other_test=2", "sha256=25Cu3iwbbiqBTwQRzcKJZwisjf736V2Q8UaTlkfLSoc="),
    ],
)
def test_published_body_vectors(secret: str, body: bytes, expected: str) -> None:
    assert verify_webhook_signature(secret, body, expected)
    assert not verify_webhook_signature(secret, body + b" ", expected)


def test_published_crc_vector() -> None:
    """The published CRC vector's token has a space, which X's tokens never have: it is
    refused, and its published answer is the same HMAC the body signature check verifies."""
    expected = "sha256=O5hJl2njQRIa4vsumZ+3oom9ECR5m3aQLRZkPoYelp0="
    assert verify_webhook_signature("apiSecret", b"test token", expected)
    with pytest.raises(ValueError, match="shape"):
        crc_response_token("apiSecret", "test token")


@pytest.mark.parametrize("token", ["abc", "abc-123_T", "A+b/C=", "x" * 128,
                                   "S2FuYWtvLWdvb2QtdG9rZW4tZnJvbS1Y"])
def test_crc_matches_hmac_computed_here(token: str) -> None:
    expected = header_for(SECRET, token.encode("utf-8"))
    assert crc_response_token(SECRET, token) == expected


@pytest.mark.parametrize("token", ["crc token é ✓", "x" * 129, "", '{"a":1}'])
def test_crc_refuses_tokens_not_of_x_shape(token: str) -> None:
    with pytest.raises(ValueError):
        crc_response_token(SECRET, token)


def test_crc_refuses_an_empty_secret() -> None:
    with pytest.raises(ValueError):
        crc_response_token("", "token")


def test_header_name_is_the_one_x_sends() -> None:
    assert SIGNATURE_HEADER == "x-twitter-webhooks-signature"


def test_valid_signature_and_surrounding_whitespace() -> None:
    good = header_for(SECRET, BODY)
    assert verify_webhook_signature(SECRET, BODY, good)
    assert verify_webhook_signature(SECRET, BODY, f"  {good}\t")


def _sha512_header() -> str:
    return "sha256=" + b64(hmac.new(SECRET.encode(), BODY, hashlib.sha512).digest())


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "sha256=",
        "sha256",
        header_for(SECRET, BODY)[len("sha256="):],  # digest without the algorithm
        header_for(SECRET, BODY, hashlib.sha1, "sha1="),  # another algorithm, even if correct
        header_for(SECRET, BODY, hashlib.sha256, "sha1="),  # right digest, wrong label
        header_for(SECRET, BODY, hashlib.sha256, "SHA256="),
        header_for(SECRET, BODY, hashlib.sha256, "sha256 ="),
        header_for(SECRET, BODY).rstrip("="),  # padding removed
        header_for(SECRET, BODY) + "==",  # extra padding
        header_for(SECRET, BODY).replace("=", "", 1) + "!",  # outside the base64 alphabet
        "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest(),  # hex
        "sha256=é" + header_for(SECRET, BODY)[8:],  # non-ASCII
        _sha512_header(),  # a 64-byte digest
        header_for("other-secret", BODY),
        header_for(SECRET, BODY + b"\n"),
        header_for(SECRET, BODY, hashlib.sha256, "sha256=sha256="),
        header_for(SECRET, BODY) + "," + header_for(SECRET, BODY),
    ],
)
def test_bad_headers_are_refused(header: str | None) -> None:
    assert verify_webhook_signature(SECRET, BODY, header) is False


def test_an_empty_secret_verifies_nothing() -> None:
    assert not verify_webhook_signature("", BODY, header_for("", BODY))


@settings(max_examples=200, deadline=None)
@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=2000),
       flip=st.integers(min_value=0, max_value=10_000))
def test_signature_binds_secret_and_every_byte(secret: str, body: bytes, flip: int) -> None:
    header = header_for(secret, body)
    assert verify_webhook_signature(secret, body, header)
    if body:
        index = flip % len(body)
        changed = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1:]
        assert not verify_webhook_signature(secret, changed, header)
    assert not verify_webhook_signature(secret + "x", body, header)


@settings(max_examples=300, deadline=None)
@given(header=st.one_of(st.text(max_size=80), st.text(max_size=60).map(lambda s: "sha256=" + s)))
def test_arbitrary_headers_never_raise(header: str) -> None:
    assert verify_webhook_signature(SECRET, BODY, header) is (header.strip() == header_for(
        SECRET, BODY))
