"""The X adapter (connectors/x/adapter.py, send.py) against the contract of channels/adapter.py
and the real X emulator on 127.0.0.1: X's answers become typed outcomes (channels/outcomes.py),
a signed webhook body becomes inbox rows, the account's echoes are recognised, a turn is rendered
as X DMs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import pytest_asyncio

from channels.adapter import ChannelAdapter
from channels.outcomes import GiveUp, PauseChannel, RetryAfter, Sent, retry_at
from connectors.x.adapter import XAdapter
from connectors.x.payloads import InboundDM
from connectors.x.send import REFUSED_BY_PERSON
from sandbox.x_emulator.oauth import webhook_signature
from tests.x.test_polling_runtime import settings_for, write_dm
from tests.x.test_sender import fault

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest_asyncio.fixture
async def adapter(emulator, http):
    await write_dm(http, emulator, "4242", "bonjour")  # X lets the account answer people
    settings = settings_for(emulator, mode="webhook")
    client = settings.api_client()
    yield XAdapter(settings, client, emulator.config.account_id, "permanence")
    await client.aclose()


async def test_x_answers_become_typed_outcomes(emulator, adapter, http):
    assert isinstance(adapter, ChannelAdapter)
    delivery = await adapter.send("4242", "bonjour")
    assert isinstance(delivery.outcome, Sent) and delivery.outcome.platform_id
    assert delivery.status == 201
    await fault(http, emulator, status=403, count=1)
    refused = await adapter.send("4242", "refusé")
    assert refused.outcome == GiveUp("403", REFUSED_BY_PERSON) and refused.status == 403
    await fault(http, emulator, status=429, count=1, reset_in=30, method="POST")
    limited = (await adapter.send("4242", "trop")).outcome
    assert isinstance(limited, PauseChannel) and limited.reason == "429"
    assert limited.until is not None and limited.until > datetime.now(timezone.utc)
    await fault(http, emulator, status=503, count=1, method="POST")
    assert (await adapter.send("4242", "panne")).outcome == RetryAfter(None, "503")


async def test_an_unreachable_x_is_retried(adapter):
    unreachable = XAdapter(adapter.settings, type(adapter.client)(
        "http://127.0.0.1:9", consumer_key="k", consumer_secret="s", access_token="t",
        access_token_secret="u"), adapter.account_id)
    delivery = await unreachable.send("4242", "hors ligne")
    await unreachable.client.aclose()
    assert isinstance(delivery.outcome, RetryAfter) and delivery.status is None


async def test_a_signed_body_becomes_inbox_rows_and_echoes_are_known(emulator, adapter):
    account = emulator.config.account_id
    body = json.dumps({"for_user_id": account, "direct_message_events": [
        {"type": "message_create", "id": "111", "created_timestamp": "1767600000000",
         "message_create": {"target": {"recipient_id": account}, "sender_id": "4242",
                            "message_data": {"text": "bonjour"}}},
        {"type": "message_create", "id": "112", "created_timestamp": "1767600000001",
         "message_create": {"target": {"recipient_id": "4242"}, "sender_id": account,
                            "message_data": {"text": "écho"}}}]}).encode()
    signed = {"x-twitter-webhooks-signature": webhook_signature(
        emulator.config.consumer_secret, body)}
    assert adapter.verify_webhook(body, signed)
    assert not adapter.verify_webhook(body + b" ", signed)
    [row] = adapter.parse_webhook(body)  # the account's own DM is not an event for us
    assert (row.kind, row.sender_id, row.payload["text"]) == ("dm", "4242", "bonjour")
    echo = InboundDM("112", account, "4242", "écho", None, None, None)
    assert adapter.is_own_echo(echo)
    assert not adapter.is_own_echo(InboundDM("111", "4242", account, "x", None, None, None))


async def test_polling_reads_the_dms_to_the_account(emulator, adapter, http):
    rows, _ = await adapter.poll(None, None)
    assert [(row.sender_id, row.payload["text"]) for row in rows] == [("4242", "bonjour")]


def test_a_turn_is_rendered_as_x_dms(adapter):
    texts = adapter.render([
        {"text": "Bonjour."},
        {"text": "Votre situation ?", "buttons": [{"title": "Logement", "payload": "/a"},
                                                   {"title": "Travail", "payload": "/b"}]},
        {"image": "https://example.org/a.png"},
        {"text": "é" * 12000}])
    assert texts[0].startswith("Bonjour.\n\nVotre situation ?") and "Logement" in texts[0]
    assert "https://example.org/a.png" in texts[0]
    assert len(texts) >= 2 and "".join(texts[1:]).count("é") == 12000


def test_the_runtime_retries_then_gives_up():
    retry = RetryAfter(None, "503")
    assert retry_at(retry, 1, NOW, 5.0, 20) == NOW + timedelta(seconds=5)
    assert retry_at(retry, 3, NOW, 5.0, 20) == NOW + timedelta(seconds=20)
    assert retry_at(RetryAfter(7, "x"), 3, NOW, 5.0, 20) == NOW + timedelta(seconds=7)
    given_up = retry_at(retry, 20, NOW, 5.0, 20)
    assert isinstance(given_up, GiveUp) and given_up.reason_code == "max:503"
    with pytest.raises(ValueError):
        GiveUp("403", "")
    with pytest.raises(ValueError):
        RetryAfter(-1, "x")
