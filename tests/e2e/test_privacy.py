"""The young person's "delete my chat" reaches Rasa: the whole service, the trained model,
and Rasa's own SQLite tracker store read directly."""

from __future__ import annotations

from devtools.teen import TeenClient
from tests.app.rasa_tracker import stored_events


def test_deleting_a_chat_deletes_it_from_rasas_tracker_store(service, conversation: TeenClient) -> None:
    tracker_url = service.app_env["RASA_TRACKER_URL"]
    conversation.say("are you a real person?")
    assert stored_events(tracker_url, conversation.id) > 0, "Rasa stored the conversation"

    deleted = conversation.http.delete(f"/api/conversations/{conversation.id}", headers=conversation.headers)

    assert deleted.status_code == 204
    assert stored_events(tracker_url, conversation.id) == 0
