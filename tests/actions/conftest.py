"""Fixtures for the custom-action tests, in the style of rasa-sdk's own form tests.

- ``domain``: the real ``domain.yml`` as the dict the action server receives (loaded once).
- ``dispatcher``: a fresh ``CollectingDispatcher`` per test.
- ``make_tracker`` / ``make_form_tracker``: build a ``rasa_sdk.Tracker`` with every domain slot.
- ``today``: "today" fixed for the validators and the handoff (autouse: no test reads the clock).
- ``schedule``: the handoff's clock fixed at ``NOW`` and its permanence schedule always live
  (autouse); ``schedule(yaml_text)`` gives it another schedule.
- ``sent``, ``slot_events``, ``render``: small helpers, exposed as fixtures because several
  ``conftest.py`` files live under tests/ (no ``from conftest import``).
"""

from __future__ import annotations

import copy
import re
import warnings
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

import actions.handoff
import actions.triage_form

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILE = ROOT / "domain.yml"
FIRM_FILE = ROOT / "firm.yml"

# A Wednesday, far from month ends and public holidays.
TODAY = date(2026, 5, 20)
# The moment the handoff reads the permanence schedule at: 10:00 in Paris, TODAY.
NOW = datetime.combine(TODAY, time(10), tzinfo=ZoneInfo("Europe/Paris"))
ALWAYS_LIVE = ROOT / "tests" / "schedule_always_live.yml"

_PLACEHOLDER = re.compile(r"{(\w+)}")


@pytest.fixture(scope="session")
def _domain_dict() -> dict[str, Any]:
    with warnings.catch_warnings():
        # Rasa warns that slot auto-fill was removed in 3.0: not about this domain.
        warnings.filterwarnings("ignore", message="Slot auto-fill", category=UserWarning)
        return Domain.load(str(DOMAIN_FILE)).as_dict()


@pytest.fixture
def domain(_domain_dict: dict[str, Any]) -> dict[str, Any]:
    """The real domain, as the action server receives it (a copy: tests cannot leak changes)."""
    return copy.deepcopy(_domain_dict)


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """Fix "today" for the form validators and for the handoff's urgency computation.

    ``actions.handoff`` imports ``today`` by name, so it is patched there too.
    """
    monkeypatch.setattr(actions.triage_form, "today", lambda: TODAY)
    monkeypatch.setattr(actions.handoff, "today", lambda: TODAY)
    return TODAY


@pytest.fixture(autouse=True)
def schedule(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """Fix the handoff's clock at ``NOW`` and make the lawyer live (the handover's texts as during
    a session); ``schedule(text)`` writes another schedule file and makes the handoff read it."""
    monkeypatch.setattr(actions.handoff, "now", lambda: NOW)
    monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(ALWAYS_LIVE))

    def _use(text: str) -> Path:
        path = tmp_path_factory.mktemp("schedule") / "schedule.yml"
        path.write_text(text, encoding="utf-8")
        monkeypatch.setenv("PERMANENCE_SCHEDULE_FILE", str(path))
        return path

    return _use


def _latest_message(text: str, intent: str | None) -> dict[str, Any]:
    intent_data = {"name": intent, "confidence": 1.0} if intent else {}
    return {
        "text": text,
        "intent": intent_data,
        "intent_ranking": [intent_data] if intent else [],
        "entities": [],
    }


