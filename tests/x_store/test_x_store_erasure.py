"""The X store's eraser (registered with permanence/erasure.py by the X channel), on SQLite and
PostgreSQL: nothing of the person is left, not even in the turn that asked for the erasure."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from connectors.x.output import options_cursor as output_options_cursor
from permanence import erasure
from permanence.x_store import (
    ERASED,
    Store,
    options_cursor,
    x_cursor,
    x_inbox,
    x_invitation,
    x_outbox,
    x_person,
)

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def rows(store: Store, table) -> list:
    with store.engine.connect() as connection:
        return list(connection.execute(select(table)))


def every_value(store: Store) -> str:
    return repr([rows(store, table) for table in (x_inbox, x_outbox, x_cursor, x_invitation)])


def test_the_channel_and_the_store_name_the_options_cursor_alike() -> None:
    assert output_options_cursor("123") == options_cursor("123") == "x.options.123"


def test_x_person_reads_x_conversations_only() -> None:
    assert x_person("x:4242") == "4242"
    assert x_person("4242") == "4242"  # saved before conversation ids had a channel
    assert x_person("web:abc") is None and x_person("rest:4242") is None
    assert x_person("bonjour") is None


def test_erase_conversation_removes_inbox_outbox_cursor_and_invitation(store: Store) -> None:
    for person, other in (("4242", "777"),):
        store.inbox_add("dm:1", "dm", person, {"text": "mon OQTF du 3 mars"}, now=T0)
        store.inbox_add("dm:2", "dm", other, {"text": "autre personne"}, now=T0)
        item = store.inbox_claim_next("w", now=T0)
        assert store.turn_commit(item.id, "w", [(person, "Votre réponse")],
                                 cursors={options_cursor(person): '[{"title": "Oui"}]'}, now=T0)
        sent = store.outbox_next_due(now=T0)
        assert store.outbox_sent(sent.id, "x-dm-99", now=T0)
        store.outbox_enqueue(person, "une réponse pas encore partie", now=T0)
        store.outbox_enqueue(other, "pour l'autre", now=T0)
        store.cursor_set(options_cursor(other), "[]", now=T0)
        store.invitation_allowed(person, now=T0)
        store.invitation_allowed(other, now=T0)
    assert "4242" in every_value(store)

    assert store.erase_conversation("web:4242") == 0  # another channel's conversation
    assert store.erase_conversation("x:4242") == 5
    left = every_value(store)
    assert "4242" not in left and "OQTF" not in left and "x-dm-99" not in left
    assert "777" in left and "autre personne" in left  # the other person is untouched
    assert store.erase_conversation("x:4242") == 0  # idempotent


def test_the_erasing_turn_commits_and_its_replies_leave_no_trace_once_sent(store: Store) -> None:
    store.inbox_add("dm:5", "dm", "4242", {"text": "supprimez mes données"}, now=T0)
    item = store.inbox_claim_next("w", now=T0)
    # Inside the turn: the tracker store's save runs every eraser.
    assert store.erase_conversation("x:4242") == 1
    [row] = rows(store, x_inbox)
    assert (row.sender_id, row.payload, row.event_id) == (ERASED, None, "dm:5")
    assert store.turn_commit(item.id, "w", [("4242", "C'est fait"), ("4242", "Au revoir")],
                             cursors={options_cursor("4242"): None}, now=T0)
    # A redelivery of the same DM is still recognised.
    assert store.inbox_add("dm:5", "dm", "4242", {"text": "supprimez mes données"}) is False
    first = store.outbox_next_due(now=T0)
    assert first.recipient_id == "4242" and first.text == "C'est fait"
    assert store.outbox_sent(first.id, "x-dm-1", now=T0)
    second = store.outbox_next_due(now=T0)
    assert store.outbox_failed_permanent(second.id, 403)
    assert [r for r in rows(store, x_outbox)] == []
    assert "4242" not in every_value(store)


def test_registered_as_an_eraser_it_runs_with_erase_everywhere(store: Store) -> None:
    store.inbox_add("dm:9", "dm", "31337", {"text": "mes faits"}, now=T0)
    erasure.register(erasure.X_STORE, store.erase_conversation, prune=store.prune)
    assert erasure.erase_everywhere("x:31337") == {erasure.X_STORE: 1}
    assert rows(store, x_inbox) == []
