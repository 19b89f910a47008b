"""The Mastodon emulator on a free loopback port, served from a thread of its own (Mastodon.py
is synchronous: a test may call it directly), and the channel's settings pointed at it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from connectors.mastodon.config import MastodonSettings
from sandbox.mastodon_emulator import EmulatorConfig, run_emulator
from sandbox.mastodon_emulator.config import DEFAULT_ACCESS_TOKEN


@dataclass
class Emulator:
    base_url: str
    state: Any
    loop: asyncio.AbstractEventLoop

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/_control/{path}"
        response = (requests.post(url, json=body, timeout=10) if body is not None
                    else requests.get(url, timeout=10))
        assert response.status_code == 200, response.text
        return response.json()

    def dm(self, username: str, text: str, domain: str | None = "avocats.social",
           **extra: Any) -> dict[str, Any]:
        return self.control("post", {"username": username, "domain": domain, "text": text,
                                     "visibility": "direct", **extra})

    def sent(self) -> list[dict[str, Any]]:
        return self.control("sent")["statuses"]


def serve(config: EmulatorConfig) -> Iterator[Emulator]:
    ready, stop = threading.Event(), threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        async def main() -> None:
            async with run_emulator(config) as emu:
                holder["emulator"] = Emulator(emu.base_url, emu.state,
                                              asyncio.get_running_loop())
                ready.set()
                while not stop.is_set():
                    await asyncio.sleep(0.02)

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, name="mastodon-emulator", daemon=True)
    thread.start()
    assert ready.wait(10), "the emulator did not start"
    if "error" in holder:
        raise holder["error"]
    yield holder["emulator"]
    stop.set()
    thread.join(10)


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(stream_heartbeat_seconds=0.5)


@pytest.fixture
def emulator(emulator_config: EmulatorConfig) -> Iterator[Emulator]:
    yield from serve(emulator_config)


@pytest.fixture
def settings(emulator: Emulator) -> MastodonSettings:
    return MastodonSettings(base_url=emulator.base_url, access_token=DEFAULT_ACCESS_TOKEN,
                            hashtags=("permanencejuridique",), request_timeout=10)
