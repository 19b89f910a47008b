"""Builders shared by the desk tests (a module, not conftest: every test folder has a conftest
and they would shadow each other on import)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Any

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    ConversationPaused,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc)


def case_slots(**changes: Any) -> dict[str, Any]:
    """A complete urbanisme case, as the assistant leaves it at handover."""
    decided = date(2026, 11, 18)
    slots = {
        "consent": "given",
        "route": "triage",
        "domaine": "urbanisme",
        "question_initiale": "la mairie a refusé mon permis de construire",
        "partie_adverse": "mairie de Lens",
        "role": "particulier",
        "type_decision": "refus de permis de construire",
        "date_decision": decided.isoformat(),
        "mention_voies_delais": "oui",
        "recours_gracieux": "non",
        "code_postal": "62300",
        "recit": "Refus reçu il y a dix jours pour une extension de 20 m2.",
        "urgence": "P2",
        "urgence_motifs": [],
        "echeance_estimee": (decided + timedelta(days=61)).isoformat(),
        "echeance_regle": "R421-1 CJA",
        "echeance_source": "date_decision",
    }
    slots.update(changes)
    return slots


def handoff_tracker(
    domain: Domain,
    sender_id: str = "conv-1",
    channel: str = "webchat",
    metadata: dict[str, Any] | None = None,
    **slot_changes: Any,
) -> DialogueStateTracker:
    """A tracker built from real events: the person's question, the triage slots, then what
    action_handoff returns (its slots, the end of the form, the route, the pause)."""
    events: list[Any] = [
        ActionExecuted("action_session_start"),
        ActionExecuted("action_listen"),
        UserUttered(
            "Bonjour, la mairie a refusé mon permis de construire",
            intent={"name": "question_urbanisme", "confidence": 0.9},
            input_channel=channel,
            metadata=metadata,
        ),
        BotUttered("Je suis un assistant automatisé."),
    ]
    events += [SlotSet(name, value) for name, value in case_slots(**slot_changes).items()]
    events += [
        ActionExecuted("action_listen"),
        UserUttered("oui c'est exact", intent={"name": "affirm", "confidence": 0.95},
                    input_channel=channel, metadata=metadata),
        ActionExecuted("action_handoff"),
        BotUttered("L'avocat prend le relais."),
        SlotSet("route", "handoff"),
        ConversationPaused(),
    ]
    return DialogueStateTracker.from_events(sender_id, events, slots=domain.slots)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """A Sanic app served on a free 127.0.0.1 port, with its listeners run; yields its base URL.
    Needs ``Sanic.test_mode = True`` (set with monkeypatch by the caller)."""
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True,
                                     access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
