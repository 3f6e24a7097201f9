"""What is kept and for how long, and deleting a conversation everywhere it is stored.

A conversation lives in two databases: the app's (its events, cases) and Rasa's SQL
tracker store (table ``events``, one row per Rasa event, keyed by ``sender_id``, which
is the conversation id). Deleting it, at the young person's request or when
``BOT_RETENTION_DAYS`` have passed, deletes it from both. Its cases stay, without
any words, as outcomes for statistics until ``BOT_OUTCOME_RETENTION_DAYS`` have passed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot import tracker_store
from bot.audit import service as audit
from bot.audit.models import AuditAction
from bot.conversation import service as conversations
from bot.database import utcnow
from bot.handoff import service as cases
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.services import Services

logger = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600
# A message Rasa was still answering when its conversation was deleted is saved after the
# deletion; the purge sweeps such leftovers once they are this old.
LEFTOVER_AFTER_SECONDS = 3600


def forget_leftovers_in_tracker_store(*, tracker_url: str, session: Session) -> int:
    """Delete tracker-store conversations the app no longer has (see LEFTOVER_AFTER_SECONDS)."""
    senders = tracker_store.senders_before(utcnow().timestamp() - LEFTOVER_AFTER_SECONDS, tracker_url=tracker_url)
    leftovers = sorted(set(senders) - conversations.existing(senders, session=session))
    if leftovers:
        tracker_store.forget(leftovers, tracker_url=tracker_url)
    return len(leftovers)


def delete_conversations(conversation_ids: Sequence[str], *, by: str, tracker_url: str, session: Session) -> None:
    """Delete conversations from the app and from Rasa, keeping their cases' outcomes without words.

    The tracker store is emptied last, once the app's rows are gone in this transaction:
    if it fails, the whole deletion rolls back and can be tried again.
    """
    if not conversation_ids:
        return
    cases.keep_outcomes_only(conversation_ids, session=session)
    conversations.delete_all(conversation_ids, session=session)
    for conversation_id in conversation_ids:
        audit.record(
            AuditAction.CONVERSATION_DELETED, conversation_id=conversation_id, detail={"by": by}, session=session
        )
    session.flush()
    tracker_store.forget(conversation_ids, tracker_url=tracker_url)


@dataclass(frozen=True)
class Purged:
    conversations: int
    outcomes: int
    tracker_leftovers: int


def purge(*, settings: Settings, session: Session) -> Purged:
    """Delete conversations idle past BOT_RETENTION_DAYS (unless a case is open) and
    kept outcomes closed before BOT_OUTCOME_RETENTION_DAYS."""
    now = utcnow()
    idle = cases.idle_conversations_without_open_case(
        now - timedelta(days=settings.transcript_retention_days), session=session
    )
    delete_conversations(idle, by="retention", tracker_url=settings.rasa_tracker_url, session=session)
    outcomes = cases.delete_outcomes_closed_before(
        now - timedelta(days=settings.outcome_retention_days), session=session
    )
    leftovers = forget_leftovers_in_tracker_store(tracker_url=settings.rasa_tracker_url, session=session)
    return Purged(conversations=len(idle), outcomes=outcomes, tracker_leftovers=leftovers)


async def purge_periodically(services: Services) -> None:
    while True:
        try:
            purged = await services.db(purge, settings=services.settings)
            if purged.conversations or purged.outcomes or purged.tracker_leftovers:
                logger.info(
                    "retention: deleted %d idle conversations, %d expired outcomes, %d tracker-store leftovers",
                    purged.conversations,
                    purged.outcomes,
                    purged.tracker_leftovers,
                )
        except DBAPIError:
            logger.warning("retention: a database is unavailable, will retry")
        await asyncio.sleep(PURGE_EVERY_SECONDS)
