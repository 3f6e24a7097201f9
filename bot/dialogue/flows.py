"""What happens to a young person's message after it is stored.

The dialogue worker passes each stored message, in order, to Rasa; stores the
bot's replies as events; and acts on the risk decision that the actions attach
to every turn. The app's safety net reads each message meanwhile and opens a
case at once on clear danger, without waiting for Rasa; when Rasa gives no
decision (it is down, slow, the action server is down, or a person already has
the conversation), the safety net's decision is the turn's, so that clear danger
always reaches a person.

No message is dropped: a turn that fails is tried again a few times; then the
message is set aside (counted, no longer blocking the conversation) and the
young person gets the fail-safe reply, with a case when the safety net, or the
mere fact that nothing could read the message, calls for one. A sweeper picks
up messages left unanswered (a crash, the database away for a while).

Several app instances may share the database: each answers a conversation only
while it holds the conversation's claim (a lease, see bot/conversation/models.py),
so every message is answered once whichever instance stored it, and one that
crashes leaves its conversations to the others when its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

import anyio.to_thread
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.conversation import service as conversations
from bot.conversation.models import ConversationStatus, Event, EventType
from bot.database import utcnow
from bot.dialogue.rasa import MESSAGE_SEQ, DialogueUnavailable, RasaClient
from bot.dialogue.safety_net import SafetyNet
from bot.handoff import flows as handoff
from bot.notify import conversation_channel
from bot.services import Services
from bot.settings import Settings
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


def text_for_rasa(message: Event) -> str:
    """A button's payload, or the words typed."""
    return message.payload.get("payload") or as_typed_text(message.payload["text"])


@dataclass(frozen=True)
class BotTurn:
    messages: list[dict[str, Any]]
    decision: Decision | None
    answered: bool
    # Rasa could not be reached or did not answer in time: its tracker lacks this message.
    missed: bool = False
    # What the app's own safety net decided on the same conversation (bot.dialogue.safety_net).
    safety_net_decision: Decision | None = None


@dataclass(frozen=True)
class RecordedTurn:
    case_opened: bool


@dataclass(frozen=True)
class TurnContext:
    """What an attempt at a message reads before it asks anyone, in one read transaction (turn_context)."""

    status: str
    # (event id, seq, text) of the messages Rasa's tracker has not been told yet (messages_missed_by_rasa).
    missed: list[tuple[int, int, str]]
    # The young person's messages so far, and how many of them closed cases already dealt with.
    texts: list[str]
    since: int


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


def turn_decision(turn: BotTurn) -> Decision | None:
    """Rasa's decision, unless only the safety net hands over: either of them can open a case."""
    net = turn.safety_net_decision
    if turn.decision is None or (net is not None and net.hands_off and not turn.decision.hands_off):
        return net
    return turn.decision


def seqs_heard(tracker_events: list[dict[str, Any]]) -> set[int]:
    """The app's seqs of the messages in Rasa's tracker."""
    return {
        event["metadata"][MESSAGE_SEQ]
        for event in tracker_events
        if event.get("event") == "user" and isinstance(event.get("metadata"), dict) and MESSAGE_SEQ in event["metadata"]
    }


def replies_in_tracker(tracker_events: list[dict[str, Any]], seq: int) -> list[dict[str, Any]] | None:
    """The bot's replies that Rasa stored for the message with this seq, in the shape of its REST
    replies; None when Rasa never heard that message."""
    for index, event in enumerate(tracker_events):
        if event.get("event") == "user" and (event.get("metadata") or {}).get(MESSAGE_SEQ) == seq:
            replies = []
            for later in tracker_events[index + 1 :]:
                if later.get("event") == "user":
                    break
                if later.get("event") == "bot":
                    replies.append({**(later.get("data") or {}), "text": later.get("text")})
            return replies
    return None


