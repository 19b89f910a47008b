"""Pure: Mastodon.py's exceptions, raised as it raises them, mapped to send outcomes."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from mastodon import (
    MastodonAPIError,
    MastodonBadGatewayError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
    MastodonUnauthorizedError,
)
from mastodon.errors import MastodonReadTimeout

from channels.outcomes import GiveUp, PauseChannel, RetryAfter
from connectors.mastodon.send import outcome_of


def api(cls, status):  # as Mastodon.py's __api_request raises them
    return cls("Mastodon API returned error", status, "Reason", "message")


def test_rate_limit_pauses_the_channel_until_the_reset():
    reset = 1_900_000_000.5
    outcome = outcome_of(MastodonRatelimitError("Hit rate limit."), reset)
    assert outcome == PauseChannel(datetime.fromtimestamp(reset, timezone.utc), "429")
    assert outcome_of(MastodonRatelimitError("Hit rate limit."), None).until is None


@pytest.mark.parametrize("exc, code", [
    (api(MastodonInternalServerError, 500), "500"), (api(MastodonBadGatewayError, 502), "502"),
    (api(MastodonServiceUnavailableError, 503), "503"),
    (api(MastodonUnauthorizedError, 401), "401"),
    (MastodonNetworkError("Could not complete request"), "network"),
    (MastodonReadTimeout("timed out"), "network"), (api(MastodonAPIError, 408), "408"),
])
def test_transient_failures_are_retried_with_the_runtime_backoff(exc, code):
    assert outcome_of(exc, None) == RetryAfter(None, code)


@pytest.mark.parametrize("exc, code, words", [
    (api(MastodonNotFoundError, 404), "404", "bloqué"),
    (api(MastodonAPIError, 410), "410", "n'existe plus"),
    (api(MastodonAPIError, 403), "403", "refusé"),
    (api(MastodonAPIError, 422), "422", "refusé"),
])
def test_undeliverable_messages_are_given_up_with_a_french_reason(exc, code, words):
    outcome = outcome_of(exc, None)
    assert isinstance(outcome, GiveUp) and outcome.reason_code == code
    assert words in outcome.french_reason
