"""Outgoing HTTP to the webhook: signed event POSTs and CRC GETs."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
import time
from typing import Any

import aiohttp

from .activity import Emission
from .oauth import crc_response_token, webhook_signature
from .state import Delivery, EmulatorState, StoredPayload, Webhook

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


class WebhookDispatcher:
    """Posts events in background tasks and keeps a reference to each until it ends."""

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.state.config.delivery_timeout)
        self._session = aiohttp.ClientSession(timeout=timeout, trust_env=False)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("dispatcher not started (app not running)")
        return self._session

    def publish(self, event_id: str, kind: str, body: bytes, *, deliver: bool = True,
                billed_as: str | None = None, webhook_ids: tuple[str, ...] | None = None,
                resource_id: str | None = None
                ) -> tuple[asyncio.Task | None, list[Delivery]]:
        """Store the payload (for redelivery) and, if ``deliver``, post it to the webhooks:
        the Account Activity ones, or ``webhook_ids`` (an X Activity API subscription's).

        ``billed_as``: the price kind X charges when the event is delivered (a 2xx answer),
        once per ``resource_id`` (default ``event_id``) and day however many webhooks or
        redeliveries.
        """
        self.state.payloads[event_id] = StoredPayload(kind, body, billed_as, webhook_ids,
                                                      resource_id)
        if not deliver:
            return None, []
        return self.schedule(event_id, redelivery=False)

    def publish_activity(self, emissions: list[Emission]
                         ) -> list[tuple[asyncio.Task | None, list[Delivery]]]:
        """Post the X Activity API emissions whose subscription names a webhook."""
        return [self.publish(emission.event_uuid, f"xaa:{emission.event_type}", emission.body,
                             billed_as=emission.billed_as,
                             webhook_ids=(emission.subscription.webhook_id,),
                             resource_id=emission.resource_id)
                for emission in emissions if emission.subscription.webhook_id is not None]

    def schedule(self, event_id: str, *, redelivery: bool
                 ) -> tuple[asyncio.Task | None, list[Delivery]]:
        """Post a stored payload to every subscribed webhook in a background task.

        Returns the task (None if there is no webhook) and the delivery records, which
        the task fills in (status, latency) as answers arrive.
        """
        stored = self.state.payloads[event_id]
        targets = (self.state.delivery_targets() if stored.webhook_ids is None
                   else self.state.webhooks_by_id(stored.webhook_ids))
        if not targets:
            logger.info("x_sandbox.delivery.skipped event_id=%s reason=no_webhook", event_id)
            return None, []
        deliveries = [self.state.new_delivery(event_id, stored.kind, webhook, redelivery)
                      for webhook in targets]
        task = asyncio.create_task(self._deliver_all(stored, targets, deliveries))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task, deliveries

    async def _deliver_all(self, stored: StoredPayload, targets: list[Webhook],
                           deliveries: list[Delivery]) -> list[Delivery]:
        await asyncio.gather(*(self._post(stored, webhook, delivery)
                               for webhook, delivery in zip(targets, deliveries, strict=True)))
        return deliveries

    async def _post(self, stored: StoredPayload, webhook: Webhook, delivery: Delivery) -> None:
        body = stored.body
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            SIGNATURE_HEADER: webhook_signature(self.state.config.consumer_secret, body),
        }
        started = time.perf_counter()
        try:
            async with self.session.post(webhook.url, data=body, headers=headers,
                                         allow_redirects=False) as response:
                await response.read()
                delivery.status = response.status
                if stored.billed_as is not None and 200 <= response.status < 300:
                    self.state.usage.charge(stored.billed_as,
                                            [stored.resource_id or delivery.event_id])
        except asyncio.TimeoutError:
            delivery.error = "timeout"
        except aiohttp.ClientError as exc:
            delivery.error = type(exc).__name__
        delivery.latency_ms = round((time.perf_counter() - started) * 1000, 1)
        logger.info("x_sandbox.delivery.done event_id=%s webhook_id=%s status=%s error=%s "
                    "latency_ms=%s", delivery.event_id, webhook.id, delivery.status,
                    delivery.error, delivery.latency_ms)

    async def crc_check(self, url: str) -> dict[str, Any]:
        """GET ``url?crc_token=...`` and check the ``response_token`` as X does."""
        crc_token = secrets.token_urlsafe(24)
        expected = crc_response_token(self.state.config.consumer_secret, crc_token)
        result: dict[str, Any] = {"url": url, "valid": False, "status": None, "error": None}
        started = time.perf_counter()
        try:
            # X treats a 3XX answer to a CRC as a failure: no redirects.
            async with self.session.get(url, params={"crc_token": crc_token},
                                        allow_redirects=False) as response:
                result["status"] = response.status
                body = await response.read()
            if result["status"] != 200:
                result["error"] = "status"
            else:
                try:
                    received = json.loads(body.decode("utf-8")).get("response_token")
                except (ValueError, AttributeError, UnicodeDecodeError):
                    received = None
                if not isinstance(received, str):
                    result["error"] = "no_response_token"
                elif not hmac.compare_digest(received.encode("utf-8"), expected.encode("ascii")):
                    result["error"] = "wrong_response_token"
                else:
                    result["valid"] = True
        except asyncio.TimeoutError:
            result["error"] = "timeout"
        except aiohttp.ClientError as exc:
            result["error"] = type(exc).__name__
        result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
        logger.info("x_sandbox.crc.done valid=%s status=%s error=%s",
                    result["valid"], result["status"], result["error"])
        return result
