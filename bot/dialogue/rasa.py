"""A client for the Rasa server (REST channel and authenticated HTTP API) and the action server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

# In the metadata of every message the app tells Rasa: the message's seq in the app's conversation.
# Rasa keeps it in its tracker, so the app can see which messages Rasa has already heard (it says
# nothing about the young person).
MESSAGE_SEQ = "message_seq"


class DialogueUnavailable(Exception):
    """Rasa did not answer, answered with an error, or answered nonsense."""


@dataclass
class RasaClient:
    rasa_url: str
    token: str
    actions_url: str
    timeout: float
    _http: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self._http = httpx.AsyncClient(timeout=self.timeout)

    async def close(self) -> None:
        await self._http.aclose()

    async def send_message(self, sender_id: str, text: str, seq: int) -> list[dict[str, Any]]:
        """The bot's replies to one message (the app's `seq`): text, buttons and custom payloads."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": {MESSAGE_SEQ: seq}},
            )
            response.raise_for_status()
            replies = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(replies, list):
            raise DialogueUnavailable("unexpected reply shape")
        return replies

    async def parse(self, text: str) -> dict[str, Any]:
        """What the NLU reads in a message (intent and risk-cue entities), without running the dialogue."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/model/parse", params={"token": self.token}, json={"text": text}
            )
            response.raise_for_status()
            parse_data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(parse_data, dict):
            raise DialogueUnavailable("unexpected reply shape")
        return parse_data

    async def tracker_events(self, sender_id: str) -> list[dict[str, Any]]:
        """Every event of a conversation's tracker, oldest first."""
        try:
            response = await self._http.get(
                f"{self.rasa_url}/conversations/{sender_id}/tracker",
                params={"token": self.token, "include_events": "ALL"},
            )
            response.raise_for_status()
            events = response.json().get("events")
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise DialogueUnavailable(type(error).__name__) from error
        if not isinstance(events, list):
            raise DialogueUnavailable("unexpected reply shape")
        return events

    async def append_tracker_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Append events (e.g. pause, resume, slot resets) through Rasa's authenticated API."""
        try:
            response = await self._http.post(
                f"{self.rasa_url}/conversations/{sender_id}/tracker/events",
                params={"token": self.token, "include_events": "NONE"},
                json=events,
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise DialogueUnavailable(type(error).__name__) from error

    async def model_loaded(self) -> bool:
        try:
            response = await self._http.get(f"{self.rasa_url}/status", params={"token": self.token}, timeout=3)
            return response.status_code == 200 and bool(response.json().get("model_file"))
        except (httpx.HTTPError, ValueError):
            return False

    async def actions_healthy(self) -> bool:
        try:
            response = await self._http.get(f"{self.actions_url}/health", timeout=3)
            return response.status_code == 200
        except httpx.HTTPError:
            return False
