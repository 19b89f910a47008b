"""The link to continue on the web chat (permanence/continue_link.py): pure, time passed in."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from permanence import continue_link as cl
from permanence.x_budget import RATE, Budget

T0 = datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc)
KEY = b"k" * 32
CONV = "x:4242"


def test_a_minted_token_verifies_for_its_conversation_until_it_expires() -> None:
    token = cl.mint(KEY, CONV, T0, ttl_seconds=7200)
    assert cl.verify(KEY, token.token, CONV, T0 + timedelta(seconds=7199)) == token.token_id
    assert cl.token_id_of(token.token) == token.token_id
    assert token.expires_at == T0 + timedelta(hours=2)
    assert "4242" not in token.token  # the X user id is not in the link


def test_every_refusal_says_why() -> None:
    token = cl.mint(KEY, CONV, T0, ttl_seconds=60).token
    with pytest.raises(cl.Refused) as expired:
        cl.verify(KEY, token, CONV, T0 + timedelta(seconds=60))
    assert expired.value.reason == cl.EXPIRED
    with pytest.raises(cl.Refused) as other:
        cl.verify(KEY, token, "x:4243", T0)
    assert other.value.reason == cl.SIGNATURE
    with pytest.raises(cl.Refused) as wrong_key:
        cl.verify(b"z" * 32, token, CONV, T0)
    assert wrong_key.value.reason == cl.SIGNATURE
    token_id, expires, signature = token.split(".")
    later = f"{token_id}.{int(expires) + 3600}.{signature}"  # a longer life, same signature
    with pytest.raises(cl.Refused) as extended:
        cl.verify(KEY, later, CONV, T0)
    assert extended.value.reason == cl.SIGNATURE
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    with pytest.raises(cl.Refused) as forged:
        cl.verify(KEY, f"{token_id}.{expires}.{flipped}", CONV, T0)
    assert forged.value.reason == cl.SIGNATURE
    for malformed in (None, 42, "", "abc", token + "x", token.replace(".", ":"),
                      f"{token_id}.{expires}", token + "\n"):
        with pytest.raises(cl.Refused) as refused:
            cl.verify(KEY, malformed, CONV, T0)
        assert refused.value.reason == cl.MALFORMED
        with pytest.raises(cl.Refused):
            cl.token_id_of(malformed)


def test_find_continue_token_in_a_dm() -> None:
    settings = cl.Settings(KEY, "https://chat.cabinet.fr")
    token = cl.mint(KEY, CONV, T0).token
    text = cl.with_link("Merci. Quelle est la date de la décision ?", settings.link(token))
    assert f"https://chat.cabinet.fr/chat?continue={token} " in text
    assert "rester sur X" in text
    assert cl.find_continue_token(text) == token
    assert cl.find_continue_token("Bonjour, rien ici.") is None
    assert cl.find_continue_token(None) is None
    assert cl.find_continue_token(f"continue={token}") is None  # not a link's query
    assert cl.find_continue_token(f"?continue={token}x") is None


def test_from_env_is_off_unless_configured_and_strict_when_on() -> None:
    assert cl.from_env({}) is None
    assert cl.from_env({"PERMANENCE_PUBLIC_ORIGIN": "https://chat.cabinet.fr"}) is None
    with pytest.raises(ValueError, match=cl.SECRET_ENV):
        cl.from_env({cl.BASE_URL_ENV: "https://chat.cabinet.fr"})
    with pytest.raises(ValueError, match="at least 32"):
        cl.from_env({cl.SECRET_ENV: "short", cl.BASE_URL_ENV: "https://chat.cabinet.fr"})
    with pytest.raises(ValueError, match=cl.BASE_URL_ENV):
        cl.from_env({cl.SECRET_ENV: "s" * 32})
    with pytest.raises(ValueError, match=cl.BASE_URL_ENV):
        cl.from_env({cl.SECRET_ENV: "s" * 32, cl.BASE_URL_ENV: "chat.cabinet.fr"})
    with pytest.raises(ValueError, match=cl.AFTER_ENV):
        cl.from_env({cl.SECRET_ENV: "s" * 32, cl.BASE_URL_ENV: "https://a.fr",
                     cl.AFTER_ENV: "soon"})
    on = cl.from_env({cl.SECRET_ENV: "s" * 32,
                      "PERMANENCE_PUBLIC_ORIGIN": "https://chat.cabinet.fr/, https://b.fr"})
    assert on is not None and on.base_url == "https://chat.cabinet.fr"
    assert (on.after_seconds, on.ttl_seconds) == (300.0, 7200.0)
    assert "s" * 32 not in repr(on)
    own = cl.from_env({cl.SECRET_ENV: "s" * 32, cl.BASE_URL_ENV: "https://a.fr/permanence/",
                       cl.AFTER_ENV: "60", cl.TTL_ENV: "600"})
    assert own is not None and own.link("T") == "https://a.fr/permanence/chat?continue=T"
    assert (own.after_seconds, own.ttl_seconds) == (60.0, 600.0)


def budget(remaining: int, reset_in: float = 900, limit: int = 15) -> Budget:
    reset = T0 + timedelta(seconds=reset_in)
    return Budget().observe({f"{RATE}-limit": str(limit), f"{RATE}-remaining": str(remaining),
                             f"{RATE}-reset": str(int(reset.timestamp()))}, T0, 201)


def test_the_link_is_offered_once_when_the_next_answer_would_wait_too_long() -> None:
    # DMs left in the window: the next answer goes at once.
    assert cl.next_answer_wait(budget(10), ahead=5, now=T0) == 0.0
    assert not cl.should_offer(cl.next_answer_wait(budget(10), 5, T0), 300, offered=False)
    # Window spent, reset in 10 minutes: longer than 5 minutes.
    wait = cl.next_answer_wait(budget(0, reset_in=600), ahead=0, now=T0)
    assert wait is not None and wait > 300
    assert cl.should_offer(wait, 300, offered=False)
    assert not cl.should_offer(wait, 300, offered=True)  # once per conversation
    # Reset in 2 minutes and few ahead: short enough.
    assert not cl.should_offer(cl.next_answer_wait(budget(0, reset_in=120), 3, T0), 300, False)
    # Reset in 2 minutes but 30 queued ahead: two more windows.
    assert cl.should_offer(cl.next_answer_wait(budget(0, reset_in=120), 30, T0), 300, False)
    # Unknown budget: no offer.
    assert cl.next_answer_wait(Budget(), 100, T0) is None
    assert not cl.should_offer(None, 300, offered=False)
