"""What became of the desk's replies in the channel store: the French reason of a given-up
message is kept, each queued part keeps the desk's reference, and ``outbox_deliveries`` says
queued / sent / failed per reference. The revision that adds them (0003) migrates a store of
the previous version with its rows, and back. On SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, inspect, text

from channels import migrate
from channels.store import Store
from permanence.deliveries import FAILED, QUEUED, SENT, Status

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
REASON = "la personne n'accepte plus vos messages privés"
PREVIOUS = "0002_channel_column"


def test_the_desk_reads_queued_sent_and_given_up_replies(store: Store) -> None:
    queued = store.outbox_enqueue("42", "a", now=T0, delivery_ref="desk-message:1")
    first = store.outbox_enqueue("43", "b1", now=T0, delivery_ref="desk-message:2")
    second = store.outbox_enqueue("43", "b2", now=T0, delivery_ref="desk-message:2")
    refused = store.outbox_enqueue("44", "c", now=T0, delivery_ref="desk-message:3")
    store.outbox_enqueue("45", "not the desk's", now=T0)
    assert store.outbox_sent(first, "dm-1", now=T0)
    refs = ["desk-message:1", "desk-message:2", "desk-message:3", "desk-message:9"]
    found = store.outbox_deliveries(refs)
    assert found == {"desk-message:1": Status(QUEUED), "desk-message:2": Status(QUEUED),
                     "desk-message:3": Status(QUEUED)}  # one part of 2 still waits
    assert store.outbox_sent(second, "dm-2", now=T0 + timedelta(seconds=5))
    assert store.outbox_failed_permanent(refused, 403, REASON)
    found = store.outbox_deliveries(refs)
    assert found["desk-message:2"] == Status(SENT, at=T0 + timedelta(seconds=5))
    assert found["desk-message:3"] == Status(FAILED, reason=REASON)
    assert found["desk-message:1"] == Status(QUEUED) and "desk-message:9" not in found
    assert store.outbox_get(queued).state == "pending"
    # Another channel's outbox does not answer for X's references.
    assert store.for_channel("mastodon").outbox_deliveries(refs) == {}
    assert store.outbox_deliveries([]) == {}


def test_a_store_of_the_previous_version_gets_the_columns_with_its_rows(store_url: str) -> None:
    engine = create_engine(store_url, future=True)
    try:
        migrate.upgrade(engine, PREVIOUS)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO x_outbox (channel, recipient_id, conversation_key, seq, text, state,"
                " attempts, next_attempt_at, last_error_code, created_at, priority) VALUES ('x',"
                " '42', '42', 1, NULL, 'failed_permanent', 1, '2026-12-07 08:00:00', '403',"
                " '2026-12-07 08:00:00', 0)"))
            columns = {c["name"] for c in inspect(connection).get_columns("x_outbox")}
            assert "failure_reason" not in columns and "delivery_ref" not in columns
    finally:
        engine.dispose()
    store = Store.create(store_url)  # up to the head
    try:
        with store.engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head()
            row = connection.execute(text(
                "SELECT state, last_error_code, failure_reason, delivery_ref FROM x_outbox"
            )).one()
        assert tuple(row) == ("failed_permanent", "403", None, None)
        item = store.outbox_enqueue("42", "next", now=T0, delivery_ref="desk-message:5")
        assert store.outbox_get(item).seq == 2
        assert store.outbox_next_due(now=T0).id == item
        assert store.outbox_failed_permanent(item, 403, REASON)
        assert store.outbox_deliveries(["desk-message:5"]) == {
            "desk-message:5": Status(FAILED, reason=REASON)}
        from alembic import command

        with store.engine.begin() as connection:
            command.downgrade(migrate.alembic_config(connection), PREVIOUS)
        with store.engine.connect() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("x_outbox")}
            assert "failure_reason" not in columns and "delivery_ref" not in columns
            assert connection.execute(text("SELECT count(*) FROM x_outbox")).scalar() == 2
    finally:
        store.close()
    again = Store.create(store_url)  # and up again
    assert again.outbox_deliveries(["desk-message:5"]) == {}  # the reference went down
    again.close()
