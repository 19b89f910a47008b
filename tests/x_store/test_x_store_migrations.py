"""The channel store's Alembic history (channels/migrations): an X store of the previous
version migrates in place (its rows become channel 'x'), channels share the tables without
seeing each other's rows, and the store migrates apart from the desk (its own version table).
On SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import create_engine, inspect, select, text

from channels import migrate
from channels.store import Store, x_budget, x_cursor, x_inbox, x_invitation, x_lease, x_outbox
from tests.x_store.legacy import legacy_store

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
LEGACY_ROWS = [
    "INSERT INTO x_inbox (event_id, kind, sender_id, payload, received_at, state, attempts) "
    "VALUES ('ev-1', 'dm', '42', '{\"t\": 1}', '2026-01-05 08:00:00', 'pending', 0)",
    "INSERT INTO x_inbox (event_id, kind, sender_id, payload, received_at, state, attempts, "
    "processed_at) VALUES ('ev-0', 'dm', '42', NULL, '2026-01-05 07:00:00', 'done', 1, "
    "'2026-01-05 07:00:01')",
    "INSERT INTO x_outbox (recipient_id, conversation_key, seq, text, state, attempts, "
    "next_attempt_at, created_at, priority) VALUES ('42', '42', 1, 'reply', 'pending', 0, "
    "'2026-01-05 08:00:00', '2026-01-05 08:00:00', 2)",
    "INSERT INTO x_cursor (name, value, updated_at) VALUES ('mentions.since_id', '99', "
    "'2026-01-05 08:00:00')",
    "INSERT INTO x_lease (name, holder, expires_at) VALUES ('poller', 'old-process', "
    "'2030-01-01 00:00:00')",
    "INSERT INTO x_invitation (author_id, last_invited_at) VALUES ('7', '2026-01-05 08:00:00')",
    "INSERT INTO x_budget (name, state, updated_at) VALUES ('dm_send', '{}', "
    "'2026-01-05 08:00:00')",
]
TABLES = (x_inbox, x_outbox, x_cursor, x_lease, x_invitation, x_budget)


def _insert_legacy_rows(url: str) -> None:
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            for statement in LEGACY_ROWS:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_an_x_store_of_the_previous_version_migrates_in_place(store_url: str) -> None:
    legacy_store(store_url)
    _insert_legacy_rows(store_url)
    store = Store.create(store_url)
    try:
        with store.engine.connect() as connection:
            for table in TABLES:
                channels = connection.execute(select(table.c.channel)).scalars().all()
                assert channels and set(channels) == {"x"}, table.name
            assert migrate.current_revision(connection) == migrate.head()
        assert store.inbox_pending_count() == 1 and store.outbox_pending_count() == 1
        assert store.cursor_get("mentions.since_id") == "99"
        assert store.lease_holder("poller", now=T0) == "old-process"
        assert not store.invitation_allowed("7", now=T0)
        item = store.inbox_claim_next("w", now=T0)
        assert item is not None and item.event_id == "ev-1" and item.payload == {"t": 1}
        assert not store.inbox_add("ev-1", "dm", "42", {}, now=T0)  # still deduplicated
        reply = store.outbox_next_due(now=T0)
        assert reply is not None and reply.text == "reply"
        store.outbox_sent(reply.id, "dm-1", now=T0)
        assert store.outbox_enqueue("42", "next", now=T0) > reply.id  # seq follows the old one
    finally:
        store.close()
    again = Store.create(store_url)  # at the head: nothing to do
    assert again.cursor_get("mentions.since_id") == "99"
    again.close()


def test_channels_share_the_tables_without_seeing_each_other(store: Store) -> None:
    other = store.for_channel("mastodon")
    assert store.inbox_add("ev", "dm", "p", {"a": 1}, now=T0)
    assert other.inbox_add("ev", "dm", "p", {"a": 2}, now=T0)  # same id, another channel
    assert store.inbox_pending_count() == 1 and other.inbox_pending_count() == 1
    # One person's order is per channel: X's processing item does not block Mastodon's.
    mine = store.inbox_claim_next("w", now=T0)
    theirs = other.inbox_claim_next("w", now=T0)
    assert (mine.payload, theirs.payload) == ({"a": 1}, {"a": 2})
    assert store.inbox_claim_next("w", now=T0) is None
    store.outbox_enqueue("p", "x1", now=T0)
    other.outbox_enqueue("p", "m1", now=T0)
    assert other.outbox_next_due(now=T0).text == "m1"
    assert store.outbox_next_due(now=T0).text == "x1"
    store.cursor_set("c", "1", now=T0)
    assert other.cursor_get("c") is None
    assert store.lease_acquire("poller", "a", 30, now=T0)
    assert other.lease_acquire("poller", "b", 30, now=T0)
    assert store.invitation_allowed("p", now=T0) and other.invitation_allowed("p", now=T0)
    assert store.erase_person("p") > 0
    assert store.inbox_pending_count() == 0 and other.cursor_get("c") is None
    assert other.outbox_pending_count() == 1  # Mastodon's rows are not X's to erase
    assert other.lease_holder("poller", now=T0) == "b"
    assert other.prune(T0 + timedelta(days=400)) == 0


def test_the_store_migrates_apart_from_the_desk(store_url: str) -> None:
    from desk.db import VERSION_TABLE, upgrade_to_head

    store = Store.create(store_url)
    store.close()
    upgrade_to_head(store_url)
    engine = create_engine(store_url, future=True)
    try:
        names = set(inspect(engine).get_table_names())
        assert {migrate.VERSION_TABLE, VERSION_TABLE, "x_inbox", "desk_case"} <= names
        with engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head()
    finally:
        engine.dispose()
    Store.create(store_url).close()  # the desk's revisions are no concern of the store's


def test_the_downgrade_keeps_the_x_rows(store_url: str) -> None:
    from alembic import command

    store = Store.create(store_url)
    store.inbox_add("ev-x", "dm", "p", {}, now=T0)
    store.for_channel("mastodon").inbox_add("ev-m", "dm", "p", {}, now=T0)
    store.cursor_set("c", "1", now=T0)
    with store.engine.begin() as connection:
        command.downgrade(migrate.alembic_config(connection), "0001_x_store_baseline")
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT event_id FROM x_inbox")).scalars().all() == [
            "ev-x"]
        assert "channel" not in {c["name"] for c in inspect(connection).get_columns("x_inbox")}
    store.close()
    again = Store.create(store_url)  # and up again
    assert again.inbox_pending_count() == 1 and again.cursor_get("c") == "1"
    again.close()


def test_the_alembic_command_line_migrates_the_store(tmp_path) -> None:
    import os
    import subprocess
    import sys
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'x.db'}"
    legacy_store(url)
    _insert_legacy_rows(url)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PERMANENCE_X_DATABASE_URL": url}
    for command in (["upgrade", "head"], ["downgrade", "0001_x_store_baseline"],
                    ["upgrade", "head"]):
        subprocess.run([sys.executable, "-m", "alembic", "-c", str(root / "channels" /
                        "alembic.ini"), *command], cwd=root, env=env, check=True,
                       capture_output=True, timeout=120)
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            assert migrate.current_revision(connection) == migrate.head()
            assert connection.execute(select(x_inbox.c.channel, x_inbox.c.event_id)
                                      .order_by(x_inbox.c.event_id)).all() == [
                ("x", "ev-0"), ("x", "ev-1")]
    finally:
        engine.dispose()
