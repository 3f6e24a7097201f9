"""What happens to a young person's message after it is stored.

The dialogue worker passes each stored message, in order, to Rasa; stores the
bot's replies as events; and acts on the risk decision that the actions attach
to every turn. When Rasa gives no decision (it is down, the action server is
down, or a person already has the conversation), the app's safety net decides,
so that clear danger always reaches a person.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.conversation import service as conversations
from bot.conversation.models import ConversationStatus, EventType
from bot.dialogue.rasa import DialogueUnavailable
from bot.dialogue.safety_net import SafetyNet
from bot.handoff import flows as handoff
from bot.notify import conversation_channel
from bot.services import Services
from safeguarding.assessment import Decision

logger = logging.getLogger(__name__)

RECOVERY_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class BotTurn:
    messages: list[dict[str, Any]]
    decision: Decision | None
    answered: bool


def read_replies(replies: list[dict[str, Any]]) -> BotTurn:
    """The bot's messages and the risk decision out of Rasa's REST replies."""
    messages: list[dict[str, Any]] = []
    decision = None
    for reply in replies:
        custom = reply.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("safety"), dict):
            decision = Decision.from_dict(custom["safety"])
        text = reply.get("text")
        if isinstance(text, str) and text.strip():
            message: dict[str, Any] = {"text": text}
            buttons = [
                {"title": str(button["title"]), "payload": str(button["payload"])}
                for button in reply.get("buttons") or []
                if isinstance(button, dict) and button.get("title") and button.get("payload")
            ]
            if buttons:
                message["buttons"] = buttons
            messages.append(message)
    return BotTurn(messages, decision, answered=bool(replies))


class DialogueWorker:
    """Handles each conversation's stored messages one at a time, in order."""

    def __init__(self, services: Services, safety_net: SafetyNet) -> None:
        self.services = services
        self.safety_net = safety_net
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pending: set[str] = set()
        self._recovery: asyncio.Task[None] | None = None

    def schedule(self, conversation_id: str) -> None:
        self._pending.add(conversation_id)
        if conversation_id not in self._tasks:
            self._tasks[conversation_id] = asyncio.create_task(self._drain(conversation_id))

    async def remember_nation(self, conversation_id: str, nation: str) -> None:
        """Tell Rasa the nation the embedding site serves, before the conversation's id is returned (told in
        the background, it could land after the first message). Best effort: it only picks a text variant.

        The conversation's session is started here too, before the slot: Rasa reads only the events since the
        latest session start, by time, and a slot sent alone is stamped before the session Rasa then starts
        for it, so the dialogue never saw it (tests/e2e/test_law_and_situations.py)."""
        try:
            await self.services.rasa.append_tracker_events(
                conversation_id,
                [
                    {"event": "action", "name": "action_session_start"},
                    {"event": "session_started"},
                    {"event": "action", "name": "action_listen"},
                    {"event": "slot", "name": "nation", "value": nation},
                ],
            )
        except DialogueUnavailable:
            logger.warning("could not pass the nation of conversation %s to Rasa", conversation_id)

    def start(self) -> None:
        self._recovery = asyncio.create_task(self._recover())

    async def _recover(self) -> None:
        """Pick up messages a previous run stored but did not answer, once the database answers."""
        while True:
            try:
                pending = await self.services.db(conversations.conversations_awaiting_dialogue)
            except DBAPIError:
                logger.warning("database unavailable; retrying recovery of unanswered messages")
                await asyncio.sleep(RECOVERY_RETRY_SECONDS)
                continue
            for conversation_id in pending:
                self.schedule(conversation_id)
            return

    async def stop(self) -> None:
        tasks = [task for task in (self._recovery, *self._tasks.values()) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, conversation_id: str) -> None:
        try:
            while conversation_id in self._pending:
                self._pending.discard(conversation_id)
                for event in await self.services.db(
                    conversations.messages_awaiting_dialogue, conversation_id=conversation_id
                ):
                    await self._handle(conversation_id, event.id, event.payload)
        except Exception:
            # The message stays marked as awaiting the dialogue and is retried on
            # the next message or restart; no message text goes to the log.
            logger.exception("dialogue failed for conversation %s", conversation_id)
        finally:
            self._tasks.pop(conversation_id, None)

    async def _handle(self, conversation_id: str, event_id: int, payload: dict[str, Any]) -> None:
        channel = conversation_channel(conversation_id)
        status = await self.services.db(conversations.current_status, conversation_id=conversation_id)
        turn = BotTurn([], None, answered=False)
        if status == ConversationStatus.BOT.value:
            await self.services.notifier.publish(channel, {"typing": "bot"})
            turn = await self._ask_bot(conversation_id, payload.get("payload") or payload["text"])
        decision = turn.decision
        if decision is None:
            decision = await self.services.db(self._safety_net_decision, conversation_id=conversation_id)
        await self.services.db(
            record_turn,
            conversation_id=conversation_id,
            event_id=event_id,
            turn=turn,
            decision=decision,
            bot_expected=status == ConversationStatus.BOT.value,
            content=self.services.content,
        )
        await self.services.notifier.publish(channel)
        if decision.hands_off or status != ConversationStatus.BOT.value:
            # The helpline console shows this conversation: its queue or case changed.
            await self.services.notifier.publish(handoff.QUEUE_CHANNEL)

    async def _ask_bot(self, conversation_id: str, text: str) -> BotTurn:
        rasa = self.services.rasa
        try:
            turn = read_replies(await rasa.send_message(conversation_id, text))
            if not turn.answered:
                # Rasa answers nothing while a conversation is paused. The app says
                # the bot has it, so an earlier resume was lost: resume and ask again.
                await rasa.append_tracker_events(conversation_id, [{"event": "resume"}])
                turn = read_replies(await rasa.send_message(conversation_id, text))
            return turn
        except DialogueUnavailable as error:
            logger.warning("dialogue engine unavailable for conversation %s: %s", conversation_id, error)
            return BotTurn([], None, answered=False)

    def _safety_net_decision(self, *, conversation_id: str, session: Session) -> Decision:
        texts = conversations.user_texts(conversation_id, session=session)
        since = handoff.turns_covered_by_closed_cases(conversation_id, session=session)
        return self.safety_net.assess(texts, since=since)


def record_turn(
    *,
    conversation_id: str,
    event_id: int,
    turn: BotTurn,
    decision: Decision,
    bot_expected: bool,
    content,
    session: Session,
) -> None:
    """Store the bot's replies and act on the decision, in one transaction."""
    if decision.hands_off:
        handoff.escalate(
            conversation_id,
            decision,
            detected_by="dialogue" if turn.decision is not None else "safety_net",
            content=content,
            session=session,
        )
    elif bot_expected and not turn.answered:
        for text in content.messages("failsafe"):
            conversations.append_event(conversation_id, EventType.BOT_MESSAGE, {"text": text}, session=session)
    for message in turn.messages:
        conversations.append_event(conversation_id, EventType.BOT_MESSAGE, message, session=session)
    conversations.mark_handled(event_id, session=session)
