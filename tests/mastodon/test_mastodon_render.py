"""Pure: a turn as statuses within the instance's limit, options, the invitation, the
public-post decision and the settings."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.mastodon import config, render
from connectors.mastodon.invitation import decide
from connectors.mastodon.payloads import InboundStatus
from sandbox.mastodon_emulator.routes import countable_length

LONGEST = "a" * 30 + "@" + "very-long-instance-name." * 8 + "example"


def test_every_status_fits_with_the_mention_of_any_person():
    text = ("Une phrase assez longue pour remplir un statut. " * 40).strip()
    for limit in (500, 120):
        parts = render.render([{"text": text}], limit)
        assert len(parts) > 1
        assert all(countable_length(render.addressed(LONGEST, p)) <= limit for p in parts)
        assert " ".join(parts).split() == text.split()


def test_a_turn_is_packed_and_buttons_are_numbered_options():
    parts = render.render([
        {"text": "Je suis un assistant automatisé."},
        {"text": "Acceptez-vous ?", "buttons": [{"title": "Oui", "payload": "/affirm"},
                                                {"title": "Non", "payload": "/deny"}]},
    ])
    assert parts == ["Je suis un assistant automatisé.\n\nAcceptez-vous ?\n\n1. Oui\n2. Non"]


def test_the_invitation_is_neutral_and_fits():
    text = render.invitation_text("alice@avocats.social", "permanence@permanence.example")
    assert text.startswith("@alice@avocats.social ")
    assert "@permanence@permanence.example" in text
    assert countable_length(text) <= 500
    with pytest.raises(ValueError):
        render.invitation_text("alice <script>", "permanence")


NOW = datetime(2026, 3, 1, tzinfo=timezone.utc)
DAY = timedelta(hours=24)


def post(visibility="public", mentions=("1",), tags=(), author="42") -> InboundStatus:
    return InboundStatus("9", author, "alice", "", visibility, mentions, tags, None, None, None)


@pytest.mark.parametrize("inbound, last, action, reason, visibility", [
    (post(), None, "invite", "mention", "unlisted"),
    (post("unlisted"), NOW - 2 * DAY, "invite", "mention", "unlisted"),
    (post("private"), None, "invite", "mention", "direct"),
    (post(), NOW - DAY / 2, "ignore", "period", None),
    (post(mentions=(), tags=("permanencejuridique",)), None, "desk", "hashtag", None),
    (post("direct"), None, "ignore", "direct", None),
    (post(author="1"), None, "ignore", "own", None),
    (post(mentions=()), None, "ignore", "unrelated", None),
])
def test_public_posts_decision(inbound, last, action, reason, visibility):
    decision = decide(inbound, "1", ("permanencejuridique",), last, NOW, DAY)
    assert (decision.action, decision.reason, decision.visibility) == (action, reason,
                                                                       visibility)


def test_settings_come_from_the_environment_and_half_is_refused():
    assert config.from_env({}) is None
    for half in ({config.BASE_URL_ENV: "https://avocats.social"},
                 {config.TOKEN_ENV: "secret-value"}):
        with pytest.raises(config.MastodonConfigError) as raised:
            config.from_env(half)
        assert "secret-value" not in str(raised.value)
    settings = config.from_env({config.BASE_URL_ENV: "https://avocats.social/",
                                config.TOKEN_ENV: "secret-value",
                                config.HASHTAGS_ENV: "#PermanenceJuridique, droit"})
    assert settings.base_url == "https://avocats.social"
    assert settings.hashtags == ("permanencejuridique", "droit")
    assert "secret-value" not in repr(settings)
    with pytest.raises(config.MastodonConfigError):
        config.from_env({config.BASE_URL_ENV: "http://avocats.social",
                         config.TOKEN_ENV: "t"})
    assert config.from_env({config.BASE_URL_ENV: "http://127.0.0.1:8091",
                            config.TOKEN_ENV: "t"}).base_url == "http://127.0.0.1:8091"
