"""A fix to Rasa 3.6's hot path, installed when the Rasa server loads the project's tracker store.

``RemoteAction._validate_action_result`` checks every answer of the action server with
``jsonschema.validate(result, schema)``, which checks the schema itself and builds a new
validator on each call: 28 ms per call on the 2-core CI machine, 40-55 % of the Rasa server's
main thread under load (py-spy profile in docs/benchmarks.md), against 0.7 ms with a validator
built once. Here the validator is built once. The check is the same: same schema, same draft,
the same ``ValidationError`` (jsonschema's ``best_match``) with the same message added.
Rasa 3.6.21 is the last open-source release, so the patched method will not move.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

_MARK = "_permanence_cached_validator"


@functools.lru_cache(maxsize=1)
def action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    error = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        f". Failed to validate Action server response from API, "
        f"make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


setattr(_validate_action_result, _MARK, True)


def install() -> None:
    """Replace Rasa's method (idempotent)."""
    if not getattr(RemoteAction._validate_action_result, _MARK, False):
        RemoteAction._validate_action_result = _validate_action_result


__all__ = ["ValidationError", "action_response_validator", "install"]
