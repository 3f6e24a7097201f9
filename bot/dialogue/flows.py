"""What happens to a young person's message after it is stored.

The dialogue worker passes each stored message, in order, to Rasa; stores the
bot's replies as events; and acts on the risk decision that the actions attach
to every turn. When Rasa gives no decision (it is down, slow, the action server
is down, or a person already has the conversation), the app's safety net
decides, so that clear danger always reaches a person.

No message is dropped: a turn that fails is tried again a few times; then the
message is set aside (counted, no longer blocking the conversation) and the
young person gets the fail-safe reply, with a case when the safety net, or the
mere fact that nothing could read the message, calls for one. A sweeper picks
up messages left unanswered (a crash, the database away for a while).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.conversation import service as conversations
from bot.conversation.models import ConversationStatus, EventType
from bot.database import utcnow
from bot.dialogue.rasa import DialogueUnavailable
from bot.dialogue.safety_net import SafetyNet
from bot.handoff import flows as handoff
from bot.notify import conversation_channel
from bot.services import Services
from safeguarding.assessment import Decision
from safeguarding.vocabulary import Action, Level

logger = logging.getLogger(__name__)

# Between attempts at a failing turn: long enough for a locked SQLite database to free up.
RETRY_PAUSE_SECONDS = 0.5
# What a case says when nothing could read the message: a person must look.
UNREAD_MESSAGE = Decision(Action.HANDOFF, Level.HIGH, ("unread_message",))


def as_typed_text(text: str) -> str:
    """What Rasa must read as words. Rasa takes a message starting with "/" as an intent (e.g.
    "/restart"); only the payloads of buttons the bot offered may be that, so typed text loses its
    leading slashes. Slashes alone name no intent Rasa knows, so they stay as they are."""
    return text.lstrip().lstrip("/") or text


@dataclass(frozen=True)
class BotTurn:
    messages: list[dict[str, Any]]
    decision: Decision | None
    answered: bool
    # Rasa could not be reached or did not answer in time: its tracker lacks this message.
    missed: bool = False


NOT_ASKED = BotTurn([], None, answered=False)


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
        self._sweeper: asyncio.Task[None] | None = None

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
        self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        """At start-up every unanswered message, then periodically those left unanswered for
        longer than BOT_SWEEP_SECONDS: a crash, or the database away for a while, loses none."""
        stored_before = None
        while True:
            try:
                pending = await self.services.db(
                    conversations.conversations_awaiting_dialogue, stored_before=stored_before
                )
            except DBAPIError:
                logger.warning("database unavailable; the sweep for unanswered messages will retry")
            else:
                for conversation_id in pending:
                    self.schedule(conversation_id)
            await asyncio.sleep(self.services.settings.sweep_seconds)
            stored_before = utcnow() - timedelta(seconds=self.services.settings.sweep_seconds)

    async def stop(self) -> None:
        tasks = [task for task in (self._sweeper, *self._tasks.values()) if task]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _drain(self, conversation_id: str) -> None:
        try:
            while conversation_id in self._pending:
                self._pending.discard(conversation_id)
                for event in await self.services.read(
                    conversations.messages_awaiting_dialogue, conversation_id=conversation_id
                ):
                    await self._answer(conversation_id, event.id, event.payload, event.dialogue_failures)
        except Exception as error:
            # Only reached when not even the fail-safe reply could be stored (the database is
            # away): the message stays awaiting the dialogue and the sweeper tries again.
            # The error's type only: its text could quote the young person's words.
            logger.warning("dialogue paused for conversation %s: %s", conversation_id, type(error).__name__)
        finally:
            self._tasks.pop(conversation_id, None)

    async def _answer(self, conversation_id: str, event_id: int, payload: dict[str, Any], failures: int) -> None:
        """Handle one message, a bounded number of times; then set it aside with the fail-safe reply."""
        turn: BotTurn | None = None
        while failures < self.services.settings.dialogue_attempts:
            try:
                status = await self.services.read(conversations.current_status, conversation_id=conversation_id)
                if turn is None:
                    # Rasa hears the message once, however often storing its answer fails.
                    turn = (
                        await self._hear(conversation_id, payload)
                        if status == ConversationStatus.BOT.value
                        else NOT_ASKED
                    )
                await self._settle(conversation_id, event_id, status, turn)
                return
            except Exception as error:
                failures = await self.services.db(conversations.count_dialogue_failure, event_id=event_id)
                logger.warning(
                    "attempt %d at a message of conversation %s failed: %s",
                    failures,
                    conversation_id,
                    type(error).__name__,
                )
                await asyncio.sleep(RETRY_PAUSE_SECONDS * failures)
        await self._set_aside(conversation_id, event_id)

    async def _hear(self, conversation_id: str, payload: dict[str, Any]) -> BotTurn:
        await self.services.notifier.publish(conversation_channel(conversation_id), {"typing": "bot"})
        try:
            # One budget for every call to Rasa over this message, so the young person has the
            # safety net's decision and the fail-safe reply in time whatever Rasa does.
            return await asyncio.wait_for(
                self._ask_bot(conversation_id, payload.get("payload") or as_typed_text(payload["text"])),
                timeout=self.services.settings.rasa_timeout_seconds,
            )
        except (DialogueUnavailable, asyncio.TimeoutError) as error:
            logger.warning("dialogue engine unavailable for conversation %s: %s", conversation_id, type(error).__name__)
            return BotTurn([], None, answered=False, missed=True)

    async def _settle(self, conversation_id: str, event_id: int, status: str, turn: BotTurn) -> None:
        """Decide on the turn (the safety net when Rasa gave no decision) and store it."""
        decision = turn.decision
        if decision is None:
            decision = await self._safety_net_decision(conversation_id)
        recorded = await self.services.db(
            record_turn,
            conversation_id=conversation_id,
            event_id=event_id,
            turn=turn,
            decision=decision,
            detected_by="dialogue" if turn.decision is not None else "safety_net",
            bot_expected=status == ConversationStatus.BOT.value,
            content=self.services.content,
        )
        if recorded:
            in_bot = status == ConversationStatus.BOT.value
            await self._announce(conversation_id, decision.hands_off or not in_bot, decision.hands_off and in_bot)

    async def _set_aside(self, conversation_id: str, event_id: int) -> None:
        """The message failed every attempt: answer with the fail-safe reply, and open a case when the
        safety net calls for one, or when the safety net failed too (nobody has read the message)."""
        try:
            decision = await self._safety_net_decision(conversation_id)
            detected_by = "safety_net"
        except Exception as error:
            logger.warning("safety net failed for conversation %s: %s", conversation_id, type(error).__name__)
            decision, detected_by = UNREAD_MESSAGE, "failure"
        reply = partial(
            self.services.db,
            record_turn,
            conversation_id=conversation_id,
            event_id=event_id,
            turn=NOT_ASKED,
            detected_by=detected_by,
            bot_expected=True,
            content=self.services.content,
        )
        try:
            recorded = await reply(decision=decision)
        except DBAPIError:
            raise
        except Exception as error:
            # Opening the case is what fails: the young person still gets the fail-safe reply.
            logger.error("could not open a case for conversation %s: %s", conversation_id, type(error).__name__)
            decision = Decision()
            recorded = await reply(decision=decision)
        set_aside = await self.services.db(conversations.count_set_aside)
        logger.error("a message of conversation %s was set aside (%d set aside in all)", conversation_id, set_aside)
        if recorded:
            await self._announce(conversation_id, decision.hands_off, decision.hands_off)

    async def _announce(self, conversation_id: str, queue_changed: bool, case_opened: bool) -> None:
        await self.services.notifier.publish(conversation_channel(conversation_id))
        if queue_changed:
            # The helpline console shows this conversation: its queue or case changed.
            await self.services.notifier.publish(handoff.QUEUE_CHANNEL)
        if case_opened and await self.services.rate_limits.case_flood():
            # Fake reports may be flooding the queue: tell the workers; every case stays queued.
            logger.error("more new cases than BOT_LIMIT_NEW_CASES allows: alerting the console")
            await self.services.notifier.publish(handoff.QUEUE_CHANNEL, {"alert": handoff.CASE_FLOOD_ALERT})

    async def _ask_bot(self, conversation_id: str, text: str) -> BotTurn:
        rasa = self.services.rasa
        await self._backfill(conversation_id)
        turn = read_replies(await rasa.send_message(conversation_id, text))
        if not turn.answered:
            # Rasa answers nothing while a conversation is paused. The app says
            # the bot has it, so an earlier resume was lost: resume and ask again.
            await rasa.append_tracker_events(conversation_id, [{"event": "resume"}])
            turn = read_replies(await rasa.send_message(conversation_id, text))
        return turn

    async def _backfill(self, conversation_id: str) -> None:
        """Tell Rasa's tracker the messages it missed while it was down, as the NLU reads them,
        so the safety action reads a disclosure split across an outage whole."""
        missed = await self.services.read(conversations.messages_missed_by_rasa, conversation_id=conversation_id)
        if not missed:
            return
        events: list[dict[str, Any]] = []
        for _event_id, text in missed:
            parse_data = await self.services.rasa.parse(as_typed_text(text))
            events += [
                {"event": "user", "text": text, "parse_data": parse_data},
                {"event": "action", "name": "action_listen"},
            ]
        await self.services.rasa.append_tracker_events(conversation_id, events)
        await self.services.db(conversations.mark_heard_by_rasa, event_ids=[event_id for event_id, _ in missed])

    async def _safety_net_decision(self, conversation_id: str) -> Decision:
        texts, since = await self.services.read(_words_for_safety_net, conversation_id=conversation_id)
        # Outside any transaction: spaCy and the encoder take a while, and on SQLite a transaction
        # open meanwhile would hold every other message's writes.
        return await anyio.to_thread.run_sync(partial(self.safety_net.assess, texts, since=since))


def _words_for_safety_net(*, conversation_id: str, session: Session) -> tuple[list[str], int]:
    """The young person's messages, and how many of them closed cases already dealt with."""
    return (
        conversations.user_texts(conversation_id, session=session),
        handoff.turns_covered_by_closed_cases(conversation_id, session=session),
    )


def record_turn(
    *,
    conversation_id: str,
    event_id: int,
    turn: BotTurn,
    decision: Decision,
    detected_by: str,
    bot_expected: bool,
    content,
    session: Session,
) -> bool:
    """Store the bot's replies and act on the decision, in one transaction; False (and nothing
    stored) when the message was already handled."""
    if not conversations.mark_handled(event_id, session=session):
        return False
    if turn.missed:
        conversations.mark_missed_by_rasa(event_id, session=session)
    if decision.hands_off:
        handoff.escalate(conversation_id, decision, detected_by=detected_by, content=content, session=session)
    elif bot_expected and not turn.answered:
        for text in content.messages("failsafe"):
            conversations.append_event(conversation_id, EventType.BOT_MESSAGE, {"text": text}, session=session)
    for message in turn.messages:
        conversations.append_event(conversation_id, EventType.BOT_MESSAGE, message, session=session)
    return True
