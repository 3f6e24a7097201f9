"""Notifications between app instances, through the local Redis server for real."""

import asyncio
import secrets

import pytest

from bot.notify import Notifier, RedisNotifier

REDIS_URL = "redis://127.0.0.1:6379/3"


def test_a_notification_reaches_another_instance_through_redis() -> None:
    async def scenario() -> dict:
        sender, receiver = RedisNotifier(REDIS_URL), RedisNotifier(REDIS_URL)
        await sender.start()
        await receiver.start()
        channel = f"conversation:{secrets.token_hex(4)}"
        try:
            async with receiver.subscribe(channel) as subscription:
                await asyncio.sleep(0.2)  # let the reader's subscription settle
                await sender.publish(channel, {"typing": "bot"})
                return await subscription.next(5)
        finally:
            await sender.stop()
            await receiver.stop()

    assert asyncio.run(scenario()) == {"typing": "bot"}


def test_other_channels_are_not_woken() -> None:
    async def scenario() -> dict | None:
        notifier = Notifier()
        async with notifier.subscribe("conversation:a") as subscription:
            await notifier.publish("conversation:b")
            return await subscription.next(0.2)

    assert asyncio.run(scenario()) is None


@pytest.mark.parametrize("make", [Notifier, lambda: RedisNotifier(REDIS_URL)])
def test_health(make) -> None:
    async def scenario() -> bool:
        notifier = make()
        await notifier.start()
        try:
            return await notifier.healthy()
        finally:
            await notifier.stop()

    assert asyncio.run(scenario()) is True
