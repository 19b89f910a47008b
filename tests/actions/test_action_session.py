"""action_session_start: disclosure first (LEGAL.md S1-S6), firm details as slots; and the
registry: every custom action of domain.yml is served by the actions package."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import ActionExecutor

from actions.session import ActionSessionStart

# LEGAL.md S1 (AI, not the lawyer) -> S4 (terms) -> S5 (privacy) -> S6 (deadlines) -> consent,
# in one message (tests/actions/test_opening.py checks its content and length).
DISCLOSURE_ORDER = ["utter_opening"]
FIRM_SLOTS = ("firm_name", "lawyer_name", "firm_identity", "firm_contact", "privacy_url")


def test_every_custom_action_of_the_domain_is_registered(domain) -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {name for name in domain["actions"] if name.startswith(("action_", "validate_"))}
    assert custom, "domain.yml lists no custom action"
    assert custom == set(executor.actions)


async def test_session_start_discloses_in_order_then_listens(
    dispatcher, make_tracker, domain, sent, slot_events, firm_data
) -> None:
    events = await ActionSessionStart().run(dispatcher, make_tracker(), domain)

    assert sent() == DISCLOSURE_ORDER
    assert events[0]["event"] == "session_started"
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"
    middle = events[1:-1]
    assert all(e["event"] == "slot" for e in middle)
    slots = slot_events(events)
    assert set(slots) == set(FIRM_SLOTS)
    assert slots["firm_name"] == firm_data["firm_name"]
    assert slots["lawyer_name"] == firm_data["lawyer_name"]
    assert slots["firm_contact"] == firm_data["contact"]
    assert slots["privacy_url"] == firm_data["privacy_url"]
    # RIN art. 10 (S2): who, structure, barreaux, how to reach them (where: the full notice).
    for key in ("firm_name", "structure", "barreaux", "contact"):
        assert firm_data[key] in slots["firm_identity"]


async def test_session_start_messages_carry_the_firm_details(
    dispatcher, make_tracker, domain, render, firm_data
) -> None:
    await ActionSessionStart().run(dispatcher, make_tracker(), domain)

    [text] = [render(message) for message in dispatcher.messages]
    for message in dispatcher.messages:
        assert message["lawyer_name"] == firm_data["lawyer_name"]
        assert message["firm_name"] == firm_data["firm_name"]
    for key in ("firm_name", "lawyer_name", "barreaux", "privacy_url"):
        assert firm_data[key] in text
    # The consent question offers exactly accept / refuse.
    buttons = domain["responses"]["utter_opening"][0]["buttons"]
    assert [b["payload"] for b in buttons] == ["/affirm", "/deny"]


@pytest.mark.parametrize("slots", [{}, {"consent": "given", "domaine": "urbanisme"}])
async def test_session_start_ignores_the_tracker_state(
    dispatcher, make_tracker, domain, sent, slots
) -> None:
    await ActionSessionStart().run(dispatcher, make_tracker(slots=slots), domain)
    assert sent() == DISCLOSURE_ORDER


async def test_session_start_reads_the_firm_file_from_the_environment(
    dispatcher, make_tracker, domain, slot_events, tmp_path, monkeypatch
) -> None:
    firm_file = tmp_path / "firm.yml"
    firm_file.write_text(
        'firm_name: "Cabinet Test"\nlawyer_name: "Maître Alix Test"\n'
        'structure: "SCP"\nbarreaux: "barreau de Lille"\ncontact: "alix@test.example"\n'
        'address: "2 rue du Test, 59000 Lille"\nprivacy_url: "https://test.example/rgpd"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("PERMANENCE_FIRM_FILE", str(firm_file))

    events = await ActionSessionStart().run(dispatcher, make_tracker(), domain)

    assert slot_events(events)["lawyer_name"] == "Maître Alix Test"
    assert {m["lawyer_name"] for m in dispatcher.messages} == {"Maître Alix Test"}
    assert "barreau de Lille" in slot_events(events)["firm_identity"]
