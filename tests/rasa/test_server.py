"""Rasa's server as the project runs it accepts and refuses the action server's answers as Rasa does."""

import asyncio

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionCheckSafety
from channels import server


@pytest.fixture
def remote_action(monkeypatch) -> RemoteAction:
    monkeypatch.setattr(RemoteAction, "_validate_action_result", server._validate_action_result)
    return RemoteAction("action_check_safety", None)


def test_the_safety_actions_real_answer_is_accepted(remote_action, tracker_for, domain) -> None:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ActionCheckSafety().run(dispatcher, tracker_for("he says he'll send my pics to everyone unless i pay"), domain)
    )
    assert {"event": "pause", "timestamp": None} in events
    assert remote_action._validate_action_result({"events": events, "responses": dispatcher.messages})


@pytest.mark.parametrize(
    "answer",
    [
        {"events": [{"event": "no_such_event"}], "responses": []},
        {"events": [{"event": "slot", "value": 1}], "responses": []},
        {"events": {"event": "pause"}, "responses": []},
        {"events": [], "responses": ["not an object"]},
    ],
)
def test_an_invalid_answer_is_refused_with_rasas_own_error(remote_action, answer) -> None:
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        remote_action._validate_action_result(answer)