def claim_duration(settings: Settings) -> timedelta:
    """How long a claim on a conversation lasts; renewed before each message. Twice the longest one message
    can take (every attempt spending the whole Rasa budget, with the pauses between), so a live
    instance never loses a claim it is using, and a crashed one's conversations wait no longer than needed."""
    attempts = settings.dialogue_attempts
    longest = attempts * settings.rasa_timeout_seconds + RETRY_PAUSE_SECONDS * attempts * (attempts + 1) / 2
    return timedelta(seconds=2 * longest)


class DialogueWorker:
    """The dialogue bridge (bot.services.Dialogue): handles each conversation's stored messages one at
    a time, in order, and is the only part of the app that talks to Rasa."""

    def __init__(self, services: Services, rasa: RasaClient, safety_net: SafetyNet) -> None:
        self.services = services
        self.rasa = rasa
        self.safety_net = safety_net
        # Names this instance in its claims: unique even for two processes of one host and pid (containers).
        self.worker = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
        self.claim_duration = claim_duration(services.settings)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._pending: set[str] = set()
        self._sweeper: asyncio.Task[None] | None = None
        # A message stored before this moment was acknowledged by an app process that may have
        # asked Rasa about it before it stopped.
        self._started_at = utcnow()

    def schedule(self, conversation_id: str) -> None:
        self._pending.add(conversation_id)
        if conversation_id not in self._tasks:
            self._tasks[conversation_id] = asyncio.create_task(self._drain(conversation_id))

    async def remember_nation(self, conversation_id: str, nation: str) -> None:
        """Tell Rasa the nation the embedding site serves, before the conversation's id is returned (told in
        the background, it could land after the first message). Best effort: it only picks a text variant."""
        try:
            await self.rasa.start_session(conversation_id, {"nation": nation})
        except DialogueUnavailable:
            logger.warning("could not pass the nation of conversation %s to Rasa", conversation_id)

    async def hand_back(self, conversation_id: str) -> None:
        """A worker closed the conversation's case: Rasa, paused when it handed over, answers again.
        Best effort: if Rasa cannot be told now, _ask_bot resumes the conversation on its next message."""
        try:
            await self.rasa.resume(conversation_id)
        except DialogueUnavailable:
            logger.warning("could not resume conversation %s in Rasa yet", conversation_id)

    async def readiness(self) -> dict[str, bool]:
        return {
            "rasa_model_loaded": await self.rasa.model_loaded(),
            "action_server": await self.rasa.actions_healthy(),
            "risk_model": self.safety_net.has_risk_model,
        }

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        """At start-up every unanswered message, then periodically those left unanswered for
        longer than BOT_SWEEP_SECONDS: a crash, or the database away for a while, loses none."""
        stored_before = None
        while True:
            try:
                pending = await self.services.db(
                    conversations.conversations_awaiting_dialogue, worker=self.worker, stored_before=stored_before
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
        try:
            await self.services.db(conversations.release_all_dialogue_claims, worker=self.worker)
        except DBAPIError:
            logger.warning("database unavailable; this instance's claims will run out by themselves")
        await self.rasa.close()

    async def _claim(self, conversation_id: str) -> bool:
        return await self.services.db(
            conversations.claim_dialogue,
            conversation_id=conversation_id,
            worker=self.worker,
            until=utcnow() + self.claim_duration,
        )

    async def _claim_awaiting(self, conversation_id: str) -> Sequence[Event] | None:
        """Claim the conversation and read its messages awaiting the dialogue, in one transaction."""
        return await self.services.db(
            conversations.claim_awaiting_dialogue,
            conversation_id=conversation_id,
            worker=self.worker,
            until=utcnow() + self.claim_duration,
        )

    async def _drain(self, conversation_id: str) -> None:
        try:
            while conversation_id in self._pending:
                self._pending.discard(conversation_id)
                awaiting = await self._claim_awaiting(conversation_id)
                if awaiting is None:
                    # Another instance answers this conversation; after giving its claim up it
                    # looks for messages stored meanwhile, this one's included.
                    continue
                released = False
                for number, event in enumerate(awaiting):
                    # Renewed before each message after the first, which the claim just taken covers.
                    if number and not await self._claim(conversation_id):
                        break
                    # The last message's record gives the claim up in its own transaction (one write
                    # fewer per message); had storing it failed, the claim would be kept with it.
                    released = number == len(awaiting) - 1
                    await self._answer(conversation_id, event, release_claim=released)
                if not released:
                    await self.services.db(
                        conversations.release_dialogue_claim, conversation_id=conversation_id, worker=self.worker
                    )
                # Read after the release is committed: a message another instance stored while this
                # one held the claim (that instance could not claim the conversation and left it)
                # is seen here. A read in the release's own statement could miss it on PostgreSQL.
                # A read transaction: on SQLite, where one instance serves, it need not wait for the
                # write lock (a message this instance stores meanwhile schedules the conversation again).
                if await self.services.read(
                    conversations.has_messages_awaiting_dialogue, conversation_id=conversation_id
                ):
                    self._pending.add(conversation_id)
        except Exception as error:
            # Only reached when not even the fail-safe reply could be stored (the database is
            # away): the message stays awaiting the dialogue and the sweeper tries again.
            # The error's type only: its text could quote the young person's words.
            logger.warning("dialogue paused for conversation %s: %s", conversation_id, type(error).__name__)
        finally:
            self._tasks.pop(conversation_id, None)

    async def _answer(self, conversation_id: str, message: Event, release_claim: bool = False) -> None:
        """Handle one message, a bounded number of times; then set it aside with the fail-safe reply.
        With release_claim, the transaction that stores its answer gives up the claim on the conversation."""
        event_id, failures = message.id, message.dialogue_failures
        # Rasa may already have heard a message left unanswered by an earlier attempt (the app
        # killed, or the database away, after Rasa answered): its tracker says, and it is not told twice.
        left_before = utcnow() - timedelta(seconds=self.services.settings.sweep_seconds)
        may_have_been_heard = message.at < self._started_at or message.at < left_before
        turn: BotTurn | None = None
        while failures < self.services.settings.dialogue_attempts:
            try:
                # The status, what Rasa missed and the safety net's words, read at once.
                context = await self.services.read(turn_context, conversation_id=conversation_id)
                if turn is None:
                    # Rasa hears the message once, however often storing its answer fails.
                    turn = (
                        await self._hear(conversation_id, message, may_have_been_heard, context)
                        if context.status == ConversationStatus.BOT.value
                        else NOT_ASKED
                    )
                await self._settle(conversation_id, event_id, context, turn, release_claim)
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
        await self._set_aside(conversation_id, event_id, release_claim)

    async def _hear(
        self, conversation_id: str, message: Event, may_have_been_heard: bool, context: TurnContext
    ) -> BotTurn:
        await self.services.notifier.publish(conversation_channel(conversation_id), {"typing": "bot"})
        # The safety net reads the message while Rasa does: clear danger reaches the helpline's queue
        # at once, however long the dialogue takes (busy, slow or down); Rasa's decision, when it
        # comes, adds to the same case.
        # Encoded before either starts, so neither encodes it again, nor do Rasa and its action server.
        meaning = await self._meaning(message)
        early = asyncio.create_task(self._hand_over_early(conversation_id, context))
        try:
            # One budget for every call to Rasa over this message, so the young person has the
            # safety net's decision and the fail-safe reply in time whatever Rasa does.
            turn = await asyncio.wait_for(
                self._ask_bot(conversation_id, message, may_have_been_heard, meaning, context.missed),
                timeout=self.services.settings.rasa_timeout_seconds,
            )
        except (DialogueUnavailable, asyncio.TimeoutError) as error:
            logger.warning("dialogue engine unavailable for conversation %s: %s", conversation_id, type(error).__name__)
            turn = BotTurn([], None, answered=False, missed=True)
        return replace(turn, safety_net_decision=await early)

    async def _hand_over_early(self, conversation_id: str, context: TurnContext) -> Decision | None:
        """The safety net's decision on the conversation so far, with a case opened at once when it
        hands over. None when the safety net failed: the turn is then settled without it."""
        try:
            decision = await self._assess(context.texts, context.since)
        except Exception as error:
            logger.warning("early safety check failed for conversation %s: %s", conversation_id, type(error).__name__)
            return None
        if decision.hands_off:
            try:
                opened = await self.services.db(
                    handoff.escalate,
                    conversation_id=conversation_id,
                    decision=decision,
                    detected_by="safety_net",
                    content=self.services.content,
                )
                await self._announce(conversation_id, queue_changed=True, case_opened=opened)
            except Exception as error:
                # The turn's record opens the case instead (_settle), with the rest of the turn.
                logger.warning("early handoff failed for conversation %s: %s", conversation_id, type(error).__name__)
        return decision

    async def _settle(
        self, conversation_id: str, event_id: int, context: TurnContext, turn: BotTurn, release_claim: bool
    ) -> None:
        """Decide on the turn (the safety net when Rasa gave no decision) and store it."""
        status = context.status
        decision = turn_decision(turn)
        if decision is None:
            decision = await self._assess(context.texts, context.since)
        recorded = await self.services.db(
            record_turn,
            conversation_id=conversation_id,
            event_id=event_id,
            turn=turn,
            decision=decision,
            detected_by="dialogue" if decision is turn.decision else "safety_net",
            bot_expected=status == ConversationStatus.BOT.value,
            content=self.services.content,
            release_claim_of=self.worker if release_claim else None,
        )
        if recorded:
            in_bot = status == ConversationStatus.BOT.value
            await self._announce(conversation_id, decision.hands_off or not in_bot, recorded.case_opened)

    async def _set_aside(self, conversation_id: str, event_id: int, release_claim: bool = False) -> None:
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
            release_claim_of=self.worker if release_claim else None,
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
            await self._announce(conversation_id, decision.hands_off, recorded.case_opened)

    async def _announce(self, conversation_id: str, queue_changed: bool, case_opened: bool) -> None:
        await self.services.notifier.publish(conversation_channel(conversation_id))
        if queue_changed:
            # The helpline console shows this conversation: its queue or case changed.
            await self.services.notifier.publish(handoff.QUEUE_CHANNEL)
        if case_opened and await self.services.rate_limits.case_flood():
            # Fake reports may be flooding the queue: tell the workers; every case stays queued.
            logger.error("more new cases than BOT_LIMIT_NEW_CASES allows: alerting the console")
            await self.services.notifier.publish(handoff.QUEUE_CHANNEL, {"alert": handoff.CASE_FLOOD_ALERT})

    async def _meaning(self, message: Event) -> dict[str, str] | None:
        """The meaning of the words Rasa will read (SafetyNet.meaning). None for a button's payload, which
        Rasa reads no words in, or when it cannot be worked out: Rasa then encodes the text itself."""
        if message.payload.get("payload"):
            return None
        try:
            return await anyio.to_thread.run_sync(self.safety_net.meaning, text_for_rasa(message))
        except Exception as error:
            logger.warning("could not encode a message for Rasa: %s", type(error).__name__)
            return None

    async def _ask_bot(
        self,
        conversation_id: str,
        message: Event,
        may_have_been_heard: bool,
        meaning: dict[str, str] | None,
        missed: list[tuple[int, int, str]],
    ) -> BotTurn:
        # Only when Rasa may have heard a message the app gave up on: reading the tracker costs a call.
        tracker = await self.rasa.tracker_events(conversation_id) if missed or may_have_been_heard else []
        await self._backfill(conversation_id, missed, seqs_heard(tracker))
        earlier_replies = replies_in_tracker(tracker, message.seq)
        if earlier_replies is not None:
            return read_replies(earlier_replies)
        text = text_for_rasa(message)
        turn = read_replies(await self.rasa.send_message(conversation_id, text, message.seq, meaning))
        if not turn.answered:
            # Rasa answers nothing while a conversation is paused. The app says
            # the bot has it, so an earlier hand_back was lost: resume and ask again.
            await self.rasa.resume(conversation_id)
            turn = read_replies(await self.rasa.send_message(conversation_id, text, message.seq, meaning))
        return turn

    async def _backfill(self, conversation_id: str, missed: list[tuple[int, int, str]], heard: set[int]) -> None:
        """Tell Rasa's tracker the messages it missed while it was down, as the NLU reads them,
        so the safety action reads a disclosure split across an outage whole. A message Rasa heard
        after all (it finished a turn the app had given up on) is not told again."""
        if not missed:
            return
        untold = [(seq, text) for _event_id, seq, text in missed if seq not in heard]
        if untold:
            told = [(seq, text, await self.rasa.parse(conversation_id, as_typed_text(text))) for seq, text in untold]
            await self.rasa.tell_heard(conversation_id, told)
        await self.services.db(conversations.mark_heard_by_rasa, event_ids=[event_id for event_id, _, _ in missed])

    async def _safety_net_decision(self, conversation_id: str) -> Decision:
        texts, since = await self.services.read(_words_for_safety_net, conversation_id=conversation_id)
        return await self._assess(texts, since)

    async def _assess(self, texts: list[str], since: int) -> Decision:
        # Outside any transaction: spaCy and the encoder take a while, and on SQLite a transaction
        # open meanwhile would hold every other message's writes.
        return await anyio.to_thread.run_sync(partial(self.safety_net.assess, texts, since=since))


def _words_for_safety_net(*, conversation_id: str, session: Session) -> tuple[list[str], int]:
    """The young person's messages, and how many of them closed cases already dealt with."""
    return (
        conversations.user_texts(conversation_id, session=session),
        handoff.turns_covered_by_closed_cases(conversation_id, session=session),
    )


def turn_context(*, conversation_id: str, session: Session) -> TurnContext:
    """Everything an attempt at a message reads before asking Rasa or the safety net, in one transaction:
    one read instead of three (status, messages Rasa missed, the safety net's words)."""
    texts, since = _words_for_safety_net(conversation_id=conversation_id, session=session)
    return TurnContext(
        status=conversations.current_status(conversation_id, session=session),
        missed=conversations.messages_missed_by_rasa(conversation_id, session=session),
        texts=texts,
        since=since,
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
    release_claim_of: str | None = None,
) -> RecordedTurn | None:
    """Store the bot's replies and act on the decision, in one transaction; None (and nothing
    stored) when the message was already handled. With release_claim_of, that worker's claim on the
    conversation is given up in the same transaction, whether or not anything is stored."""
    recorded = None
    if conversations.mark_handled(event_id, session=session):
        if turn.missed:
            conversations.mark_missed_by_rasa(event_id, session=session)
        case_opened = decision.hands_off and handoff.escalate(
            conversation_id, decision, detected_by=detected_by, content=content, session=session
        )
        replies = [(EventType.BOT_MESSAGE, message) for message in turn.messages]
        if bot_expected and turn.decision is None and not decision.hands_off:
            # The dialogue did not check this turn for danger: Rasa did not answer, or answered without
            # its safety action (the action server down). Whatever the bot managed to say, the young
            # person gets the numbers.
            replies += [(EventType.BOT_MESSAGE, {"text": text}) for text in content.messages("failsafe")]
        conversations.append_events(conversation_id, replies, session=session)
        recorded = RecordedTurn(case_opened)
    if release_claim_of is not None:
        conversations.release_dialogue_claim(conversation_id, worker=release_claim_of, session=session)
    return recorded
