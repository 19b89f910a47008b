"""desk/delivery_status.py: a case's replies get the word of the channel that queued them
(a real channel store registered in permanence/deliveries.py), and the desk imports no
channel."""

from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

from channels.store import Store
from desk.delivery_status import with_channel_status
from permanence import deliveries

T0 = datetime(2026, 12, 7, 13, 5, tzinfo=timezone.utc)
REASON = "la personne n'accepte plus vos messages privés"
DESK = Path(__file__).resolve().parents[2] / "desk"


def case_with_replies(*ids: int) -> dict:
    return {"messages": [
        {"id": 1, "author": "person", "text": "Bonjour", "delivery": "received", "at": None},
        *({"id": i, "author": "lawyer", "text": "Réponse", "delivery": "sent", "at": None}
          for i in ids)]}


def test_the_case_shows_what_the_x_outbox_did_with_each_reply(tmp_path: Path) -> None:
    store = Store.create(f"sqlite:///{tmp_path / 'channels.db'}")
    deliveries.lookups.register("x-test", store.outbox_deliveries)
    try:
        store.outbox_enqueue("42", "a", now=T0, delivery_ref=deliveries.ref(2))
        sent = store.outbox_enqueue("42", "b", now=T0, delivery_ref=deliveries.ref(3))
        refused = store.outbox_enqueue("43", "c", now=T0, delivery_ref=deliveries.ref(4))
        store.outbox_sent(sent, "dm-1", now=T0)
        store.outbox_failed_permanent(refused, 403, REASON)
        case = with_channel_status(case_with_replies(2, 3, 4, 5))
    finally:
        deliveries.lookups.unregister("x-test", store.outbox_deliveries)
        store.close()
    shown = {m["id"]: m["delivery_status"]["label"] for m in case["messages"]
             if m["author"] == "lawyer"}
    assert shown == {2: "en file d'attente", 3: "envoyé le 7 déc. 14:05",
                     4: f"non remis : {REASON}",
                     5: "envoyé"}  # no channel knows it (the web chat): the desk's own word
    assert case["messages"][0].get("channel_delivery") is None
    assert case["messages"][4]["channel_delivery"] is None


def test_no_channel_running_leaves_the_desks_word() -> None:
    case = with_channel_status(case_with_replies(7))
    assert case["messages"][1]["delivery_status"]["state"] == "sent"


def test_the_desk_never_imports_a_channel() -> None:
    for path in sorted(DESK.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.module
                     else [])
            for name in names:
                assert name.split(".")[0] not in ("connectors", "channels"), (
                    f"{path.name} imports {name}")


def test_the_persons_export_says_what_the_channel_did(factory, domain, tmp_path: Path) -> None:
    """Right of access (desk/access.py): a reply X refused is not exported as sent."""
    from desk import access, auth, cases
    from tests.desk.desk_testlib import handoff_tracker

    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "correct horse battery")
        number = cases.open_case_from_tracker(session, handoff_tracker(domain, "42"), now=T0)[0]
        cases.take(session, number, lawyer, now=T0)
        message = cases.reply(session, number, lawyer, "Bonjour", now=T0)
        cases.set_delivery(session, message, "sent")
    store = Store.create(f"sqlite:///{tmp_path / 'channels.db'}")
    deliveries.lookups.register("x-test", store.outbox_deliveries)
    try:
        item = store.outbox_enqueue("42", "Bonjour", now=T0, delivery_ref=deliveries.ref(message))
        store.outbox_failed_permanent(item, 403, REASON)
        with factory.begin() as session:
            report = access.collect(session, number, {})
    finally:
        deliveries.lookups.unregister("x-test", store.outbox_deliveries)
        store.close()
    [exported] = [m for m in report["cases"][0]["messages"] if m["author"] == "lawyer"]
    assert exported["delivery"] == "failed"
