"""What a running app holds: settings, the database, notifications, the dialogue engine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import anyio.to_thread
from sqlalchemy.orm import Session, sessionmaker

from bot.content import Content
from bot.database import READ_ONLY, session_scope
from bot.dialogue.rasa import RasaClient
from bot.notify import Notifier
from bot.rate_limits import RateLimits
from bot.settings import Settings

T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    sessions: sessionmaker[Session]
    notifier: Notifier
    rasa: RasaClient
    # What young people read (content/app.yml) and what staff read (content/console.yml).
    content: Content
    console: Content
    rate_limits: RateLimits

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
