"""The young person asks for a person, or accepts the bot's offer of one."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_reading import assess_conversation
from safeguarding.vocabulary import Level

# A typed request for a person below this confidence is confirmed with an offer first.
CLEAR_REQUEST_CONFIDENCE = 0.8


class ActionHandToPerson(Action):
    def name(self) -> str:
        return "action_hand_to_person"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if not self._clearly_asked(tracker):
            # A typed request the NLU is unsure of: check with an offer rather than
            # hand over on a misunderstanding; "Talk to a person" then hands over.
            dispatcher.utter_message(response="utter_offer_human")
            return []
        conversation, decision = await assess_conversation(tracker)
        requested = {**decision.to_dict(), "action": "handoff"}
        if not decision.hands_off:
            # SAFEGUARDING.md, Triage: "offered" cases are the young person's choice.
            requested.update(level=Level.OFFERED, criteria=["asked_for_person"])
        dispatcher.utter_message(json_message={"safety": requested})
        return [ConversationPaused()]

    @staticmethod
    def _clearly_asked(tracker: Tracker) -> bool:
        """A button press, a yes to the offer, or a request the NLU is sure of."""
        latest = tracker.latest_message
        intent = latest.get("intent") or {}
        pressed_button = (latest.get("text") or "").startswith("/")
        return (
            pressed_button
            or intent.get("name") == "affirm"
            or float(intent.get("confidence") or 0) >= CLEAR_REQUEST_CONFIDENCE
        )
