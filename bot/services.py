"""What a running app holds: settings, the database, notifications, the dialogue bridge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Protocol, TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import HTTPConnection

from bot.content import Content
from bot.database import READ_ONLY, session_scope
from bot.notify import Notifier
from bot.rate_limits import RateLimits
from bot.settings import Settings

T = TypeVar("T")


class Dialogue(Protocol):
    """The dialogue bridge (bot/dialogue/flows.py), the only part of the app that talks to Rasa.

    Declared here, not imported from bot.dialogue, so that the packages it serves (the teen API,
    the helpline console) need not import the package that itself opens their cases."""

    def schedule(self, conversation_id: str) -> None:
        """Pass the conversation's stored messages to the dialogue, in order, in the background."""

    async def remember_nation(self, conversation_id: str, nation: str) -> None:
        """Tell the dialogue the nation whose law it explains."""

    async def hand_back(self, conversation_id: str) -> None:
        """A helpline worker has finished: the bot answers the conversation again."""

    async def readiness(self) -> dict[str, bool]:
        """Whether Rasa has a model, the action server answers and the safety net has its risk model."""


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    notifier: Notifier
    # What young people read (content/app.yml) and what staff read (content/console.yml).
    content: Content
    console: Content
    rate_limits: RateLimits
    # Set by create_app once the bridge exists: the bridge runs its work through these services.
    dialogue: Dialogue = field(init=False)

    async def db(self, work: Callable[..., T], /, **kwargs) -> T:
        """Run one unit of database work in a worker thread, in its own transaction."""
        return await anyio.to_thread.run_sync(partial(self._in_transaction, work, **kwargs))

    async def read(self, work: Callable[..., T], /, **kwargs) -> T:
        """Like db(), for work that only reads: on SQLite it takes no write lock, so the many readers
        (long polls, the dialogue worker's look-ups) no longer queue behind one another and every write."""
        return await anyio.to_thread.run_sync(partial(self._in_transaction, work, read_only=True, **kwargs))

    def _in_transaction(self, work: Callable[..., T], read_only: bool = False, **kwargs) -> T:
        with session_scope(self.sessions) as session:
            if read_only:
                session.connection(execution_options={READ_ONLY: True})
            return work(session=session, **kwargs)


def services_of(connection: HTTPConnection) -> Services:
    """The running app's services, typed; a FastAPI dependency for requests and WebSockets alike."""
    return connection.app.state.services
