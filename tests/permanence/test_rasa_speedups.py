"""The cached validator of action-server answers decides exactly as Rasa's own check."""

from __future__ import annotations

import copy

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from permanence import rasa_speedups

VALID = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "route", "value": "triage"}],
     "responses": [{"response": "utter_triage_intro", "firm_name": "Cabinet"}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "pause"},
                {"event": "bot", "text": "Bonjour 👋", "metadata": {"author": "lawyer"}}],
     "responses": []},
    {},
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"events": [{"event": "slot"}]},  # a slot event needs its name
    {"responses": [1, 2]},
    {"events": [{"event": "unknown_event_type"}]},
]


def rasa_original(result: dict) -> str | None:
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
        return None
    except jsonschema.ValidationError as error:
        return error.message


@pytest.fixture
def action() -> RemoteAction:
    rasa_speedups.install()
    return RemoteAction("action_x", None)


@pytest.mark.parametrize("result", VALID)
def test_valid_answers_pass(action: RemoteAction, result: dict) -> None:
    assert rasa_original(result) is None
    assert action._validate_action_result(copy.deepcopy(result)) is True


@pytest.mark.parametrize("result", INVALID)
def test_invalid_answers_raise_rasas_error(action: RemoteAction, result: dict) -> None:
    expected = rasa_original(result)
    assert expected is not None
    with pytest.raises(jsonschema.ValidationError) as raised:
        action._validate_action_result(copy.deepcopy(result))
    assert raised.value.message.startswith(expected)
    assert "Failed to validate Action server response" in raised.value.message


def test_install_is_idempotent_and_the_validator_is_built_once() -> None:
    rasa_speedups.install()
    method = RemoteAction._validate_action_result
    rasa_speedups.install()
    assert RemoteAction._validate_action_result is method
    assert rasa_speedups.action_response_validator() is rasa_speedups.action_response_validator()


def test_the_tracker_store_module_installs_it() -> None:
    import permanence.tracker_store  # noqa: F401 - imported for its effect

    assert getattr(RemoteAction._validate_action_result, "_permanence_cached_validator", False)

