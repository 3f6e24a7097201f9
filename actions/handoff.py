"""The young person asks for a person, or accepts the bot's offer of one."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_reading import assessor, read_conversation


class ActionHandToPerson(Action):
    def name(self) -> str:
        return "action_hand_to_person"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        conversation = read_conversation(tracker)
        decision = assessor().assess(conversation.turns, since=conversation.covered_by_handoff)
        requested = {**decision.to_dict(), "action": "handoff"}
        if not decision.hands_off:
            # SAFEGUARDING.md, Triage: "offered" cases are the young person's choice.
            requested.update(level="offered", criteria=["asked_for_person"])
        dispatcher.utter_message(json_message={"safety": requested})
        return [ConversationPaused()]
