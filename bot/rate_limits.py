"""Rate limits on the public API, with the maintained `limits` library (moving windows).

In memory by default; in Redis when BOT_REDIS_URL is set, so every app instance counts
together. Clients are told apart by an HMAC of their IP address under a key that changes
every day and lives only in memory, so no IP address is stored and yesterday's counts cannot
be tied to today's. Behind a school's or a mobile network's shared address many young people
look like one client: the defaults are generous for that reason.

If the limits' storage fails (Redis away), requests are let through: a young person in danger
must never be refused because of it.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import logging
import math
import secrets
import time
from datetime import date

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from bot.settings import Settings

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


# How often the in-memory counts drop their expired entries.
EXPIRY_INTERVAL_SECONDS = 1.0


class InMemoryCounts(MemoryStorage):
    """limits' in-memory storage, counting exactly as it does, with a cheaper clean-up of expired entries.

    The library starts a clean-up at every request, and it visits every key (one a client, one a
    conversation, for a minute) through a thread of its own: under load that was a tenth of the
    app's CPU. Here it runs at most once a second, in the event loop, without threads. Nothing it
    removes counts: a moving window only counts entries younger than the window, and the limiter
    asks for the window's start only when the window is full (the answer's Retry-After)."""

    def __init__(self) -> None:
        super().__init__()
        self._next_expiry = 0.0

    # The library's name for its clean-up scheduler, which every count calls
    # (tests/app/test_hostile_input.py checks that it still has it).
    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + EXPIRY_INTERVAL_SECONDS
        self.expire()

    def expire(self) -> None:
        """What the library's clean-up does, in one go: nothing awaits here, so no count runs meanwhile."""
        now = time.time()
        for key in list(self.events):
            events = self.events[key][: bisect.bisect_left(self.events[key], -now, key=lambda entry: -entry.expiry)]
            if events:
                self.events[key] = events
            else:
                self.events.pop(key, None)
                self.locks.pop(key, None)
        for key in list(self.expirations):
            if self.expirations[key] <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        storage = (
            storage_from_string(f"async+{settings.redis_url}", implementation="redispy")
            if settings.redis_url
            else InMemoryCounts()
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self.client_requests = parse(settings.limit_client_requests)
        self.client_conversations = parse(settings.limit_client_conversations)
        self.conversation_messages = parse(settings.limit_conversation_messages)
        self.client_logins = parse(settings.limit_client_logins)
        self.new_cases = parse(settings.limit_new_cases)
        self.comeback_failures = parse(settings.limit_comeback_failures)
        # One flood alert a minute is enough for the workers to notice; more would drown the console.
        self.flood_alerts = parse("1/minute")
        # A staff account locks, for the client that tried it only, after 5 wrong passwords in
        # 15 minutes: nobody can lock a worker out everywhere by guessing at their name.
        self.login_failures = parse("5/15 minutes")
        # Several instances must share the secret to count one client together.
        self._secret = settings.client_key_secret.encode() or secrets.token_bytes(32)
        self._day_key: tuple[date, bytes] | None = None

    def client_key(self, address: str | None) -> str:
        """An HMAC of the client's address under today's key: comparable today, never reversible to the address."""
        today = date.today()
        if self._day_key is None or self._day_key[0] != today:
            self._day_key = (today, hmac.new(self._secret, today.isoformat().encode(), hashlib.sha256).digest())
        return hmac.new(self._day_key[1], (address or "unknown").encode(), hashlib.sha256).hexdigest()

    async def hit(self, item: RateLimitItem, *identifiers: str) -> None:
        """Count one request; raises RateLimited, with the seconds to wait, when over the limit."""
        try:
            if await self._limiter.hit(item, *identifiers):
                return
            reset_at, _remaining = await self._limiter.get_window_stats(item, *identifiers)
        except Exception as error:
            logger.warning("rate limit storage unavailable, request let through: %s", type(error).__name__)
            return
        raise RateLimited(max(1, math.ceil(reset_at - time.time())))

    async def exhausted(self, item: RateLimitItem, *identifiers: str) -> bool:
        """True when the next hit would be over the limit (without counting one)."""
        try:
            return not await self._limiter.test(item, *identifiers)
        except Exception as error:
            logger.warning("rate limit storage unavailable: %s", type(error).__name__)
            return False

    async def count(self, item: RateLimitItem, *identifiers: str) -> None:
        """Count one occurrence (e.g. a failed sign-in) without refusing anything now."""
        try:
            await self._limiter.hit(item, *identifiers)
        except Exception as error:
            logger.warning("rate limit storage unavailable: %s", type(error).__name__)

    async def forget(self, item: RateLimitItem, *identifiers: str) -> None:
        try:
            await self._limiter.clear(item, *identifiers)
        except Exception as error:
            logger.warning("rate limit storage unavailable: %s", type(error).__name__)

    async def case_flood(self) -> bool:
        """Count one new case; True when more cases opened in the window than the cap and no alert
        was raised in the last minute (an alert, never a reason to drop a case)."""
        try:
            over_cap = not await self._limiter.hit(self.new_cases, "cases")
            return over_cap and await self._limiter.hit(self.flood_alerts, "flood-alerts")
        except Exception as error:
            logger.warning("rate limit storage unavailable, cases not counted: %s", type(error).__name__)
            return False
