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
