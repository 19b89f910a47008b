"""Retention that erases (desk/erasure.py ``purge``, desk/retention.py), on SQLite and
PostgreSQL: every conversation idle for the period and without an open case is erased from every
store (tracker events, desk cases, X store); open cases and recent conversations stay; the daily
run is taken by one process."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from desk_testlib import handoff_tracker
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import select, text

from desk import auth, cases, db, erasure, retention
from desk.cli import main as cli
from desk.models import desk_case
from permanence import erasure as everywhere
from permanence.continue_link import Settings
from permanence.continue_store import ContinueStore
from permanence.tracker_store import ConfidentialSQLTrackerStore
from permanence.x_store import Store, x_inbox

NOW = datetime.now(timezone.utc)
OLD = NOW - timedelta(days=45)


def chat(domain, sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen"),
        UserUttered("la préfecture refuse mon titre de séjour", {"name": "question_etrangers"},
                    input_channel="x")], slots=domain.slots)


def make_old(url: str, sender: str, when: datetime = OLD) -> None:
    with db.session_factory(url).begin() as session:
        session.execute(text("UPDATE events SET timestamp = :t WHERE sender_id = :s"),
                        {"t": when.timestamp(), "s": sender})


async def people(url: str, domain) -> tuple[ConfidentialSQLTrackerStore, Store]:
    """Five conversations: idle without case, idle with a closed case, idle with an open case,
    recent, and recent with a case closed long ago."""
    store = ConfidentialSQLTrackerStore(domain=domain, url=url)
    x_store = Store.create(url)
    everywhere.register(everywhere.X_STORE, x_store.erase_conversation, prune=x_store.prune)
    erasure.register(url)
    with db.session_factory(url).begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
    await store.save(chat(domain, "x:100"))
    x_store.inbox_add("dm:100", "dm", "100", {"text": "la préfecture"})
    for sender in ("x:101", "x:102", "web:104"):
        await store.save(handoff_tracker(domain, sender))
    await store.save(chat(domain, "x:103"))
    with db.session_factory(url).begin() as session:
        cases.close(session, cases.open_case_id(session, "x:101"), lawyer, "answered",
                    now=OLD)
        cases.close(session, cases.open_case_id(session, "web:104"), lawyer, "answered",
                    now=OLD)
    for sender in ("x:100", "x:101", "x:102"):
        make_old(url, sender)
    return store, x_store


def case_conversations(url: str) -> list[str]:
    with db.session_factory(url).begin() as session:
        return sorted(session.execute(select(desk_case.c.conversation_id)).scalars())


async def test_purge_erases_idle_conversations_with_and_without_cases(desk_url, domain) -> None:
    store, x_store = await people(desk_url, domain)
    result = erasure.purge(desk_url, NOW - timedelta(days=30))
    assert (result.conversations, result.cases) == (2, 1)
    for gone in ("x:100", "x:101"):
        assert await store.retrieve(gone) is None
    for kept in ("x:102", "x:103", "web:104"):
        assert await store.retrieve(kept) is not None
    assert case_conversations(desk_url) == ["x:102"]  # the open case; web:104's closed one went
    with x_store.engine.connect() as connection:
        assert list(connection.execute(select(x_inbox))) == []
    # Nothing is left to do: a second run erases nothing.
    again = erasure.purge(desk_url, NOW - timedelta(days=30))
    assert (again.conversations, again.cases) == (0, 0)
    store.engine.dispose()
    x_store.close()


async def test_a_store_that_fails_is_reported_and_the_others_still_erase(desk_url, domain) -> None:
    store, x_store = await people(desk_url, domain)

    def broken(conversation_id: str) -> int:
        raise OSError("unavailable")

    everywhere.register("broken", broken)
    try:
        erasure.purge(desk_url, NOW - timedelta(days=30))
    except everywhere.ErasureFailed as failed:
        assert len(failed.failures) == 2 and set(failed.failures.values()) == {"OSError"}
        assert all(key.endswith("/broken") for key in failed.failures)
    else:
        raise AssertionError("a failed erasure must be reported")
    assert await store.retrieve("x:100") is None and await store.retrieve("x:101") is None
    store.engine.dispose()
    x_store.close()


async def test_the_servers_daily_run_is_taken_once(desk_url, domain) -> None:
    store, x_store = await people(desk_url, domain)
    first = await retention.run_once(None, desk_url, 30, "process-1")
    assert first is not None and first.conversations == 2
    assert await retention.run_once(None, desk_url, 30, "process-2") is None
    assert await store.retrieve("x:100") is None
    store.engine.dispose()
    x_store.close()


async def test_cli_purge_erases_conversations_in_every_store(desk_url, domain, monkeypatch,
                                                             capsys) -> None:
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    monkeypatch.setenv("PERMANENCE_X_DATABASE_URL", desk_url)
    store, x_store = await people(desk_url, domain)
    # A link to the web chat offered to the idle X conversation, and one to the recent one.
    links = ContinueStore.create(desk_url)
    settings = Settings(b"k" * 32, "https://chat.cabinet.fr")
    assert links.issue(settings, "x:100") and links.issue(settings, "x:103")
    everywhere.reset()  # a process of its own: the CLI registers the stores itself
    assert cli(["purge", "--days", "30"]) == 0
    out = capsys.readouterr().out
    assert "erased 2 conversations" in out and "purged 1 cases" in out
    assert await store.retrieve("x:100") is None and await store.retrieve("x:103") is not None
    with x_store.engine.connect() as connection:
        assert list(connection.execute(select(x_inbox))) == []
    assert not links.offered("x:100") and links.offered("x:103")
    links.close()
    store.engine.dispose()
    x_store.close()


def test_retention_days_default_is_the_privacy_notices(monkeypatch) -> None:
    monkeypatch.delenv(retention.ENV_DAYS, raising=False)
    assert retention.retention_days() == 30
    monkeypatch.setenv(retention.ENV_DAYS, "45")
    assert retention.retention_days() == 45
    for bad in ("0", "-3", "trente"):
        monkeypatch.setenv(retention.ENV_DAYS, bad)
        try:
            retention.retention_days()
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
