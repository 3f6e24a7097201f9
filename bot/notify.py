"""Wake-ups for everyone waiting on a channel (a conversation, the staff queue).

A notification carries no message text: it only says "something new happened
on this channel", and listeners read what is new from the database by sequence
number. Ephemeral signals (typing) ride along as small dicts.

Embedded default: in-process fan-out. With several app instances, Redis
pub/sub carries the notifications between them and each instance fans out
locally.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
from starlette.websockets import WebSocket, WebSocketDisconnect

logger = logging.getLogger(__name__)

REDIS_CHANNEL_PREFIX = "youthchat:"


class Subscription:
    def __init__(self) -> None:
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=256)

    def deliver(self, message: dict[str, Any]) -> None:
        # The listener re-reads from the database on every wake-up, so a dropped
        # wake-up for a slow listener loses nothing.
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(message)

    async def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None


class LocalHub:
    """Fans a notification out to this process's subscribers of a channel."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def dispatch(self, channel: str, message: dict[str, Any]) -> None:
        for subscription in list(self._subscribers.get(channel, ())):
            subscription.deliver(message)

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        self._subscribers[channel].add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers[channel].discard(subscription)
            if not self._subscribers[channel]:
                del self._subscribers[channel]


class Notifier:
    """In-process notifier: the embedded default."""

    def __init__(self) -> None:
        self.hub = LocalHub()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, message: dict[str, Any] | None = None) -> None:
        self.hub.dispatch(channel, message or {})

    def subscribe(self, channel: str) -> contextlib.AbstractAsyncContextManager[Subscription]:
        return self.hub.subscribe(channel)

    async def healthy(self) -> bool:
        return True


class RedisNotifier(Notifier):
    """Notifications between app instances through Redis pub/sub."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis.asyncio as redis

        self._redis = redis.from_url(url)
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.psubscribe(f"{REDIS_CHANNEL_PREFIX}*")
        self._reader = asyncio.create_task(self._read(pubsub))

    async def stop(self) -> None:
        if self._reader:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._redis.aclose()

    async def _read(self, pubsub) -> None:
        while True:
            try:
                async for item in pubsub.listen():
                    if item["type"] != "pmessage":
                        continue
                    channel = item["channel"].decode()[len(REDIS_CHANNEL_PREFIX) :]
                    self.hub.dispatch(channel, json.loads(item["data"]))
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                logger.exception("redis notification reader failed; reconnecting")
                await asyncio.sleep(1)
                await pubsub.psubscribe(f"{REDIS_CHANNEL_PREFIX}*")

    async def publish(self, channel: str, message: dict[str, Any] | None = None) -> None:
        try:
            await self._redis.publish(REDIS_CHANNEL_PREFIX + channel, json.dumps(message or {}))
        except Exception:
            # Listeners poll the database when a wake-up is late, so a Redis
            # outage delays delivery on other instances instead of losing it;
            # this instance's own listeners are woken directly.
            logger.exception("redis publish failed; notifying this instance only")
            self.hub.dispatch(channel, message or {})

    async def healthy(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:
            return False


def make_notifier(redis_url: str) -> Notifier:
    return RedisNotifier(redis_url) if redis_url else Notifier()


def is_typing(note: dict[str, Any] | None) -> bool:
    """A typing signal ({"typing": who}) announces nothing stored: a listener need not read again."""
    return bool(note and note.get("typing"))


def conversation_channel(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


async def push_until_closed(websocket: WebSocket, push_once: Callable[[], Awaitable[None]]) -> None:
    """Run push_once over and over until the client goes away; a send to a closed
    socket also ends it. Structured (anyio) so nothing outlives the connection."""

    async with anyio.create_task_group() as group:

        async def watch_for_close() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while (await websocket.receive())["type"] != "websocket.disconnect":
                    pass
            group.cancel_scope.cancel()

        group.start_soon(watch_for_close)
        try:
            while True:
                await push_once()
        except (WebSocketDisconnect, RuntimeError):
            group.cancel_scope.cancel()
