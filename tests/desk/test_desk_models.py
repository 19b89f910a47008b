"""The desk's schema: Alembic migrations on SQLite (and PostgreSQL when enabled)."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from desk_testlib import T0
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from desk import db
from desk.models import desk_case, metadata


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_creates_every_table_and_is_idempotent(empty_url: str) -> None:
    head = ScriptDirectory.from_config(db.alembic_config(empty_url)).get_current_head()
    assert db.current_revision(empty_url) is None
    db.upgrade_to_head(empty_url)
    db.upgrade_to_head(empty_url)  # a second start changes nothing
    assert db.current_revision(empty_url) == head
    expected = set(metadata.tables) | {db.VERSION_TABLE}
    assert expected <= _tables(empty_url)
    assert {
        "desk_case", "desk_lawyer", "desk_token", "desk_note", "desk_audit", "desk_client",
        "desk_canned_reply", "desk_login_attempt", "desk_message",
    } <= set(metadata.tables)


def test_migration_matches_the_models(desk_url: str) -> None:
    engine = db.make_engine(desk_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_object": lambda obj, name, type_, reflected, other: not (
                        type_ == "table" and not name.startswith("desk_")
                        or name == db.VERSION_TABLE
                    ),
                },
            )
            assert compare_metadata(context, metadata) == []
    finally:
        engine.dispose()


def test_downgrade_removes_the_desk_tables_only(empty_url: str) -> None:
    db.upgrade_to_head(empty_url)
    engine = db.make_engine(empty_url)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE events (id INTEGER PRIMARY KEY)")
    engine.dispose()
    command.downgrade(db.alembic_config(empty_url), "base")
    left = _tables(empty_url)
    assert not (set(metadata.tables) & left)
    assert "events" in left


def _case(conversation_id: str, state: str) -> dict:
    return {
        "conversation_id": conversation_id, "state": state, "kind": "lawyer",
        "urgency": "P2", "urgency_rank": 2, "facts": json.dumps({}), "transcript": "[]",
        "flagged": False, "opened_at": T0, "updated_at": T0,
    }


def test_one_open_case_per_conversation_is_enforced_by_the_database(factory) -> None:
    with factory.begin() as session:
        session.execute(insert(desk_case).values(**_case("c1", "answered")))
        session.execute(insert(desk_case).values(**_case("c1", "handed_back")))
        session.execute(insert(desk_case).values(**_case("c1", "waiting")))
        session.execute(insert(desk_case).values(**_case("c2", "taken")))
    with pytest.raises(IntegrityError):
        with factory.begin() as session:
            session.execute(insert(desk_case).values(**_case("c1", "taken")))


def test_state_is_checked_by_the_database(factory) -> None:
    with pytest.raises(IntegrityError):
        with factory.begin() as session:
            session.execute(insert(desk_case).values(**_case("c3", "lost")))


def test_datetimes_come_back_aware_utc(factory) -> None:
    with factory.begin() as session:
        case_id = session.execute(
            insert(desk_case).values(**_case("c4", "waiting"))
        ).inserted_primary_key[0]
    with factory.begin() as session:
        opened = session.execute(
            desk_case.select().where(desk_case.c.id == case_id)
        ).one().opened_at
    assert opened == T0 and opened.utcoffset() is not None


# ------------------------------------------------------------- namespaced conversation ids

LEGACY = {  # legacy id -> namespaced id (Rasa's events)
    "1234567890": "x:1234567890",
    "0123456789abcdef0123456789abcdef": "web:0123456789abcdef0123456789abcdef",
    "0123456789ABCDEF0123456789ABCDEF": "rest:0123456789ABCDEF0123456789ABCDEF",
    "person-1": "rest:person-1",
    "x-42": "rest:x-42",
}
ALREADY = ["x:555", "web:0123456789abcdef0123456789abcdef0", "rest:client-1", "mastodon:77"]


def _seed_legacy(url: str) -> None:
    """The database as the server left it before namespacing: desk at 0001, Rasa's real
    ``events`` table with legacy and already namespaced senders, cases of each channel."""
    from rasa.core.tracker_store import SQLTrackerStore

    command.upgrade(db.alembic_config(url), "0001")
    engine = db.make_engine(url)
    try:
        SQLTrackerStore.SQLEvent.__table__.create(engine)
        events = SQLTrackerStore.SQLEvent.__table__
        with engine.begin() as connection:
            for position, sender in enumerate([*LEGACY, *ALREADY] * 2):
                connection.execute(insert(events).values(
                    sender_id=sender, type_name="user", timestamp=float(position),
                    data=json.dumps({"event": "user", "text": f"message {position}"})))
            cases = [("1234567890", "x"), ("0123456789abcdef0123456789abcdef", "webchat"),
                     ("555", "rest"), ("person-1", None), ("987", None), ("x:9", "x"),
                     ("a" * 125, "rest")]
            for conversation_id, channel in cases:
                connection.execute(insert(desk_case).values(
                    **_case(conversation_id, "closed"), channel=channel))
    finally:
        engine.dispose()


def _senders(url: str) -> list[str]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return [row[0] for row in connection.exec_driver_sql(
                "SELECT sender_id FROM events ORDER BY id")]
    finally:
        engine.dispose()


def _case_ids(url: str) -> list[tuple[str, str | None]]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.exec_driver_sql(
                "SELECT conversation_id, channel FROM desk_case ORDER BY id")]
    finally:
        engine.dispose()


def test_legacy_conversation_ids_get_their_channels_namespace(empty_url: str) -> None:
    _seed_legacy(empty_url)
    before = _senders(empty_url)
    db.upgrade_to_head(empty_url)
    expected = [LEGACY.get(sender, sender) for sender in before]
    assert _senders(empty_url) == expected
    assert _case_ids(empty_url) == [
        ("x:1234567890", "x"),
        ("web:0123456789abcdef0123456789abcdef", "webchat"),
        ("rest:555", "rest"),  # the channel column decides, not the shape
        ("rest:person-1", None),
        ("x:987", None),
        ("x:9", "x"),  # already namespaced
        ("a" * 125, "rest"),  # namespaced it would not fit the column: left alone
    ]
    db.upgrade_to_head(empty_url)  # a second start changes nothing
    assert _senders(empty_url) == expected


def test_the_namespacing_downgrade_gives_the_legacy_ids_back(empty_url: str) -> None:
    _seed_legacy(empty_url)
    before, cases_before = _senders(empty_url), _case_ids(empty_url)
    command.upgrade(db.alembic_config(empty_url), "0002_namespaced_ids")
    command.downgrade(db.alembic_config(empty_url), "0001")
    # Ids namespaced before the upgrade lose their prefix too: the old code had none.
    assert _senders(empty_url) == [s.partition(":")[2] if s in ALREADY else s for s in before]
    assert _case_ids(empty_url) == [(c.partition(":")[2] if c == "x:9" else c, channel)
                                    for c, channel in cases_before]


def test_without_rasas_events_table_only_the_cases_are_rewritten(empty_url: str) -> None:
    command.upgrade(db.alembic_config(empty_url), "0001")
    engine = db.make_engine(empty_url)
    with engine.begin() as connection:
        connection.execute(insert(desk_case).values(**_case("42", "waiting"), channel="x"))
    engine.dispose()
    db.upgrade_to_head(empty_url)
    assert "events" not in _tables(empty_url)
    assert _case_ids(empty_url) == [("x:42", "x")]
