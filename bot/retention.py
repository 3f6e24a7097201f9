"""Transcripts are kept only as long as needed (BOT_RETENTION_DAYS, short by default)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.exc import DBAPIError

from bot.conversation import service as conversations
from bot.database import utcnow
from bot.services import Services

logger = logging.getLogger(__name__)
PURGE_EVERY_SECONDS = 3600


async def purge_periodically(services: Services) -> None:
    while True:
        cutoff = utcnow() - timedelta(days=services.settings.transcript_retention_days)
        try:
            deleted = await services.db(conversations.purge_inactive_since, cutoff=cutoff)
            if deleted:
                logger.info("retention: deleted %d idle conversations", deleted)
        except DBAPIError:
            logger.warning("retention: database unavailable, will retry")
        await asyncio.sleep(PURGE_EVERY_SECONDS)
