"""Rasa's server as the project runs it: ``python -m channels.server run ...`` takes `rasa run`'s arguments.

It is `rasa run` with one change. Rasa 3.6.21 checks every answer of the action
server against its event schema with ``jsonschema.validate``, which first checks
the schema itself against JSON Schema's meta-schema, on every call: about 28 ms
of CPU per action call here (0.6 ms with a validator built once), a fifth of
Rasa's time per message in the profile. The schema is fixed,
so it is checked once; a valid answer is accepted by a validator built once, and
an invalid one still goes through Rasa's own validation, which raises its own error.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import validators
from rasa.core.actions.action import RemoteAction

_validate_with_rasa = RemoteAction._validate_action_result


@cache
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(action: RemoteAction, result: dict[str, Any]) -> bool:
    return _action_response_validator().is_valid(result) or _validate_with_rasa(action, result)


def check_action_responses_with_one_validator() -> None:
    RemoteAction._validate_action_result = _validate_action_result


if __name__ == "__main__":
    check_action_responses_with_one_validator()
    from rasa.__main__ import main

    main()
