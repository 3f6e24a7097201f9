"""Rasa's REST channel, without the young person's words in Rasa's log.

Rasa's own REST channel logs the message's text whenever handling it fails or is cancelled, and
Rasa cancels it whenever the app stops waiting: the app's time budget for a slow Rasa, or the app
killed while it waits. This channel answers at the same URL (/webhooks/rest/webhook) and hands Rasa's
a message handler that catches both first, so the log says what happened and nothing of what was said.
"""

from __future__ import annotations

import logging
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint

logger = logging.getLogger(__name__)


class RestInputWithoutWords(RestInput):
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def handle_without_words_in_logs(message: UserMessage) -> None:
            try:
                await on_new_message(message)
            except CancelledError:
                # What Rasa's channel does too (answers what it has), without logging the text.
                logger.warning("the app stopped waiting for the answer to a message")
            except Exception as error:
                logger.error("a message could not be handled: %s", type(error).__name__)

        return super().blueprint(handle_without_words_in_logs)
