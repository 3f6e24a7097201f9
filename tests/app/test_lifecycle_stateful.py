"""A Hypothesis state machine over the life of conversations and their cases, on a real database.

Hypothesis plays any sequence of: a conversation starts; the young person sends a message or
sends one again with the same client_message_id (a retry); the dialogue answers without Rasa
(the fail-safe path the app takes when Rasa is away), handing off or not, and answering the same
message twice stores nothing; a case opens; a worker claims, releases or closes it; the shift
lead reassigns it; the young person deletes the chat. Each step runs the flow the teen API, the
dialogue worker or the console runs, in a transaction of its own, and is checked against a model
of what should have happened. After every step, for every conversation: its events are numbered
1, 2, 3... without a gap, each client message is stored exactly once, at most one case is open,
and the conversation's status says who has it.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from bot.content import load_content
from bot.conversation import flows as conversation_flows
from bot.conversation import service as conversations
from bot.conversation.models import Conversation, ConversationStatus, Event, EventType
from bot.database import session_factory, session_scope
from bot.dialogue.flows import BotTurn, record_turn
from bot.errors import ApiError
from bot.handoff import flows as handoff
from bot.handoff.models import Case, CaseStatus
from bot.privacy import flows as privacy_flows
from bot.settings import Settings
from bot.staff import service as staff
from bot.staff.models import Role
from safeguarding.assessment import Decision
from safeguarding.vocabulary import Action, Level

CONTENT = load_content(Settings().content_dir)
WORKERS = ("asha", "ben", "cy")
# Releasing or closing: often by whoever holds the case, so the case's later life is reached too.
BY_ANYONE_OR_THE_HOLDER = st.sampled_from([*WORKERS, "the holder"])
COERCION = Decision(Action.HANDOFF, Level.HIGH, ("coercion",))
# What the dialogue worker has when Rasa could not be reached: no replies, no decision of its own.
RASA_AWAY = BotTurn([], None, answered=False, missed=True)
# A few ids per conversation, so retries of the same client_message_id come often.
CLIENT_MESSAGE_IDS = st.sampled_from(["m1", "m2", "m3", "m4"])
# Any words a young person can type, in any script, emoji and control characters included.
TEXTS = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40).filter(str.strip)
STATUS_OF_CASE = {
    None: ConversationStatus.BOT.value,
    CaseStatus.QUEUED.value: ConversationStatus.WAITING_FOR_HUMAN.value,
    CaseStatus.CLAIMED.value: ConversationStatus.WITH_HUMAN.value,
}


@dataclass
class OpenCase:
    id: int
    status: str = CaseStatus.QUEUED.value
    holder: int | None = None


@dataclass
class Expected:
    """What the model says one conversation should hold."""

    token: str
    deleted: bool = False
    # client_message_id -> the seq it was stored with
    sent: dict[str, int] = field(default_factory=dict)
    case: OpenCase | None = None


class Lifecycle(RuleBasedStateMachine):
    conversations = Bundle("conversations")
    # Conversations handed to a person at least once: the case rules draw from these.
    handed_over = Bundle("handed_over")

    def __init__(self, database_url: str, people: dict[str, int], tracker_url: str) -> None:
        super().__init__()
        self.sessions = session_factory(database_url)
        self.people = people
        self.tracker_url = tracker_url
        self.expected: dict[str, Expected] = {}

    def run(self, work, **kwargs):
        """One flow in one transaction, as the app runs it (Services.db)."""
        with session_scope(self.sessions) as session:
            return work(session=session, **kwargs)

    @rule(target=conversations)
    def start(self) -> str:
        conversation_id, token = self.run(conversation_flows.start, content=CONTENT)
        self.expected[conversation_id] = Expected(token)
        return conversation_id

    @rule(conversation=conversations, client_message_id=CLIENT_MESSAGE_IDS, text=TEXTS)
    def send(self, conversation: str, client_message_id: str, text: str) -> None:
        expected = self.expected[conversation]
        try:
            seq, created = self.run(
                conversation_flows.receive_message,
                conversation_id=conversation,
                token=expected.token,
                client_message_id=client_message_id,
                text=text,
                payload=None,
                content=CONTENT,
            )
        except ApiError as refused:
            assert expected.deleted and refused.status == 404
            return
        assert not expected.deleted
        if client_message_id in expected.sent:
            assert (seq, created) == (expected.sent[client_message_id], False), "a retry is the original message"
        else:
            assert created
            expected.sent[client_message_id] = seq

    @rule(conversation=conversations, hands_off=st.booleans())
    def answer_without_rasa(self, conversation: str, hands_off: bool) -> None:
        """The dialogue worker's turn when Rasa is away: the safety net's decision and the fail-safe reply."""
        decision = COERCION if hands_off else Decision()
        for message in self.run(conversations.messages_awaiting_dialogue, conversation_id=conversation):
            status = self.run(conversations.current_status, conversation_id=conversation)
            answer = dict(
                conversation_id=conversation,
                event_id=message.id,
                turn=RASA_AWAY,
                decision=decision,
                detected_by="safety_net",
                bot_expected=status == ConversationStatus.BOT.value,
                content=CONTENT,
            )
            assert self.run(record_turn, **answer)
            assert not self.run(record_turn, **answer), "a message is answered once"
            if hands_off:
                self._opened_if_none_open(conversation)
        assert not self.run(conversations.messages_awaiting_dialogue, conversation_id=conversation)

    @rule(target=handed_over, conversation=conversations)
    def escalate(self, conversation: str):
        """The dialogue hands the conversation to a person (the young person asked, or coercion)."""
        if self.expected[conversation].deleted:
            return multiple()
        self.run(
            handoff.escalate, conversation_id=conversation, decision=COERCION, detected_by="dialogue", content=CONTENT
        )
        self._opened_if_none_open(conversation)
        return conversation

    def _opened_if_none_open(self, conversation: str) -> None:
        expected = self.expected[conversation]
        if expected.case is None:
            opened = self.run(lambda session: handoff.service.open_case_for(conversation, session=session))
            assert opened is not None
            expected.case = OpenCase(opened.id)

    @rule(conversation=handed_over, worker=st.sampled_from(WORKERS))
    def claim(self, conversation: str, worker: str) -> None:
        case = self.expected[conversation].case
        if case is None:
            return
        available = case.status == CaseStatus.QUEUED.value
        with pytest.raises(handoff.CaseNotAvailable) if not available else nullcontext():
            self.run(handoff.claim, case_id=case.id, user_id=self.people[worker], content=CONTENT)
        if available:
            case.status, case.holder = CaseStatus.CLAIMED.value, self.people[worker]

    @rule(conversation=handed_over, worker=st.sampled_from(WORKERS))
    def reassign(self, conversation: str, worker: str) -> None:
        """The shift lead gives the open case to a worker, queued or held by another."""
        case = self.expected[conversation].case
        if case is None:
            return
        self.run(
            handoff.reassign,
            case_id=case.id,
            to_user_id=self.people[worker],
            by_user_id=self.people["lead"],
            content=CONTENT,
        )
        case.status, case.holder = CaseStatus.CLAIMED.value, self.people[worker]

    def _user(self, worker: str, case: OpenCase) -> int:
        return (case.holder or self.people[WORKERS[0]]) if worker == "the holder" else self.people[worker]

    @rule(conversation=handed_over, worker=BY_ANYONE_OR_THE_HOLDER)
    def release(self, conversation: str, worker: str) -> None:
        case = self.expected[conversation].case
        if case is None:
            return
        user = self._user(worker, case)
        holds = case.holder == user
        with pytest.raises(handoff.CaseNotAvailable) if not holds else nullcontext():
            self.run(handoff.release, case_id=case.id, user_id=user, content=CONTENT)
        if holds:
            case.status, case.holder = CaseStatus.QUEUED.value, None

    @rule(conversation=handed_over, worker=BY_ANYONE_OR_THE_HOLDER)
    def close(self, conversation: str, worker: str) -> None:
        expected = self.expected[conversation]
        if expected.case is None:
            return
        user = self._user(worker, expected.case)
        holds = expected.case.holder == user
        with pytest.raises(handoff.CaseNotAvailable) if not holds else nullcontext():
            self.run(
                handoff.close,
                case_id=expected.case.id,
                user_id=user,
                outcome="advice_given",
                note=None,
                content=CONTENT,
            )
        if holds:
            expected.case = None

    @rule(conversation=conversations)
    def delete(self, conversation: str) -> None:
        """The young person deletes the chat: kept while a case is open (the refusal is returned, so
        the come-back code's cancelling commits), gone for good otherwise."""
        expected = self.expected[conversation]
        try:
            refused = self.run(
                privacy_flows.delete_chat,
                conversation_id=conversation,
                token=expected.token,
                content=CONTENT,
                tracker_url=self.tracker_url,
            )
        except ApiError as gone:
            assert expected.deleted and (gone.status, gone.code) == (404, "not_found")
            return
        assert not expected.deleted
        if expected.case is not None:
            assert refused is not None and (refused.status, refused.code) == (409, "chat_in_case")
            return
        assert refused is None
        expected.deleted = True

    @invariant()
    def events_are_numbered_without_gaps(self) -> None:
        with self.sessions() as session:
            seqs: dict[str, list[int]] = {}
            for conversation_id, seq in session.execute(
                select(Event.conversation_id, Event.seq)
                .where(Event.conversation_id.in_(self.expected))
                .order_by(Event.conversation_id, Event.id)
            ):
                seqs.setdefault(conversation_id, []).append(seq)
            last = dict(
                session.execute(
                    select(Conversation.id, Conversation.last_seq).where(Conversation.id.in_(self.expected))
                ).all()
            )
        for conversation_id, expected in self.expected.items():
            if expected.deleted:
                assert conversation_id not in last and conversation_id not in seqs
                continue
            numbers = seqs.get(conversation_id, [])
            assert numbers == list(range(1, len(numbers) + 1)), "stored in order, without gaps"
            assert last[conversation_id] == len(numbers)

    @invariant()
    def each_client_message_is_stored_once(self) -> None:
        with self.sessions() as session:
            stored: dict[str, dict[str, list[int]]] = {}
            for conversation_id, client_message_id, seq in session.execute(
                select(Event.conversation_id, Event.client_message_id, Event.seq).where(
                    Event.conversation_id.in_(self.expected), Event.type == EventType.USER_MESSAGE.value
                )
            ):
                stored.setdefault(conversation_id, {}).setdefault(client_message_id, []).append(seq)
        for conversation_id, expected in self.expected.items():
            found = stored.get(conversation_id, {})
            assert found == {cid: [seq] for cid, seq in ({} if expected.deleted else expected.sent).items()}

    @invariant()
    def at_most_one_case_is_open_and_the_status_says_who_has_it(self) -> None:
        with self.sessions() as session:
            open_cases = dict(
                session.execute(
                    select(Case.conversation_id, func.count())
                    .where(Case.conversation_id.in_(self.expected), Case.status != CaseStatus.CLOSED.value)
                    .group_by(Case.conversation_id)
                ).all()
            )
            statuses = dict(
                session.execute(
                    select(Conversation.id, Conversation.status).where(Conversation.id.in_(self.expected))
                ).all()
            )
            cases = {case.id: case for case in session.scalars(select(Case).where(Case.status != "closed"))}
        for conversation_id, expected in self.expected.items():
            assert open_cases.get(conversation_id, 0) <= 1
            if expected.deleted:
                continue
            case = expected.case
            assert open_cases.get(conversation_id, 0) == (case is not None)
            assert statuses[conversation_id] == STATUS_OF_CASE[case and case.status]
            if case is not None:
                held = cases[case.id]
                assert (held.status, held.claimed_by_id) == (case.status, case.holder)


@pytest.fixture
def people(database_url: str) -> dict[str, int]:
    with session_scope(session_factory(database_url)) as session:
        accounts = {name: staff.create_user(name, Role.STAFF, session=session)[0] for name in WORKERS}
        accounts["lead"] = staff.create_user("lead", Role.ADMIN, session=session)[0]
        return {name: user.id for name, user in accounts.items()}


def test_the_lifecycle_of_conversations_and_cases_keeps_its_invariants(database_url, people, tmp_path) -> None:
    tracker_url = f"sqlite:///{tmp_path / 'no-rasa-tracker.sqlite3'}"
    run_state_machine_as_test(
        lambda: Lifecycle(database_url, people, tracker_url),
        settings=settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def hand_off(sessions, conversation_id: str, together: threading.Barrier) -> None:
    with session_scope(sessions) as session:
        together.wait()
        handoff.escalate(conversation_id, COERCION, detected_by="dialogue", content=CONTENT, session=session)


def test_two_handoffs_of_one_conversation_at_once_open_one_case(database_url: str) -> None:
    """The machine above runs one step at a time. At scale, two app instances can hand the same
    conversation to a person at once (one answering a message, another's sweeper the next): on
    PostgreSQL both used to find no open case and open one each, so two workers could take the same
    young person apart."""
    sessions = session_factory(database_url)
    for _ in range(5):
        with session_scope(sessions) as session:
            conversation_id, _token = conversation_flows.start(content=CONTENT, session=session)
        together = threading.Barrier(2)
        threads = [threading.Thread(target=hand_off, args=(sessions, conversation_id, together)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with sessions() as session:
            cases = session.scalars(select(Case.status).where(Case.conversation_id == conversation_id)).all()
            status = conversations.current_status(conversation_id, session=session)
        assert cases == [CaseStatus.QUEUED.value]
        assert status == ConversationStatus.WAITING_FOR_HUMAN.value
