"""Erasure and retention of the desk's cases (desk/erasure.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from desk_testlib import T0, handoff_tracker
from sqlalchemy import func, select

from desk import auth, cases, erasure, hooks
from desk.cli import main as cli
from desk.models import desk_audit, desk_case, desk_message, desk_note
from permanence.settings import x_database_url
from permanence.x_store import InboxEvent, Store, utcnow


def counts(factory) -> tuple[int, int, int]:
    with factory.begin() as session:
        return tuple(session.execute(select(func.count()).select_from(table)).scalar_one()
                     for table in (desk_case, desk_message, desk_note))


def open_with_content(factory, domain, sender: str, lawyer: int, now=T0) -> int:
    with factory.begin() as session:
        case_id = cases.open_case_from_tracker(session, handoff_tracker(domain, sender),
                                               now=now)[0]
        cases.record_person_message(session, sender, "un message de la personne", now=now)
        cases.take(session, case_id, lawyer, now=now)
        cases.reply(session, case_id, lawyer, "une réponse", now=now)
        cases.note(session, case_id, lawyer, "une note", now=now)
    return case_id


def test_erase_conversation_removes_cases_messages_notes_only_of_that_conversation(
    factory, domain
) -> None:
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
    gone = open_with_content(factory, domain, "person-a", lawyer)
    kept = open_with_content(factory, domain, "person-b", lawyer)
    assert counts(factory) == (2, 4, 2)
    with factory.begin() as session:
        assert erasure.erase_conversation(session, "person-a") == 1
        assert erasure.erase_conversation(session, "nobody") == 0
    assert counts(factory) == (1, 2, 1)
    with factory.begin() as session:
        assert cases.get_case(session, kept)["conversation_id"] == "person-b"
        trail = session.execute(
            select(desk_audit.c.case_id, desk_audit.c.detail)
            .where(desk_audit.c.action == "case.erased")).all()
    assert [tuple(row) for row in trail] == [(gone, "person_request")]


def test_purge_closed_keeps_open_and_recent_cases(factory, domain) -> None:
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
    old_closed = open_with_content(factory, domain, "old", lawyer)
    recent_closed = open_with_content(factory, domain, "recent", lawyer)
    still_open = open_with_content(factory, domain, "open", lawyer)
    with factory.begin() as session:
        cases.close(session, old_closed, lawyer, "answered", now=T0)
        cases.handback(session, recent_closed, lawyer, now=T0 + timedelta(days=60))
        purged = erasure.purge_closed(session, before=T0 + timedelta(days=30))
    assert purged == 1
    with factory.begin() as session:
        left = set(session.execute(select(desk_case.c.id)).scalars())
    assert left == {recent_closed, still_open}


async def test_hook_erases_the_cases_when_the_assistant_erases_the_conversation(
    desk_url, factory, domain
) -> None:
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
    open_with_content(factory, domain, "person-a", lawyer)
    await hooks.on_conversation_erased(desk_url, "person-a")
    assert counts(factory) == (0, 0, 0)


def test_cli_purge(desk_url, factory, domain, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PERMANENCE_DATABASE_URL", desk_url)
    with factory.begin() as session:
        lawyer = auth.set_lawyer(session, "a@cabinet.example", "un mot de passe solide")
    case_id = open_with_content(factory, domain, "old", lawyer)
    with factory.begin() as session:
        cases.close(session, case_id, lawyer, "nothing_to_answer", now=T0 - timedelta(days=400))
    # The X channel's store: one item handled 400 days ago, one today.
    with Store.create(x_database_url()) as store:
        store.inbox_add_many([InboxEvent("dm:1", "dm", "42", {"text": "a"}),
                              InboxEvent("dm:2", "dm", "42", {"text": "b"})])
        handled = []
        for now in (T0 - timedelta(days=400), utcnow()):
            item = store.inbox_claim_next("w")
            assert store.turn_commit(item.id, "w", [], now=now)
            handled.append(item.id)
    assert cli(["purge", "--days", "0"]) == 2
    assert cli(["purge", "--days", "365"]) == 0
    out = capsys.readouterr().out
    assert "purged 1 cases" in out and "purged 1 X channel records" in out
    assert counts(factory)[0] == 0
    with Store.create(x_database_url()) as store:
        assert store.inbox_get(handled[0]) is None and store.inbox_get(handled[1]) is not None
