"""The safety check that runs first on every message.

It assesses the whole conversation so far and attaches the decision to the
turn as a structured payload ({"safety": ...}) that the app acts on. On an
automatic handoff it also gives the advice that fits what was disclosed (the
NCA's sextortion advice, the 999 message...) and pauses the bot, so a
helpline worker takes over and nothing else is said automatically.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation_reading import assess_conversation, assessor
from safeguarding.assessment import Decision
from safeguarding.policy import advice_for

# Offer a person again only after this many more messages, so the offer helps and does not nag.
OFFER_EVERY_TURNS = 4


def handoff_advice(decision: Decision, tracker: Tracker) -> list[str]:
    """The responses to give with a handoff, from the cues and intent of the latest message and the criteria."""
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    cue_names = [
        entity.get("value")
        for entity in tracker.latest_message.get("entities") or []
        if entity.get("entity") == "risk_cue" and entity.get("role") == "asserted"
    ]
    return advice_for(assessor().policy.handoff_advice, [*cue_names, intent or "", *decision.criteria])


class ActionCheckSafety(Action):
    def name(self) -> str:
        return "action_check_safety"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        conversation, decision = await assess_conversation(tracker)
        dispatcher.utter_message(json_message={"safety": decision.to_dict()})
        if decision.hands_off:
            for response in handoff_advice(decision, tracker):
                dispatcher.utter_message(response=response)
            return [ConversationPaused()]
        if decision.action == "offer" and self._offer_due(tracker, len(conversation.turns)):
            dispatcher.utter_message(response="utter_offer_human")
            return [SlotSet("human_offered_at_turn", float(len(conversation.turns)))]
        return []

    @staticmethod
    def _offer_due(tracker: Tracker, turn: int) -> bool:
        offered_at = tracker.get_slot("human_offered_at_turn")
        return offered_at is None or turn - float(offered_at) >= OFFER_EVERY_TURNS
