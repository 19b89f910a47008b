"""The web chat page, as the live hour's person opens it from a continuation link: a
python-socketio ``AsyncClient`` on the Rasa server's ``/socket.io`` (``connectors/webchat.py``),
as ``tests/e2e/test_x_overflow.py`` drives it.

:func:`open_continued` presents the link's token in the ``session_request``
(``{"continue": token}``) and waits for ``session_confirm``; the page records every bot message
it hears with its arrival time (real clock), so the bench can wait for an answer
(:meth:`Page.until`) and see when the lawyer's reply arrived (:meth:`Page.first_at`). The
caller closes it (:meth:`Page.close`).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from typing import Any

import socketio

CONFIRM_TIMEOUT_S = 30.0  # real seconds for the server to answer the session_request


@dataclass
class Page:
    client: socketio.AsyncClient
    confirm: dict[str, Any] = field(default_factory=dict)
    said: list[tuple[float, str]] = field(default_factory=list)  # (real time, text)
    _heard: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def continued(self) -> bool:
        """The server opened the X conversation (the token was accepted)."""
        return self.confirm.get("continued") is True

    def hear(self, data: Any) -> None:
        text = data.get("text") if isinstance(data, dict) else None
        self.said.append((time.time(), text or ""))
        self._heard.set()

    async def until(self, count: int, timeout: float) -> bool:
        """Wait until the page has heard ``count`` bot messages in all; False on timeout."""
        deadline = time.time() + timeout
        while len(self.said) < count:
            self._heard.clear()
            remaining = deadline - time.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._heard.wait(), remaining)
            except asyncio.TimeoutError:
                return False
        return True

    def first_at(self, text: str) -> float | None:
        """When the page first heard ``text`` (real clock), else None."""
        return next((at for at, said in self.said if said == text), None)

    async def say(self, content: dict[str, Any]) -> None:
        """``{"message": text}`` (typed) or ``{"payload": payload}`` (a button)."""
        await self.client.emit("user_uttered", {"message_id": os.urandom(8).hex(), **content})

    async def close(self) -> None:
        await self.client.disconnect()


async def open_continued(base_url: str, token: str) -> Page:
    """Open the web chat at ``base_url`` with a continuation link's ``token``. Whether the
    server accepted it: :attr:`Page.continued` (refused: an ordinary new session)."""
    page = Page(socketio.AsyncClient(reconnection=False))
    confirmed: asyncio.Future = asyncio.get_running_loop().create_future()
    page.client.on("bot_uttered", page.hear)
    page.client.on("session_confirm",
                   lambda data: confirmed.done() or confirmed.set_result(data))
    await page.client.connect(base_url, socketio_path="/socket.io", transports=["polling"])
    try:
        await page.client.emit("session_request", {"continue": token})
        page.confirm = await asyncio.wait_for(confirmed, CONFIRM_TIMEOUT_S)
    except BaseException:
        await page.client.disconnect()
        raise
    return page
