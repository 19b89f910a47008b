"""The desk as a Rasa input channel, so that the Rasa server serves it under ``/desk``.

Enable it in ``credentials.yml``::

    desk.channel.DeskInput:

It receives no person's messages: its blueprint serves the lawyers' JSON API
(:mod:`desk.api`), the pages (:mod:`desk.pages`) and the live updates (:mod:`desk.live`).
Before the server starts, the desk's tables are created or upgraded
(:func:`desk.db.upgrade_to_head`) on the project's database and the desk's eraser is registered
(:func:`desk.erasure.register`), and so is its answer to "is this conversation P0?"
(:func:`permanence.priority.register_case_tier`: a channel whose sending budget is short, X,
sends a P0 conversation's replies first), and the sender of the acknowledgement of an erasure
request written during a handover (:mod:`desk.erasure_request`); once it runs, the daily
retention task starts (``desk/retention.py``, ``PERMANENCE_RETENTION_DAYS``). The log says at
start whether the lawyers are mailed (``desk.mail.on`` / ``desk.mail.off``, :mod:`desk.mail`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, Sanic
from sqlalchemy.orm import sessionmaker

from desk import cases, db, erasure, erasure_request, live, mail, pages, retention
from desk.api import make_blueprint
from permanence import priority

logger = logging.getLogger(__name__)


def desk_blueprint(factory: Callable[[], sessionmaker], name: str = "desk") -> Blueprint:
    """Everything the desk serves under ``/desk``: JSON API, pages, live events."""
    bp = make_blueprint(factory, name=name)
    pages.install(bp, factory)
    live.install(bp, factory)
    return bp


class DeskInput(InputChannel):
    """The lawyer's desk: pages, JSON API and live events."""

    @classmethod
    def name(cls) -> str:
        return "desk"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        return cls(database_url=credentials.get("database_url") or None)

    def __init__(self, database_url: str | None = None) -> None:
        self.database_url = database_url

    def url_prefix(self) -> str:
        return "/desk"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        url = self.database_url
        bp = desk_blueprint(lambda: db.session_factory(url), name="desk")

        days = retention.retention_days()  # a bad setting stops the server here
        mail.log_status()  # so does a bad SMTP setting; unset, the log says nothing is mailed
        tasks: set[asyncio.Task] = set()

        @bp.listener("before_server_start")
        async def upgrade(app: Sanic, loop: Any) -> None:
            await asyncio.get_running_loop().run_in_executor(None, db.upgrade_to_head, url)
            erasure.register(url)
            priority.register_case_tier(lambda conversation_id: case_tier(url, conversation_id))
            erasure_request.register(app)  # « supprimez mes données » during a handover
            logger.info("desk.channel.ready")

        @bp.listener("after_server_start")
        async def start_retention(app: Sanic, loop: Any) -> None:
            tasks.add(asyncio.ensure_future(retention.loop_forever(app, url, days)))

        @bp.listener("before_server_stop")
        async def stop_retention(app: Sanic, loop: Any) -> None:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            tasks.clear()
            priority.unregister_case_tier()
            erasure_request.unregister()

        return bp


def case_tier(url: str | None, conversation_id: str) -> str | None:
    """The urgency of the conversation's latest case (synchronous: a channel's thread)."""
    with db.session_factory(url).begin() as session:
        return cases.conversation_tier(session, conversation_id)