@pytest.fixture
def make_tracker(domain: dict[str, Any]) -> Callable[..., Tracker]:
    """Build a tracker: every domain slot present (None unless given), the latest user message,
    and events ending with that message (or ``events`` as given)."""
    slot_names = set(domain["slots"])

    def _make(
        slots: dict[str, Any] | None = None,
        text: str = "",
        intent: str | None = None,
        active_loop: str | None = None,
        requested_slot: str | None = None,
        events: list[dict[str, Any]] | None = None,
        sender_id: str = "test-person",
        latest_action_name: str = "action_listen",
    ) -> Tracker:
        given = dict(slots or {})
        unknown = set(given) - slot_names - {"requested_slot"}
        assert not unknown, f"not domain slots: {sorted(unknown)}"
        all_slots: dict[str, Any] = {name: None for name in sorted(slot_names)}
        all_slots["requested_slot"] = requested_slot
        all_slots.update(given)
        message = _latest_message(text, intent)
        if events is None:
            events = [ActiveLoop(active_loop)] if active_loop else []
            events += [
                ActionExecuted("action_listen"),
                {"event": "user", "timestamp": None, "text": text, "parse_data": message},
            ]
        loop = {"name": active_loop, "validate": True, "rejected": False} if active_loop else {}
        return Tracker(
            sender_id, all_slots, message, events, False, None, loop, latest_action_name
        )

    return _make


@pytest.fixture
def make_form_tracker(make_tracker: Callable[..., Tracker]) -> Callable[..., Tracker]:
    """The tracker a form's validation action receives for the answer ``value`` to ``slot``.

    As Rasa does for a ``from_text`` mapping: the text becomes the slot candidate, set in the
    slots and appended as ``SlotSet`` after the user message (``slots_to_validate`` reads it).
    """

    def _make(
        form: str,
        slot: str,
        value: Any,
        slots: dict[str, Any] | None = None,
        intent: str = "inform",
    ) -> Tracker:
        text = value if isinstance(value, str) else ""
        tracker = make_tracker(
            slots={**(slots or {}), slot: value},
            text=text,
            intent=intent,
            active_loop=form,
            requested_slot=slot,
        )
        tracker.events.append(SlotSet(slot, value))
        return tracker

    return _make


@pytest.fixture
def sent(dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> Callable[[], list[str]]:
    """Names of the responses sent so far, after checking that each exists in domain.yml and
    that every ``{placeholder}`` of its text is filled by the message's template values."""

    def _sent() -> list[str]:
        names = []
        for message in dispatcher.messages:
            name = message.get("response")
            assert name in domain["responses"], f"{name!r} is not a response of domain.yml"
            for variant in domain["responses"][name]:
                for field in _PLACEHOLDER.findall(variant.get("text") or ""):
                    assert message.get(field) not in (None, ""), f"{name}: {{{field}}} not filled"
            names.append(name)
        return names

    return _sent


@pytest.fixture
def render(domain: dict[str, Any]) -> Callable[[dict[str, Any]], str]:
    """The text the person reads for a dispatched message (first variant of the response)."""

    def _render(message: dict[str, Any]) -> str:
        text = domain["responses"][message["response"]][0]["text"]
        return _PLACEHOLDER.sub(lambda m: str(message[m.group(1)]), text)

    return _render


@pytest.fixture
def slot_events() -> Callable[[list[dict[str, Any]]], dict[str, Any]]:
    """{slot: value} of the ``SlotSet`` events in a list of events (the last value wins)."""

    def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}

    return _slots


@pytest.fixture(scope="session")
def firm_data() -> dict[str, str]:
    """firm.yml as written by the firm (read here with plain YAML, not with the code under test)."""
    import yaml

    with FIRM_FILE.open(encoding="utf-8") as handle:
        return {key: str(value) for key, value in yaml.safe_load(handle).items()}


@pytest.fixture
def session_start_events() -> list[dict[str, Any]]:
    """The events Rasa logs for a session start whose messages reached the person: the action,
    its messages (each with the ``utter_action`` Rasa records), then ``SessionStarted``."""
    from actions.session import DISCLOSURE

    return [
        {"event": "action", "timestamp": None, "name": "action_session_start"},
        *({"event": "bot", "timestamp": None, "text": name, "data": {},
           "metadata": {"utter_action": name}} for name in DISCLOSURE),
        {"event": "session_started", "timestamp": None},
        {"event": "action", "timestamp": None, "name": "action_listen"},
    ]
